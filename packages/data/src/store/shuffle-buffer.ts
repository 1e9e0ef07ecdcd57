import type { Rng } from "@difflens/tensor";

/**
 * A fixed-capacity pool of rows. Batches are drawn uniformly at random from the pool (swap-remove), so
 * consecutive batches mix rows from many shards and positions — the usual activation-buffer shuffle.
 */
export class ShuffleBuffer {
  private readonly rows: Float32Array; // [capacity, width]
  private count = 0;

  constructor(
    readonly capacity: number,
    readonly width: number,
    private readonly rng: Rng,
  ) {
    this.rows = new Float32Array(capacity * width);
  }

  get size(): number {
    return this.count;
  }
  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Copies rows from `source` (starting at row `from`) until full; returns how many rows were taken. */
  push(source: Float32Array, from: number): number {
    const available = source.length / this.width - from;
    const n = Math.min(available, this.capacity - this.count);
    this.rows.set(source.subarray(from * this.width, (from + n) * this.width), this.count * this.width);
    this.count += n;
    return n;
  }

  /** Removes `n` uniformly chosen rows. */
  take(n: number): Float32Array {
    const out = new Float32Array(n * this.width);
    const w = this.width;
    for (let i = 0; i < n; i++) {
      const pick = this.rng.int(this.count);
      out.set(this.rows.subarray(pick * w, pick * w + w), i * w);
      this.count--;
      if (pick !== this.count) this.rows.copyWithin(pick * w, this.count * w, this.count * w + w);
    }
    return out;
  }

  /** Removes the first `n` rows in order (no shuffling). */
  takeInOrder(n: number): Float32Array {
    const out = this.rows.slice(0, n * this.width);
    this.rows.copyWithin(0, n * this.width, this.count * this.width);
    this.count -= n;
    return out;
  }
}
