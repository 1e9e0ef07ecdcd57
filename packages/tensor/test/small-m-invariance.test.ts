import { afterAll, describe, expect, it } from "vitest";
import { fromArray, gemm, nativeAvailable, Rng, type Tensor, useBackend } from "../src/index.ts";

// GEMMs with at most 4 rows (decoding a few sequences at once) are batch invariant: row r of an M-row call equals the
// 1-row call on that row alone, bit for bit, whatever the other rows hold (native/gemm.c, DL_SMALL_M).
const backends = nativeAvailable().ok ? (["js", "native"] as const) : (["js"] as const);
afterAll(() => {
  useBackend("js");
});

function randomArray(n: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/** Row r of op(A) as a [1, K] (or, transposed, [K, 1]) matrix. */
function rowOf(a: Float32Array, m: number, k: number, r: number, transA: boolean): Tensor {
  const row = new Float32Array(k);
  for (let p = 0; p < k; p++) row[p] = transA ? a[p * m + r]! : a[r * k + p]!;
  return fromArray(row, transA ? [k, 1] : [1, k]);
}

describe.each(backends)("small-M GEMM batch invariance (%s)", (backend) => {
  const k = 600,
    n = 2100; // n > 2 × 1024: the column-threaded kernel splits C
  it.each([
    [2, false, false, "f32"],
    [3, false, true, "f32"],
    [4, true, true, "f32"],
    [4, false, false, "bf16"],
    [3, true, true, "f16"],
  ] as const)("%i rows, transA %s, transB %s, B %s: each row equals its 1-row call", (m, transA, transB, dtype) => {
    useBackend(backend);
    const rng = new Rng(m * 7 + (transA ? 1 : 0) + (transB ? 2 : 0));
    const a = randomArray(m * k, rng);
    const bf = randomArray(k * n, rng);
    const bShape = transB ? [n, k] : [k, n];
    const b = fromArray(bf, bShape, dtype);
    const c0 = randomArray(m * n, rng);
    const opts = { transA, transB, alpha: 0.75, beta: 0.5 };
    const all = gemm(fromArray(a, transA ? [k, m] : [m, k]), b, { ...opts, out: fromArray(c0.slice(), [m, n]) });
    for (let r = 0; r < m; r++) {
      const one = gemm(rowOf(a, m, k, r, transA), b, { ...opts, out: fromArray(c0.slice(r * n, (r + 1) * n), [1, n]) });
      expect(
        Buffer.from(all.data.buffer, all.data.byteOffset + r * n * 4, n * 4).equals(Buffer.from(one.data.buffer)),
      ).toBe(true);
    }
  });
});
