/**
 * webgpu GEMM vs float64 math (reference.ts): odd shapes (M, N, K not multiples of the 4×4 / 64×64 tiles), one row,
 * transposes, alpha / beta into out, bf16 / f16 weights, batched with bRows, and a weight split across bindings.
 * Tolerance: relative error (‖Δ‖/‖ref‖) ≤ 1e-5·√K — f32 accumulation over K terms.
 */
import { beforeAll, expect, it } from "vitest";
import { batchedGemm as gpuBatchedGemm, gemm as gpuGemm } from "../src/backends/webgpu/gemm.ts";
import { gemmTiled, setGemmTiled } from "../src/backends/webgpu/gemm-tiled-wgsl.ts";
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

  // Six register-tiled variants (lavapipe compiles each for seconds when its cache is cold) cover every load path:
  // A plain/transposed × scalar/vec4, B likewise, f32 / bf16 / f16 B, reading C or not.
  //   NN:f32:sAsB   TT:f32:vAvB:C   NT:bf16:vAvB   TN:f16:sAsB:C   NN:bf16:vAvB   NT:f32:sAsB
  it("register-tiled kernel: odd shapes, one row, transposes, alpha/beta into out, packed weights", async () => {
    const cases: Case[] = [
      { m: 1, k: 1, n: 1 },
      { m: 7, k: 13, n: 9 },
      { m: 70, k: 5, n: 3 }, // few columns: the 64 invocations stacked along M
      { m: 8, k: 12, n: 11, transA: true, transB: true, beta: -1 }, // vec4 transA (M ≡ 0 mod 4), transB (K ≡ 0 mod 4)
      { m: 12, k: 16, n: 7, transA: true, transB: true, beta: 0.5 },
      { m: 1, k: 40, n: 70, transB: true, bDtype: "bf16" }, // one row (GEMV): 64 invocations along N
      { m: 3, k: 40, n: 33, transB: true, bDtype: "bf16" },
      { m: 6, k: 17, n: 10, transA: true, bDtype: "f16", alpha: 0.5, beta: 0.25 },
      { m: 2, k: 24, n: 27, transA: true, bDtype: "f16", beta: 0.5 },
      { m: 6, k: 0, n: 10, transA: true, bDtype: "f16", beta: 0.5 }, // K = 0: C = beta·C
      { m: 5, k: 16, n: 12, bDtype: "bf16" }, // vec4 A and B
      { m: 11, k: 20, n: 24, bDtype: "bf16", alpha: 2 },
      { m: 9, k: 21, n: 5, transB: true },
    ];
    for (const c of cases) await check(c);
  });

  it("workgroup-memory kernel (off on software adapters by default): shapes past 128×128 with edges", async () => {
    const before = gemmTiled();
    setGemmTiled(true);
    try {
      await check({ m: 130, k: 68, n: 129, transB: true, bDtype: "bf16" }); // the weight GEMM of a forward pass
      await check({ m: 128, k: 72, n: 200, transB: true, bDtype: "bf16" });
      await check({ m: 129, k: 64, n: 130, transA: true }); // gradient-style Aᵀ·B, the other staging order
      setGemmTiled(false);
      await check({ m: 130, k: 68, n: 129, transB: true, bDtype: "bf16" });
    } finally {
      setGemmTiled(before);
    }
  });

  it("f16 weights without shader-f16 are unpacked with unpack2x16float", async () => {
    // The same device, reporting no shader-f16 for the length of this test.
    const ctx = backend.context as { hasF16: boolean };
    const hadF16 = ctx.hasF16;
    ctx.hasF16 = false;
    try {
      const a = rand([6, 17]);
      const { b, values } = weight([17, 10], "f16");
      const out = gpuGemm(backend.context, toDevice(a), toDevice(b), {});
      const expected = refGemm(toFloat32Array(a), values, 6, 10, 17, false, false);
      expect(relErr(toFloat32Array(await toHost(out)), expected)).toBeLessThanOrEqual(1e-5 * Math.sqrt(17));
    } finally {
      ctx.hasF16 = hadF16;
    }
    expect(backend.context.compileMs.some((c) => c.key === "gemm:NN:f16:sAsB")).toBe(true);
  });

  it("beta = 0 never reads out (NaN there does not propagate)", async () => {
    const a = rand([3, 5]);
    const b = rand([5, 3]);
    const out = toDevice(fromArray(new Float32Array(9).fill(Number.NaN), [3, 3]));
    gemm(toDevice(a), toDevice(b), { out });
    const got = toFloat32Array(await toHost(out));
    expect(relErr(got, refGemm(toFloat32Array(a), toFloat32Array(b), 3, 3, 5, false, false))).toBeLessThan(1e-5);
  });

  it("batched, with bRows of a preallocated cache, transposes, packed B, split by batch entries", async () => {
    const align = backend.context.limits.minStorageBufferOffsetAlignment;
    for (const { batch, m, k, n, transB, bRows, bDtype, limit, tiled } of [
      { batch: 3, m: 5, k: 9, n: 6, transB: true, bRows: 6, bDtype: "f32" as BDtype }, // scores = Q·Kᵀ
      { batch: 2, m: 5, k: 7, n: 9, transB: false, bRows: 7, bDtype: "f32" as BDtype }, // weights · V
      { batch: 4, m: 1, k: 8, n: 3, transB: true, bRows: 3, bDtype: "bf16" as BDtype },
      { batch: 3, m: 5, k: 9, n: 6, transB: true, bRows: 6, bDtype: "f32" as BDtype, limit: align + 400 }, // B: 1 entry a block
      { batch: 2, m: 128, k: 64, n: 128, transB: true, bRows: 128, bDtype: "bf16" as BDtype, tiled: true }, // staged
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
      const before = gemmTiled();
      setGemmTiled(!!tiled);
      const out = gpuBatchedGemm(backend.context, toDevice(a), toDevice(b), { transB, bRows }, limit);
      setGemmTiled(before);
      expect(out.shape).toEqual([batch, m, n]);
      expect(relErr(toFloat32Array(await toHost(out)), expected)).toBeLessThanOrEqual(1e-5 * Math.sqrt(k));
    }
  });

  it("operands larger than one binding are split by rows (tiny artificial binding limit)", async () => {
    // Bindings a few hundred bytes past the offset alignment: each case below takes 2+ blocks of some operand.
    const align = backend.context.limits.minStorageBufferOffsetAlignment;
    await check({ m: 3, k: 21, n: 37, transB: true }, align + 1024); // B blocks = column blocks of C
    await check({ m: 6, k: 41, n: 25, transA: true, bDtype: "f16", beta: 0.5 }, align + 1000); // B blocks = K blocks into out
    await check({ m: 2, k: 44, n: 30, transB: true, bDtype: "bf16" }, align + 1024);
    await check({ m: 37, k: 9, n: 13 }, align + 512); // M blocks of A and C
    await check({ m: 20, k: 30, n: 13, transB: true }, align + 512); // M blocks × B blocks
    const wide = toDevice(rand([3, 512])); // 2 KiB rows: 4 of them do not fit
    expect(() => gpuGemm(backend.context, toDevice(rand([2, 512])), wide, { transB: true }, align + 512)).toThrow(
      /cannot be split into blocks that fit/,
    );
  });
});
