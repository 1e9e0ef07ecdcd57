/// <reference types="@webgpu/types" preserve="true" />
import { TensorError } from "../../errors.ts";
import type { GpuFlags } from "./adapter.ts";

/** Dispatches per command buffer: submitted then, so the GPU starts while the host keeps enqueuing. */
const DISPATCHES_PER_SUBMIT = 64;
/** Uniforms of one command buffer share a slab; a dispatch whose uniforms do not fit submits first. */
const UNIFORM_SLAB_BYTES = 64 * 1024;
/** Upload staging buffers pending in one command buffer; beyond this it is submitted (frees host memory early). */
const STAGING_BYTES_PER_SUBMIT = 256 * 1024 * 1024;

/**
 * The one ordered stream of GPU work: every dispatch, copy, clear and upload is recorded into one command encoder
 * (dispatches share a compute pass) and submitted every DISPATCHES_PER_SUBMIT dispatches, before a read and at sync.
 * Because nothing writes device memory outside this stream (no queue.writeBuffer into tensors), a pooled buffer can
 * be reused as soon as its tensor is gone: later writes are ordered after earlier reads.
 */
export class CommandStream {
  private encoder: GPUCommandEncoder | undefined;
  private pass: GPUComputePassEncoder | undefined;
  private dispatches = 0;
  /** Buffers to destroy after the next submit: upload staging, and pool buffers retired while commands used them. */
  private afterSubmit: GPUBuffer[] = [];
  private stagingBytes = 0;
  private slab: GPUBuffer | undefined;
  private readonly slabHost = new Uint8Array(UNIFORM_SLAB_BYTES);
  private slabUsed = 0;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly device: GPUDevice,
    private readonly flags: GpuFlags,
  ) {}

  /** The encoder, outside any compute pass (for copies and clears). */
  commands(): GPUCommandEncoder {
    this.pass?.end();
    this.pass = undefined;
    this.encoder ??= this.device.createCommandEncoder({ label: "difflens" });
    return this.encoder;
  }

  /** Records one dispatch (bind group already built against this stream's uniform binding). */
  dispatch(pipeline: GPUComputePipeline, group: GPUBindGroup, workgroups: readonly [number, number?, number?]): void {
    this.pass ??= this.commands().beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, group);
    this.pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    if (++this.dispatches >= DISPATCHES_PER_SUBMIT) this.flush();
  }

  /**
   * A binding of `uniforms` in this command buffer's slab (written to the GPU right before the submit). Call before
   * building the bind group of the dispatch that uses it: a full slab submits first.
   */
  uniform(uniforms: ArrayBuffer | ArrayBufferView, align: number): GPUBufferBinding {
    const bytes = ArrayBuffer.isView(uniforms)
      ? new Uint8Array(uniforms.buffer, uniforms.byteOffset, uniforms.byteLength)
      : new Uint8Array(uniforms);
    const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
    if (size > UNIFORM_SLAB_BYTES)
      throw new TensorError("DEVICE_LIMIT", `webgpu: uniforms of ${size} bytes exceed ${UNIFORM_SLAB_BYTES}`);
    let offset = Math.ceil(this.slabUsed / align) * align;
    if (offset + size > UNIFORM_SLAB_BYTES) {
      this.flush();
      offset = 0;
    }
    this.commands();
    this.slab ??= this.device.createBuffer({
      size: UNIFORM_SLAB_BYTES,
      usage: this.flags.usage.UNIFORM | this.flags.usage.COPY_DST,
    });
    this.slabHost.fill(0, offset, offset + size);
    this.slabHost.set(bytes, offset);
    this.slabUsed = offset + size;
    return { buffer: this.slab, offset, size };
  }

  /** Records a copy of host bytes into `dst` through a staging buffer (ordered with everything else). */
  upload(dst: GPUBuffer, bytes: Uint8Array): void {
    const staging = this.device.createBuffer({
      size: bytes.byteLength,
      usage: this.flags.usage.COPY_SRC,
      mappedAtCreation: true,
    });
    new Uint8Array(staging.getMappedRange()).set(bytes);
    staging.unmap();
    this.commands().copyBufferToBuffer(staging, 0, dst, 0, bytes.byteLength);
    this.afterSubmit.push(staging);
    this.stagingBytes += bytes.byteLength;
    if (this.stagingBytes > STAGING_BYTES_PER_SUBMIT) this.flush();
  }

  /** Destroys `buffer` once the commands recorded so far are submitted (at once when nothing is recorded). */
  retire(buffer: GPUBuffer): void {
    if (this.encoder) this.afterSubmit.push(buffer);
    else buffer.destroy();
  }

  /** Submits everything recorded now. */
  flush(): void {
    if (!this.encoder) return;
    this.pass?.end();
    this.pass = undefined;
    if (this.slab && this.slabUsed > 0) this.device.queue.writeBuffer(this.slab, 0, this.slabHost, 0, this.slabUsed);
    this.device.queue.submit([this.encoder.finish()]);
    // Destroying after submit is deferred by the implementation until the submitted work is done.
    for (const b of this.afterSubmit) b.destroy();
    this.slab?.destroy();
    this.encoder = undefined;
    this.slab = undefined;
    this.slabUsed = 0;
    this.afterSubmit = [];
    this.stagingBytes = 0;
    this.dispatches = 0;
  }

  /** One submit for every read started in this tick (toHostAll reads a batch with one submit). */
  flushSoon(): Promise<void> {
    this.flushing ??= Promise.resolve().then(() => {
      this.flushing = undefined;
      this.flush();
    });
    return this.flushing;
  }
}
