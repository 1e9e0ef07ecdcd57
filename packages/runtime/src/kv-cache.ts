import { type Device, deviceZeros, release, type Tensor, writeSeq } from "@difflens/tensor";
import { InputError } from "./errors.ts";
import type { DecoderConfig } from "./families/model-family.ts";

/**
 * Rotated keys and values of every layer for a batch, preallocated to `capacity` positions so decoding never
 * reallocates, on the device of the backend current when it is made (the model's). Layout per layer:
 * [batch, nKvHeads, capacity, dHead], so the first `length` rows of each (row, kv head) block are one contiguous
 * [length, dHead] matrix that a batched GEMM reads in place (`bRows`). The bookkeeping stays on the host:
 * `keyMask` remembers which cached positions are padding (left-padded prompts), `nextPosition` the position ids.
 */
export class KvCache {
  /** Per layer [batch, nKvHeads, capacity, dHead] f32. */
  readonly keys: Tensor[];
  readonly values: Tensor[];
  readonly device: Device;
  /** [batch, capacity] 1 = real token. */
  readonly keyMask: Uint8Array;
  /** Next position id per row (real tokens so far). */
  readonly nextPosition: Int32Array;
  private stored = 0;

  constructor(
    readonly config: DecoderConfig,
    readonly batch: number,
    readonly capacity: number,
  ) {
    const shape = [batch, config.nKvHeads, capacity, config.dHead];
    this.keys = Array.from({ length: config.nLayers }, () => deviceZeros(shape));
    this.values = Array.from({ length: config.nLayers }, () => deviceZeros(shape));
    this.device = this.keys[0]?.device ?? "cpu";
    this.keyMask = new Uint8Array(batch * capacity);
    this.nextPosition = new Int32Array(batch);
  }

  /** Positions stored (same for every row; pads included). */
  get length(): number {
    return this.stored;
  }

  /** Throws before a call that would overflow. */
  ensureRoom(seq: number): void {
    if (this.stored + seq > this.capacity) {
      throw new InputError(
        "SEQUENCE_TOO_LONG",
        `KV cache holds ${this.capacity} positions; ${this.stored} used, ${seq} more asked`,
        { expected: this.capacity, got: this.stored + seq },
      );
    }
  }

  /** Writes one layer's new keys/values ([batch, seq, nKvHeads, dHead]) at positions length..length+seq. */
  write(layer: number, kRot: Tensor, v: Tensor, seq: number): void {
    const shape = [this.batch, seq, this.config.nKvHeads, this.config.dHead];
    writeSeq(this.keys[layer]!, kRot.reshape(shape), this.stored);
    writeSeq(this.values[layer]!, v.reshape(shape), this.stored);
  }

  /** 1 where key j of row b is real, for the `length` cached keys then this call's `seq` columns. // [batch·keys] */
  keyMaskWith(attentionMask: Uint8Array, seq: number): Uint8Array {
    const keys = this.stored + seq;
    const out = new Uint8Array(this.batch * keys);
    for (let b = 0; b < this.batch; b++) {
      out.set(this.keyMask.subarray(b * this.capacity, b * this.capacity + this.stored), b * keys);
      out.set(attentionMask.subarray(b * seq, (b + 1) * seq), b * keys + this.stored);
    }
    return out;
  }

  /** Whether any cached position is padding. */
  hasPads(): boolean {
    for (let b = 0; b < this.batch; b++)
      for (let j = 0; j < this.stored; j++) if (this.keyMask[b * this.capacity + j] === 0) return true;
    return false;
  }

  /** Frees the device buffers now (a hint; nothing on the CPU). The cache is unusable afterwards. */
  release(): void {
    for (const t of [...this.keys, ...this.values]) release(t);
  }

  /**
   * Forgets positions `length`… (their keys are overwritten by the next call), so several continuations can be
   * run from one cached prefix: e.g. one single-token step per intervention after a shared prompt pass.
   */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.stored) {
      throw new InputError("BAD_ARGUMENT", `KvCache.truncate: length ${length} outside [0, ${this.stored}]`, {
        expected: `[0, ${this.stored}]`,
        got: length,
      });
    }
    for (let b = 0; b < this.batch; b++) {
      // position ids count real tokens only, so each forgotten real key moves the row's next id back by one
      for (let j = length; j < this.stored; j++) this.nextPosition[b]! -= this.keyMask[b * this.capacity + j]!;
    }
    this.stored = length;
  }

  /** After all layers of a call: records its mask and advances. */
  commit(seq: number, attentionMask: Uint8Array, positionIds: Int32Array): void {
    for (let b = 0; b < this.batch; b++) {
      for (let s = 0; s < seq; s++) {
        const real = attentionMask[b * seq + s]!;
        this.keyMask[b * this.capacity + this.stored + s] = real;
        if (real) this.nextPosition[b] = positionIds[b * seq + s]! + 1;
      }
    }
    this.stored += seq;
  }
}
