import { describeValue, StatsError } from "./errors.ts";

const MASK64 = (1n << 64n) - 1n;

/** One SplitMix64 step (Steele, Lea & Flood 2014): returns [next state, 64-bit output]. */
function splitMix64(state: bigint): [bigint, bigint] {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [next, z ^ (z >> 31n)];
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Anything that can seed an Rng: a non-negative safe integer or a bigint (taken modulo 2^64). */
export type Seed = number | bigint;

/**
 * Seeded pseudo-random generator: xoshiro128** 1.1 (Blackman & Vigna 2018) — 128-bit state, period 2^128 − 1,
 * 32-bit outputs — with the state filled from two SplitMix64 outputs of the 64-bit seed (low word first).
 * Integer and float outputs use only 32-bit integer arithmetic, so a seed gives the same stream on every machine
 * and JavaScript engine. Not cryptographic.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(state: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v >>> 0) as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) {
      throw new StatsError("INVALID_ARGUMENT", {
        where: "Rng",
        field: "state",
        expected: "a non-zero 128-bit state",
        got: "all zeros",
      });
    }
  }

  /** A generator seeded from a 64-bit seed through SplitMix64. */
  static fromSeed(seed: Seed): Rng {
    if (
      !(
        (typeof seed === "number" && Number.isSafeInteger(seed) && seed >= 0) ||
        (typeof seed === "bigint" && seed >= 0n)
      )
    ) {
      throw new StatsError("INVALID_ARGUMENT", {
        where: "Rng.fromSeed",
        field: "seed",
        expected: "a non-negative safe integer or bigint",
        got: describeValue(seed),
      });
    }
    let state = BigInt(seed) & MASK64;
    let w0: bigint;
    let w1: bigint;
    [state, w0] = splitMix64(state);
    [state, w1] = splitMix64(state);
    const lo = (w: bigint) => Number(w & 0xffffffffn);
    const hi = (w: bigint) => Number(w >> 32n);
    return new Rng([lo(w0), hi(w0), lo(w1), hi(w1)]);
  }

  /** Restores a generator from `state()` (for checkpoint and resume). */
  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4 || !state.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
      throw new StatsError("INVALID_ARGUMENT", {
        where: "Rng.fromState",
        field: "state",
        expected: "four 32-bit unsigned integers",
        got: describeValue(state),
      });
    }
    return new Rng(state as [number, number, number, number]);
  }

  /** The 128-bit state as four uint32 words; `Rng.fromState(rng.state())` continues the same stream. */
  state(): [number, number, number, number] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits: (a·2^26 + b) / 2^53 from the top 27 and 26 bits of two outputs. */
  nextFloat64(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * Uniform integer in [0, bound), unbiased by rejection: for bound ≤ 2^32 reject outputs below 2^32 mod bound, then
   * reduce modulo bound; for larger bounds (≤ 2^53) the same on 53-bit integers built as in nextFloat64.
   */
  nextInt(bound: number): number {
    if (!Number.isSafeInteger(bound) || bound < 1) {
      throw new StatsError("INVALID_ARGUMENT", {
        where: "Rng.nextInt",
        field: "bound",
        expected: "an integer in [1, 2^53]",
        got: String(bound),
      });
    }
    if (bound <= 0x100000000) {
      const threshold = 0x100000000 % bound;
      for (;;) {
        const r = this.nextUint32();
        if (r >= threshold) return r % bound;
      }
    }
    const threshold = 9007199254740992 % bound;
    for (;;) {
      const r = this.nextFloat64() * 9007199254740992;
      if (r >= threshold) return r % bound;
    }
  }

  /** Fisher–Yates shuffle in place, from the last index down (j = nextInt(i + 1)); returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** k distinct indices from [0, n) in random order (partial Fisher–Yates on 0..n−1). */
  sampleWithoutReplacement(n: number, k: number): Int32Array {
    if (!Number.isSafeInteger(k) || k < 0 || k > n) {
      throw new StatsError("INVALID_ARGUMENT", {
        where: "Rng.sampleWithoutReplacement",
        field: "k",
        expected: `an integer in [0, ${n}]`,
        got: String(k),
      });
    }
    const pool = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.nextInt(n - i);
      const tmp = pool[i] as number;
      pool[i] = pool[j] as number;
      pool[j] = tmp;
    }
    return pool.slice(0, k);
  }

  /**
   * Standard normal deviate by the Marsaglia polar method. Uses Math.log and Math.sqrt, which V8 computes the same
   * way everywhere, but the ECMAScript spec does not pin them down; the integer streams above are exact.
   */
  nextNormal(): number {
    for (;;) {
      const u = 2 * this.nextFloat64() - 1;
      const v = 2 * this.nextFloat64() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) return u * Math.sqrt((-2 * Math.log(s)) / s);
    }
  }

  /** A new generator seeded from 64 bits drawn from this one: a deterministic, practically independent child stream. */
  split(): Rng {
    const hi = BigInt(this.nextUint32());
    const lo = BigInt(this.nextUint32());
    return Rng.fromSeed((hi << 32n) | lo);
  }
}

/** A generator from a seed, or the generator itself when one is passed (so callers can share a stream). */
export function toRng(seedOrRng: Seed | Rng): Rng {
  return seedOrRng instanceof Rng ? seedOrRng : Rng.fromSeed(seedOrRng);
}
