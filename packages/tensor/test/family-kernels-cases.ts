/**
 * The kernels the new model families need (issue 22) — tanhSoftcap, geluTanhGate, rmsNorm's weightOffset, ropeInPlace's
 * invFreq, sliding windows in softmax and maskScores — as a case table run by family-kernels.test.ts (js, native on
 * every ISA path) and webgpu-family-kernels.test.ts. Expected values are float64 math written here from the
 * definitions, independently of the backends. Each case runs the public op on the current backend (`toDevice` /
 * `toHost` are no-ops on a CPU backend) and returns what to compare:
 *   tol: relative error ‖a − b‖ / ‖b‖ over the output (test/reference.ts), as the parity suite;
 *   absTol: max |a − b| ≤ absTol · max(1, |b|) elementwise (the tanh-based kernels: a vector tanh is ~1e-7 absolute);
 *   tol 0: equal values (NaN = NaN, −0 = 0, ±Infinity themselves: saturation and masks).
 */
import {
  fromArray,
  geluTanhGate,
  maskScores,
  Rng,
  randn,
  rmsNorm,
  ropeInPlace,
  softmax,
  type Tensor,
  tanhSoftcap,
  toDevice,
  toFloat32Array,
  toHost,
} from "../src/index.ts";
import { refRope, refSoftmax, relErr } from "./reference.ts";

export interface FamilyCase {
  name: string;
  /** WGSL leaves NaN handling to the implementation: checked on the CPU backends only. */
  cpuOnly?: boolean;
  run: () => Promise<{ actual: ArrayLike<number>; expected: ArrayLike<number>; tol?: number; absTol?: number }>;
}

const rng = new Rng(22);
const rand = (shape: number[], std = 1): Tensor => randn(shape, rng, std);
const host = async (t: Tensor): Promise<Float32Array> => (await toHost(t)).data as Float32Array;
const arr = (t: Tensor): Float32Array => t.data as Float32Array;

/** The accuracy the tanh-based kernels promise: ≤ 2e-6 absolute for |x| ≤ 10 (relative above 1). */
export const TANH_ABS_TOL = 2e-6;

export const refTanhSoftcap = (x: number, cap: number): number => cap * Math.tanh(x / cap);
export const refGeluTanh = (x: number): number =>
  0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

function refRmsNormOffset(x: Float32Array, w: Float32Array, eps: number, offset: number): Float64Array {
  const d = w.length;
  const out = new Float64Array(x.length);
  for (let r = 0; r * d < x.length; r++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += x[r * d + j]! ** 2;
    const inv = 1 / Math.sqrt(ss / d + eps);
    for (let j = 0; j < d; j++) out[r * d + j] = x[r * d + j]! * inv * (offset + w[j]!);
  }
  return out;
}

/** Rope with given inverse frequencies: angle f32(pos · invFreq[i]) (HF's float32 recipe), rotation in float64. */
function refRopeInvFreq(x: Float32Array, pos: Int32Array, shape: number[], inv: Float32Array): Float64Array {
  const [tokens, heads, headDim] = shape as [number, number, number];
  const half = inv.length;
  const out = Float64Array.from(x);
  for (let t = 0; t < tokens; t++)
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(pos[t]! * inv[i]!);
      for (let h = 0; h < heads; h++) {
        const b = (t * heads + h) * headDim;
        out[b + i] = x[b + i]! * Math.cos(angle) - x[b + i + half]! * Math.sin(angle);
        out[b + i + half] = x[b + i + half]! * Math.cos(angle) + x[b + i]! * Math.sin(angle);
      }
    }
  return out;
}

/** Softmax of each row over keys j with j ≤ q + offset and q + offset − j < window (q = row mod queries); others 0. */
function refWindowSoftmax(x: Float32Array, n: number, queries: number, offset: number, window: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r * n < x.length; r++) {
    const p = (r % queries) + offset;
    const keys = Array.from({ length: n }, (_, j) => j).filter((j) => j <= p && p - j < window);
    if (keys.length === 0) continue;
    const m = Math.max(...keys.map((j) => x[r * n + j]!));
    const s = keys.reduce((acc, j) => acc + Math.exp(x[r * n + j]! - m), 0);
    for (const j of keys) out[r * n + j] = Math.exp(x[r * n + j]! - m) / s;
  }
  return out;
}

/** Sweeps [−10, 10] densely, plus random larger values (the accuracy claim) — and the saturated tails. */
const sweep = (n: number, lo: number, hi: number): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
const SATURATING = [10, -10, 12.5, -17, 1e4, -1e4, 3e7, -3e7, 1e30, -1e30, 3.4e38, -3.4e38, Infinity, -Infinity];

export const familyCases: FamilyCase[] = [
  {
    name: "tanhSoftcap cap 1 on [−10, 10] (tanh itself)",
    async run() {
      const x = sweep(4099, -10, 10);
      const y = await host(tanhSoftcap(toDevice(fromArray(x, [x.length])), 1));
      return { actual: y, expected: Float64Array.from(x, (v) => Math.tanh(v)), absTol: TANH_ABS_TOL };
    },
  },
  {
    name: "tanhSoftcap cap 30 / 50 on logits ~ N(0, 40²), odd length",
    async run() {
      const x = rand([3, 333], 40);
      const a = await host(tanhSoftcap(toDevice(x), 30));
      const b = await host(tanhSoftcap(toDevice(x), 50));
      return {
        actual: [...a, ...b],
        expected: [
          ...Array.from(arr(x), (v) => refTanhSoftcap(v, 30)),
          ...Array.from(arr(x), (v) => refTanhSoftcap(v, 50)),
        ],
        absTol: TANH_ABS_TOL,
      };
    },
  },
  {
    name: "tanhSoftcap saturates exactly to ±cap, no NaN",
    async run() {
      const x = Float32Array.from([...SATURATING, 0, -0].map((v) => v * 7));
      const y = await host(tanhSoftcap(toDevice(fromArray(x, [x.length])), 7));
      return { actual: y, expected: Array.from(x, (v) => (v === 0 ? v : Math.sign(v) * 7)), tol: 0 };
    },
  },
  {
    name: "tanhSoftcap and geluTanhGate keep NaN",
    cpuOnly: true,
    async run() {
      const x = fromArray([Number.NaN, 1], [2]);
      const y = [...(await host(tanhSoftcap(toDevice(x), 3))), ...(await host(geluTanhGate(toDevice(x), toDevice(x))))];
      return {
        actual: y,
        expected: [Number.NaN, refTanhSoftcap(1, 3), Number.NaN, refGeluTanh(1)],
        absTol: TANH_ABS_TOL,
      };
    },
  },
  {
    name: "geluTanhGate on [−10, 10] (up = 1: gelu_tanh itself)",
    async run() {
      const g = sweep(4097, -10, 10);
      const y = await host(
        geluTanhGate(
          toDevice(fromArray(g, [g.length])),
          toDevice(fromArray(new Float32Array(g.length).fill(1), [g.length])),
        ),
      );
      return { actual: y, expected: Float64Array.from(g, refGeluTanh), absTol: TANH_ABS_TOL };
    },
  },
  {
    name: "geluTanhGate random [5, 1023] · up",
    async run() {
      const g = rand([5, 1023], 2);
      const u = rand([5, 1023]);
      const y = await host(geluTanhGate(toDevice(g), toDevice(u)));
      return { actual: y, expected: Float64Array.from(arr(g), (v, i) => refGeluTanh(v) * arr(u)[i]!), tol: 1e-6 };
    },
  },
  {
    name: "geluTanhGate saturates: gelu(x) = x exactly for large x, 0 for large −x, never NaN",
    async run() {
      const g = Float32Array.from(SATURATING.filter((v) => Number.isFinite(v) && Math.abs(v) < 1e38));
      const u = Float32Array.from(g, (_, i) => 1 + i / 8);
      const y = await host(geluTanhGate(toDevice(fromArray(g, [g.length])), toDevice(fromArray(u, [u.length]))));
      // −0 === 0 in compareCase: either is "saturates to 0".
      return { actual: y, expected: Array.from(g, (v, i) => (v > 0 ? Math.fround(v * u[i]!) : 0)), tol: 0 };
    },
  },
  ...(
    [
      [3, 17, "f32"],
      [7, 1023, "bf16"],
    ] as const
  ).map(
    ([rows, d, dtype]): FamilyCase => ({
      name: `rmsNorm weightOffset 1 [${rows}, ${d}] w=${dtype}`,
      async run() {
        const x = rand([rows, d], 3);
        const w = fromArray(arr(rand([d], 0.2)), [d], dtype);
        const y = await host(rmsNorm(toDevice(x), toDevice(w), 1e-6, { weightOffset: 1 }));
        return { actual: y, expected: refRmsNormOffset(arr(x), toFloat32Array(w), 1e-6, 1), tol: 1e-6 };
      },
    }),
  ),
  {
    name: "ropeInPlace with invFreq (llama3-style scaled, positions to 32k, rotaryDim < headDim)",
    async run() {
      const [tokens, heads, headDim, rotary] = [9, 3, 24, 16];
      const x = rand([tokens, heads, headDim]);
      const pos = Int32Array.from({ length: tokens }, (_, t) => (t === 0 ? 0 : rng.int(32000)));
      // Low frequencies divided by 8, high ones kept, a smooth band between: the shape of llama3 scaling.
      const inv = Float32Array.from(
        { length: rotary / 2 },
        (_, i) => 500000 ** ((-2 * i) / rotary) / (i < 3 ? 1 : i > 5 ? 8 : 2 + i / 3),
      );
      const g = toDevice(fromArray(arr(x), x.shape));
      ropeInPlace(g, pos, 0, { rotaryDim: rotary, invFreq: inv });
      return { actual: await host(g), expected: refRopeInvFreq(arr(x), pos, [tokens, heads, headDim], inv), tol: 1e-6 };
    },
  },
  {
    name: "ropeInPlace with invFreq = θ's frequencies equals the θ path",
    async run() {
      const x = rand([5, 2, 8]);
      const pos = Int32Array.from([0, 3, 1000, 7, 20000]);
      const inv = Float32Array.from({ length: 4 }, (_, i) =>
        Math.fround(1 / Math.fround(1e4 ** Math.fround((2 * i) / 8))),
      );
      const g = toDevice(fromArray(arr(x), x.shape));
      ropeInPlace(g, pos, 123, { invFreq: inv });
      return { actual: await host(g), expected: refRope(arr(x), pos, 5, 2, 8, 1e4, 8), tol: 1e-6 };
    },
  },
  ...(
    [
      [[2, 5, 7], 5, 2, 3],
      [[6, 4], 3, -1, 1],
      [[4, 9], 4, 5, 4],
      [[2, 3, 6], 3, 3, 100],
    ] as [number[], number, number, number][]
  ).map(
    ([shape, queries, offset, window]): FamilyCase => ({
      name: `softmax causal window ${window} [${shape}] q=${queries} off=${offset}`,
      async run() {
        const x = rand(shape, 3);
        const y = await host(softmax(toDevice(x), { causal: { queries, offset, window } }));
        const n = shape[shape.length - 1]!;
        const expected =
          window >= n + queries + Math.abs(offset)
            ? refSoftmax(arr(x), n, { queries, offset })
            : refWindowSoftmax(arr(x), n, queries, offset, window);
        return { actual: y, expected, tol: 1e-6 };
      },
    }),
  ),
  {
    name: "maskScores sliding window with past keys and padding",
    async run() {
      const [batch, heads, queries, past, window] = [2, 2, 4, 3, 3];
      const keys = past + queries;
      const scores = rand([batch, heads, queries, keys]);
      const queryMask = Uint8Array.from([1, 1, 1, 1, 0, 1, 1, 1]);
      const keyMask = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
      const g = toDevice(fromArray(arr(scores), scores.shape));
      maskScores(g, { queryMask, keyMask, past, window });
      const expected = Float64Array.from(arr(scores), (v, idx) => {
        const j = idx % keys;
        const i = Math.floor(idx / keys) % queries;
        const b = Math.floor(idx / (keys * queries * heads));
        const p = past + i;
        const hidden = j > p || p - j >= window || (queryMask[b * queries + i] === 1 && keyMask[b * keys + j] === 0);
        return hidden ? -Infinity : v;
      });
      return { actual: await host(g), expected, tol: 0 };
    },
  },
];

/** The failure message of a case's result, or undefined when it passes (see the file comment for the measures). */
export function compareCase(r: Awaited<ReturnType<FamilyCase["run"]>>): string | undefined {
  const { actual, expected, tol, absTol } = r;
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  if (absTol !== undefined) {
    for (let i = 0; i < expected.length; i++) {
      if (Number.isNaN(actual[i]!) && Number.isNaN(expected[i]!)) continue;
      const err = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
      if (!(err <= absTol)) return `element ${i}: ${actual[i]} vs ${expected[i]} (error ${err} > ${absTol})`;
    }
    return undefined;
  }
  if (tol === 0) {
    for (let i = 0; i < expected.length; i++) {
      const a = actual[i]!;
      const b = expected[i]!;
      if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) return `element ${i}: ${a}, expected exactly ${b}`;
    }
    return undefined;
  }
  const err = relErr(actual, expected);
  return err <= tol! ? undefined : `relative error ${err.toExponential(2)} > ${tol}`;
}
