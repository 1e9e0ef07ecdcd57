import { Tensor } from "@difflens/tensor";
import type { Qwen2Config } from "./config/qwen2-config.ts";
import { InputError } from "./errors.ts";

/**
 * Rotated keys and values of every layer for a batch, preallocated to `capacity` positions so decoding never
 * reallocates. Layout per layer: [batch, nKvHeads, capacity, dHead], so the first `length` rows of each
 * (row, kv head) block are one contiguous [length, dHead] matrix that a GEMM reads in place.
 * `keyMask` remembers which cached positions are padding (left-padded prompts).
 */
export class KvCache {
  readonly keys: Float32Array[];
  readonly values: Float32Array[];
  /** [batch, capacity] 1 = real token. */
  readonly keyMask: Uint8Array;
  /** Next position id per row (real tokens so far). */
  readonly nextPosition: Int32Array;
  private stored = 0;

  constructor(
    readonly config: Qwen2Config,
    readonly batch: number,
    readonly capacity: number,
  ) {
    const perLayer = batch * config.nKvHeads * capacity * config.dHead;
    this.keys = Array.from({ length: config.nLayers }, () => new Float32Array(perLayer));
    this.values = Array.from({ length: config.nLayers }, () => new Float32Array(perLayer));
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
    const { nKvHeads, dHead } = this.config;
    const kSrc = kRot.data as Float32Array;
    const vSrc = v.data as Float32Array;
    const kDst = this.keys[layer]!;
    const vDst = this.values[layer]!;
    for (let b = 0; b < this.batch; b++) {
      for (let s = 0; s < seq; s++) {
        for (let h = 0; h < nKvHeads; h++) {
          const from = ((b * seq + s) * nKvHeads + h) * dHead;
          const to = ((b * nKvHeads + h) * this.capacity + this.stored + s) * dHead;
          kDst.set(kSrc.subarray(from, from + dHead), to);
          vDst.set(vSrc.subarray(from, from + dHead), to);
        }
      }
    }
  }

  /** [length, dHead] views of the cached keys and values of one (row, kv head), valid `keyLength` rows. */
  view(layer: number, b: number, kvHead: number, keyLength: number): { k: Tensor<"f32">; v: Tensor<"f32"> } {
    const { nKvHeads, dHead } = this.config;
    const start = (b * nKvHeads + kvHead) * this.capacity * dHead;
    const end = start + keyLength * dHead;
    return {
      k: new Tensor("f32", [keyLength, dHead], this.keys[layer]!.subarray(start, end)),
      v: new Tensor("f32", [keyLength, dHead], this.values[layer]!.subarray(start, end)),
    };
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
