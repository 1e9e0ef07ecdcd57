/** GEMM and batched GEMM cases of the parity suite (tolerance 1e-6·√K; see parity.test.ts). */
import { batchedGemm, fromArray, gemm } from "../src/index.ts";
import { cases, f32, memo, rand } from "./parity-kit.ts";
import { refGemm } from "./reference.ts";

// ---- GEMM ----
function gemmCase(
  m: number,
  k: number,
  n: number,
  o: {
    transA?: boolean;
    transB?: boolean;
    bDtype?: "f32" | "bf16" | "f16";
    alpha?: number;
    beta?: number;
    nativeOnly?: boolean;
  } = {},
): void {
  const inputs = memo(() => {
    const a = rand(o.transA ? [k, m] : [m, k]);
    const bf = rand(o.transB ? [n, k] : [k, n]);
    const b = o.bDtype && o.bDtype !== "f32" ? fromArray(f32(bf), bf.shape, o.bDtype) : bf;
    const c0 = rand([m, n]);
    const expected = refGemm(f32(a), f32(b), m, n, k, !!o.transA, !!o.transB, o.alpha ?? 1, o.beta ?? 0, f32(c0));
    return { a, b, c0, expected };
  });
  cases.push({
    kernel: "gemm",
    name: `${m}x${k}x${n}${o.transA ? " transA" : ""}${o.transB ? " transB" : ""} B=${o.bDtype ?? "f32"}${o.beta ? " beta" : ""}`,
    nativeOnly: !!o.nativeOnly,
    check: () => {
      const { a, b, c0, expected } = inputs();
      const out = o.beta ? fromArray(f32(c0), c0.shape) : undefined;
      const c = gemm(a, b, {
        transA: !!o.transA,
        transB: !!o.transB,
        alpha: o.alpha ?? 1,
        beta: o.beta ?? 0,
        ...(out ? { out } : {}),
      });
      return [f32(c), expected, Math.max(1e-6, 1e-6 * Math.sqrt(k))];
    },
  });
}
gemmCase(1, 1, 1);
for (const transA of [false, true])
  for (const transB of [false, true]) gemmCase(3, 5, 7, { transA, transB, alpha: 0.5, beta: 0.25 });
gemmCase(17, 33, 65);
gemmCase(13, 31, 47, { bDtype: "bf16" });
gemmCase(13, 31, 47, { bDtype: "f16", transB: true, transA: true });
gemmCase(1, 257, 129, { bDtype: "bf16", transB: true });
gemmCase(3, 257, 129, { bDtype: "f16", transB: true, beta: 1 });
gemmCase(192, 384, 256, { transB: true });
gemmCase(64, 512, 300, { bDtype: "bf16" });
gemmCase(8, 4096, 1100, { bDtype: "bf16", transB: true, nativeOnly: true }); // several widened tiles
gemmCase(8, 4096, 1100, { bDtype: "f16", nativeOnly: true });
gemmCase(97, 257, 4113, { beta: 0.5, nativeOnly: true }); // crosses MC, KC, NC of the portable GEMM
// A transposed f32 B (an SAE encoder's weight) through the 8 × 8 transposing pack: K tail (259 = 256 + 3, not a
// multiple of 8) and an edge strip of 15 columns past NC.
gemmCase(37, 259, 4111, { transB: true, beta: 0.5, nativeOnly: true });
// Attention-like: head dims 64–128 as K (scores) and as N (weights · values).
gemmCase(96, 64, 200, { transB: true });
gemmCase(200, 200, 128);
// K > KC with a narrow B: the blocked GEMM packs every K slice at once (gemm-blocked.h, "narrow B").
gemmCase(97, 700, 100, { beta: 0.5 });
gemmCase(50, 600, 40, { bDtype: "bf16", transA: true, transB: true });
// Narrow B with A read in place (no A packing): partial tiles at both edges, alpha, a transposed 16-bit B.
gemmCase(61, 1000, 77, { alpha: 0.5 });
gemmCase(13, 520, 250, { transB: true, bDtype: "f16" });

function batchedCase(batch: number, m: number, k: number, n: number, transB: boolean, bDtype: "f32" | "bf16"): void {
  const inputs = memo(() => {
    const a = rand([batch, m, k]);
    const bf = rand(transB ? [batch, n, k] : [batch, k, n]);
    const b = bDtype === "f32" ? bf : fromArray(f32(bf), bf.shape, bDtype);
    const expected = new Float64Array(batch * m * n);
    for (let p = 0; p < batch; p++) {
      expected.set(
        refGemm(
          f32(a).subarray(p * m * k, (p + 1) * m * k),
          f32(b).subarray(p * k * n, (p + 1) * k * n),
          m,
          n,
          k,
          false,
          transB,
        ),
        p * m * n,
      );
    }
    return { a, b, expected };
  });
  cases.push({
    kernel: "batchedGemm",
    name: `${batch} x ${m}x${k}x${n}${transB ? " transB" : ""} B=${bDtype}`,
    check: () => [
      f32(batchedGemm(inputs().a, inputs().b, { transB })),
      inputs().expected,
      Math.max(1e-6, 1e-6 * Math.sqrt(k)),
    ],
  });
}
batchedCase(1, 1, 1, 1, false, "f32");
batchedCase(3, 5, 7, 9, true, "bf16");
batchedCase(8, 64, 96, 80, false, "f32");
