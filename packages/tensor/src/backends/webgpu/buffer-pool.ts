/// <reference types="@webgpu/types" preserve="true" />

/**
 * A size-bucketed pool of storage buffers. Buckets are 2^k, 1.25·2^k, 1.5·2^k and 1.75·2^k bytes (at most 25% slack),
 * so a freed activation is reused by the next one of about its size. Buffers go back to the pool when their tensor
 * is released or garbage-collected; reuse is safe because every write to a buffer goes through the one command
 * stream in order (no queue.writeBuffer into pooled buffers). Free buffers above `maxFreeBytes` are retired
 * (destroyed after the next submit).
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private freeBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number,
    private readonly maxFreeBytes: number,
    /** The largest buffer the device allows (a bucket is capped there: a request that fits stays in). */
    private readonly maxBufferBytes: number,
    /**
     * Destroys a buffer the pool does not keep. Not `buffer.destroy()` at once: commands recorded but not yet
     * submitted may still use it, and a destroyed buffer in a submit is a validation error.
     */
    private readonly retire: (buffer: GPUBuffer) => void,
  ) {}

  /** A buffer of at least `bytes` (the bucket size), from the pool when one is free. */
  take(bytes: number): GPUBuffer {
    const size = Math.min(bucketSize(bytes), Math.floor(this.maxBufferBytes / 4) * 4);
    const reused = this.free.get(size)?.pop();
    if (reused) {
      this.freeBytes -= size;
      return reused;
    }
    return this.device.createBuffer({ size, usage: this.usage });
  }

  /** Gives a buffer back (its size must be a bucket size, as `take` returns). */
  give(buffer: GPUBuffer): void {
    const size = buffer.size;
    if (this.freeBytes + size > this.maxFreeBytes) {
      this.retire(buffer);
      return;
    }
    let list = this.free.get(size);
    if (!list) {
      list = [];
      this.free.set(size, list);
    }
    list.push(buffer);
    this.freeBytes += size;
  }

  /** Destroys every free buffer. */
  clear(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.freeBytes = 0;
  }
}

/** The bucket a request of `bytes` falls in: ≥ 16 bytes, a multiple of 16, at most 25% above the request. */
export function bucketSize(bytes: number): number {
  const min = Math.max(16, bytes);
  if (min <= 64) return Math.ceil(min / 16) * 16;
  const power = 2 ** Math.floor(Math.log2(min));
  const step = power / 4;
  return Math.ceil(min / step) * step;
}
