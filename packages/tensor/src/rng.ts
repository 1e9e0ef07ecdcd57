import { TensorError } from "./errors.ts";

/**
 * Seeded random numbers that give the same stream on every machine and Node version.
 *
 * Generator: xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c) —
 * 128 bits of state, period 2^128 − 1, only 32-bit integer ops (Math.imul, shifts, rotations), which
 * JavaScript evaluates identically everywhere. Seeding: the 64-bit seed is expanded into the four state
 * words by splitmix64 (Steele, Lea & Flood 2014; the seeding the xoshiro authors recommend), run in BigInt.
 *
 * Derived values:
 * - `nextFloat()`: 53 random bits → a double in [0, 1) (27 high bits of one word, 26 of the next).
 * - `nextFloat32()`: 24 random bits → a value in [0, 1) that is exactly representable in f32.
 * - `normal()`: Box–Muller (u1 ∈ (0,1], u2 ∈ [0,1): r = √(−2 ln u1), z = r·cos 2πu2 and then r·sin 2πu2),
 *   so two normals per two uniforms; the spare is part of the state. V8 computes log/cos/sin with its own
 *   fdlibm port, not the C library, so these too agree across machines.
 * - `int(n)`: unbiased integer in [0, n) by rejection of the top partial range.
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  constructor(seed: number | bigint) {
    let x: bigint;
    if (typeof seed === "bigint") x = BigInt.asUintN(64, seed);
    else if (Number.isSafeInteger(seed)) x = BigInt.asUintN(64, BigInt(seed));
    else throw new TensorError("RNG_BAD_SEED", `Rng: seed must be a safe integer or a bigint, got ${seed}`);
    const words: number[] = [];
    for (let i = 0; i < 2; i++) {
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      const z = splitmix64Mix(x);
      words.push(Number(z & 0xffffffffn), Number(z >> 32n));
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    // The all-zero state is the one fixed point of xoshiro; splitmix64 cannot produce it for two
    // consecutive outputs in practice, but guard anyway.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next raw 32-bit output, as an unsigned integer in [0, 2^32). */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [0, 1) with 24 random bits (exact in f32). */
  nextFloat32(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }

  /** Standard normal (mean 0, variance 1) by Box–Muller. */
  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u1 = 1 - this.nextFloat(); // (0, 1]: log is finite
    const u2 = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spare = r * Math.sin(angle);
    return r * Math.cos(angle);
  }

  /** Unbiased integer in [0, n), 1 ≤ n ≤ 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) {
      throw new TensorError("RNG_BAD_RANGE", `Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n); // accept x < limit so every residue is equally likely
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i]!;
      array[i] = array[j]!;
      array[j] = tmp;
    }
    return array;
  }

  /**
   * An independent generator for a named purpose ("init", "shuffle", …), derived from this generator's
   * current state and the label (FNV-1a 64 of its UTF-8 bytes) through splitmix64. Does not advance this
   * generator: the same state and label always give the same child.
   */
  fork(label: string): Rng {
    let h = 0xcbf29ce484222325n;
    for (const byte of new TextEncoder().encode(label)) {
      h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
    }
    const stateWord =
      (BigInt(this.s0 >>> 0) | (BigInt(this.s1 >>> 0) << 32n)) ^
      (BigInt(this.s2 >>> 0) << 16n) ^
      (BigInt(this.s3 >>> 0) << 40n);
    return new Rng(splitmix64Mix(BigInt.asUintN(64, stateWord ^ h)));
  }

  /** A plain-JSON snapshot; `Rng.fromState(rng.state())` continues the exact same stream. */
  state(): RngState {
    return {
      algorithm: "xoshiro128**",
      s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0],
      spare: this.spare,
    };
  }

  static fromState(state: RngState): Rng {
    const ok =
      state !== null &&
      typeof state === "object" &&
      state.algorithm === "xoshiro128**" &&
      Array.isArray(state.s) &&
      state.s.length === 4 &&
      state.s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) &&
      (state.spare === null || typeof state.spare === "number");
    if (!ok) {
      throw new TensorError(
        "RNG_BAD_STATE",
        `Rng.fromState: expected { algorithm: "xoshiro128**", s: [4 × u32], spare: number | null }, got ${JSON.stringify(state)}`,
      );
    }
    const rng = new Rng(0);
    [rng.s0, rng.s1, rng.s2, rng.s3] = state.s.map((w) => w | 0) as [number, number, number, number];
    rng.spare = state.spare;
    return rng;
  }
}

export interface RngState {
  algorithm: "xoshiro128**";
  /** The four 32-bit state words, unsigned. */
  s: number[];
  /** The second Box–Muller normal, not yet returned. */
  spare: number | null;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The splitmix64 output function (mixes one 64-bit word). */
function splitmix64Mix(x: bigint): bigint {
  let z = x;
  z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
  z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
  return z ^ (z >> 31n);
}
