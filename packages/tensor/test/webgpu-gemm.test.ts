/**
 * webgpu GEMM vs float64 math (reference.ts): odd shapes (M, N, K not multiples of the 4×4 / 64×64 tiles), one row,
 * transposes, alpha / beta into out, bf16 / f16 weights, batched with bRows, and a weight split across bindings.
 * Tolerance: relative error (‖Δ‖/‖ref‖) ≤ 1e-5·√K — f32 accumulation over K terms.
 */
import { beforeAll, expect, it } from "vitest";
import { batchedGemm as gpuBatchedGemm, gemm as gpuGemm } from "../src/backends/webgpu/gemm.ts";
import { setGemmTiled } from "../src/backends/webgpu/gemm-tiled-wgsl.ts";
import {
  fromArray,
  gemm,
  Rng,
  randn,
  type Tensor,
  toDevice,
  toFloat32Array,
  toHost,
  useBackend,
} from "../src/index.ts";
import { refGemm, relErr } from "./reference.ts";
import { describeWebgpu, webgpu } from "./webgpu-available.ts";

type BDtype = "f32" | "bf16" | "f16";
interface Case {
  m: number;
  k: number;
  n: number;
  transA?: boolean;
  transB?: boolean;
  bDtype?: BDtype;
  alpha?: number;
  beta?: number;
}

const rng = new Rng(2020);
const rand = (shape: number[]): Tensor => randn(shape, rng);
/** B in its storage dtype, plus its values as the device will see them (rounded to 16 bits when packed). */
function weight(shape: number[], dtype: BDtype): { b: Tensor; values: Float32Array } {
  const b = dtype === "f32" ? rand(shape) : fromArray(toFloat32Array(rand(shape)), shape, dtype);
  return { b, values: toFloat32Array(b) };
}

describeWebgpu("webgpu gemm", () => {
  const backend = webgpu!;
  beforeAll(() => useBackend("webgpu"));

  async function check(c: Case, maxWeightBindingBytes?: number): Promise<number> {
    const { m, k, n, transA = false, transB = false, bDtype = "f32", alpha = 1, beta = 0 } = c;
    const a = rand(transA ? [k, m] : [m, k]);
    const { b, values } = weight(transB ? [n, k] : [k, n], bDtype);
    const c0 = rand([m, n]);
    const expected = refGemm(toFloat32Array(a), values, m, n, k, transA, transB, alpha, beta, toFloat32Array(c0));
    const opts = { transA, transB, alpha, beta, ...(beta !== 0 ? { out: toDevice(c0) } : {}) };
    const out =
      maxWeightBindingBytes === undefined
        ? gemm(toDevice(a), toDevice(b), opts)
        : gpuGemm(backend.context, toDevice(a), toDevice(b), opts, maxWeightBindingBytes);
    const err = relErr(toFloat32Array(await toHost(out)), expected);
    expect(err, `${JSON.stringify(c)}`).toBeLessThanOrEqual(1e-5 * Math.sqrt(Math.max(k, 1)));
    return err;
  }

  it("register-tiled kernel: odd shapes, one row, transposes, alpha/beta into out, packed weights", async () => {
    const cases: Case[] = [
      { m: 1, k: 1, n: 1 },
      { m: 7, k: 13, n: 9 },
      { m: 5, k: 16, n: 12 }, // vec4 A and B
      { m: 6, k: 17, n: 10, transA: true, alpha: 0.5, beta: 0.25 },
      { m: 8, k: 12, n: 11, transA: true, transB: true }, // vec4 transA (M ≡ 0 mod 4) and transB (K ≡ 0 mod 4)
      { m: 9, k: 21, n: 5, transB: true },
      { m: 1, k: 37, n: 70, transB: true, bDtype: "bf16" }, // one row (GEMV): the 64×1 workgroup
      { m: 3, k: 40, n: 33, transB: true, bDtype: "bf16" },
      { m: 11, k: 19, n: 24, bDtype: "bf16", alpha: 2 },
      { m: 2, k: 24, n: 28, bDtype: "f16", beta: 0.5 },
      { m: 13, k: 15, n: 7, transA: true, transB: true, bDtype: "f16" },
      { m: 6, k: 0, n: 10, transA: true, beta: 0.5 }, // K = 0: C = beta·C
    ];
    for (const c of cases) await check(c);
  });

  it("workgroup-memory kernel: shapes past 64×64 with edges, both on and off", async () => {
    await check({ m: 70, k: 67, n: 65 });
    await check({ m: 66, k: 64, n: 72, transA: true, transB: true, bDtype: "bf16", beta: 0.5 });
    setGemmTiled(false);
    try {
      await check({ m: 70, k: 67, n: 65 });
    } finally {
      setGemmTiled(true);
    }
  });

  it("beta = 0 never reads out (NaN there does not propagate)", async () => {
    const a = rand([3, 5]);
    const b = rand([5, 3]);
    const out = toDevice(fromArray(new Float32Array(9).fill(Number.NaN), [3, 3]));
    gemm(toDevice(a), toDevice(b), { out });
    const got = toFloat32Array(await toHost(out));
    expect(relErr(got, refGemm(toFloat32Array(a), toFloat32Array(b), 3, 3, 5, false, false))).toBeLessThan(1e-5);
  });

  it("batched, with bRows of a preallocated cache, transposes and packed B", async () => {
    for (const { batch, m, k, n, transB, bRows, bDtype } of [
      { batch: 3, m: 5, k: 9, n: 6, transB: true, bRows: 6, bDtype: "f32" as BDtype }, // scores = Q·Kᵀ
      { batch: 2, m: 5, k: 7, n: 9, transB: false, bRows: 7, bDtype: "f32" as BDtype }, // weights · V
      { batch: 4, m: 1, k: 9, n: 3, transB: true, bRows: 3, bDtype: "bf16" as BDtype },
    ]) {
      const rows = bRows + 3; // capacity beyond the rows in use
      const cols = transB ? k : n;
      const a = rand([batch, m, k]);
      const { b, values } = weight([batch, rows, cols], bDtype);
      const expected = new Float64Array(batch * m * n);
      const av = toFloat32Array(a);
      for (let p = 0; p < batch; p++) {
        const ap = av.subarray(p * m * k, (p + 1) * m * k);
        const bp = values.subarray(p * rows * cols, p * rows * cols + bRows * cols);
        expected.set(refGemm(ap, bp, m, n, k, false, transB), p * m * n);
      }
      const out = gpuBatchedGemm(backend.context, toDevice(a), toDevice(b), { transB, bRows });
      expect(out.shape).toEqual([batch, m, n]);
      expect(relErr(toFloat32Array(await toHost(out)), expected)).toBeLessThanOrEqual(1e-5 * Math.sqrt(k));
    }
  });

  it("a weight larger than one binding is split by its rows (tiny artificial binding limit)", async () => {
    // Bindings of a few hundred bytes past the offset alignment: every weight below takes 3+ blocks.
    const align = backend.context.limits.minStorageBufferOffsetAlignment;
    await check({ m: 3, k: 21, n: 37, transB: true }, align + 1024); // blocks of output columns
    await check({ m: 6, k: 41, n: 10, transA: true, beta: 0.5 }, align + 256); // K blocks accumulated into out
    await check({ m: 2, k: 44, n: 30, transB: true, bDtype: "bf16" }, align + 1024);
    await check({ m: 2, k: 37, n: 20, transB: true, bDtype: "bf16" }, align + 300); // odd bf16 rows: 2-byte offsets
    const wide = toDevice(rand([3, 512])); // 2 KiB rows: 4 of them do not fit
    expect(() => gpuGemm(backend.context, toDevice(rand([2, 512])), wide, { transB: true }, align + 512)).toThrow(
      /cannot hold 4 of them/,
    );
  });
});
