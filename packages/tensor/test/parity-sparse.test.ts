/**
 * Parity of the k-sparse-code and optimizer kernels (biasTopK, sparseDecode, sparseCodesBackward,
 * adamUpdate, projectOutRows, normalizeRows) on every available backend against float64 math written
 * here from the definitions. Tolerances (relative error ‖a − b‖ / ‖b‖ over the whole output):
 *   biasTopK: exact (indices and values; the sum z + bias is defined as an f32 add).
 *   sparseDecode, projectOutRows, normalizeRows, adamUpdate: 1e-6 (a few f32 ulps per element).
 *   sparseCodesBackward: 1e-5 (f32 accumulation over up to a few hundred pairs per table row).
 * Also: native results do not depend on the thread count (bitwise), and native Adam equals js Adam bitwise.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  adamUpdate,
  adamUpdateUnitRows,
  biasTopK,
  currentBackend,
  nativeAvailable,
  normalizeRows,
  projectOutRows,
  Rng,
  randn,
  sparseCodesBackward,
  sparseDecode,
  Tensor,
  useBackend,
  zeros,
} from "../src/index.ts";
import { relErr } from "./reference.ts";

const backends: ("js" | "native")[] = ["js", ...(nativeAvailable().ok ? ["native" as const] : [])];
afterAll(() => {
  useBackend("js");
});

const f32 = (t: Tensor): Float32Array => t.data as Float32Array;
const rand = (shape: number[], seed: number, std = 1): Tensor => randn(shape, new Rng(seed), std);
const clone = (t: Tensor): Tensor => new Tensor(t.dtype, t.shape, (t.data as Float32Array).slice());

/** Float64 reference: best k of fround(z + b) over `cols`, descending, ties by lower index. */
function refBiasTopK(
  z: Float32Array,
  b: Float32Array,
  rows: number,
  n: number,
  k: number,
  cols?: Int32Array,
): { idx: number[]; val: number[] } {
  const idx: number[] = [],
    val: number[] = [];
  const all = cols ? Array.from(cols) : Array.from({ length: n }, (_, j) => j);
  for (let r = 0; r < rows; r++) {
    const v = (j: number): number => Math.fround(z[r * n + j]! + b[j]!);
    const order = [...all].sort((p, q) => v(q) - v(p) || p - q).slice(0, k);
    for (const j of order) {
      idx.push(j);
      val.push(v(j));
    }
  }
  return { idx, val };
}

/** Inputs with many exact ties: values on a coarse grid. */
function grid(shape: number[], seed: number): Tensor {
  const t = rand(shape, seed);
  const d = f32(t);
  for (let i = 0; i < d.length; i++) d[i] = Math.round(d[i]! * 2) / 2;
  return t;
}

function sparseCodes(rows: number, kk: number, v: number, seed: number): { indices: Tensor; values: Tensor } {
  const rng = new Rng(seed);
  const indices = zeros([rows, kk], "i32"),
    values = zeros([rows, kk], "f32");
  for (let i = 0; i < rows * kk; i++) {
    indices.data[i] = rng.int(v);
    values.data[i] = rng.normal();
  } // ~half inactive (≤ 0)
  return { indices, values };
}

describe.each(backends)("sparse kernels on %s", (name) => {
  const select = (): void => {
    useBackend(name);
  };

  for (const [rows, n, k, kc, nc] of [
    [3, 7, 2, 1, 3],
    [5, 33, 5, 4, 17],
    [4, 1, 1, 0, 0],
    [64, 32768, 32, 64, 1000],
  ] as const) {
    if (name === "js" && n > 1000) continue;
    it(`biasTopK ${rows}x${n} k=${k} among ${kc} of ${nc}`, () => {
      select();
      const z = grid([rows, n], 1 + n),
        bias = grid([n], 2 + n);
      const cands = Int32Array.from(new Rng(3).shuffle(Array.from({ length: n }, (_, j) => j)).slice(0, nc));
      const out = { values: zeros([rows, k], "f32"), indices: zeros([rows, k], "i32") };
      const among = {
        candidates: new Tensor("i32", [nc], cands),
        k: kc,
        values: zeros([rows, kc], "f32"),
        indices: zeros([rows, kc], "i32"),
      };
      biasTopK(z, bias, k, out, nc > 0 ? among : undefined);
      const ref = refBiasTopK(f32(z), f32(bias), rows, n, k);
      expect(Array.from(out.indices.data as Int32Array)).toEqual(ref.idx);
      expect(Array.from(f32(out.values))).toEqual(ref.val);
      if (nc > 0) {
        const refC = refBiasTopK(f32(z), f32(bias), rows, n, kc, cands);
        expect(Array.from(among.indices.data as Int32Array)).toEqual(refC.idx);
        expect(Array.from(f32(among.values))).toEqual(refC.val);
      }
    });
  }

  for (const [rows, kk, v, d] of [
    [1, 1, 1, 1],
    [9, 5, 50, 37],
    [130, 32, 300, 129],
  ] as const) {
    it(`sparseDecode ${rows}x${kk} of [${v}, ${d}]`, () => {
      select();
      const { indices, values } = sparseCodes(rows, kk, v, 10 + d);
      const table = rand([v, d], 11 + d),
        out = rand([rows, d], 12 + d);
      const expected = Float64Array.from(f32(out));
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < kk; c++) {
          const a = f32(values)[r * kk + c]!,
            j = (indices.data as Int32Array)[r * kk + c]!;
          if (a > 0) for (let i = 0; i < d; i++) expected[r * d + i]! += -0.5 * a * f32(table)[j * d + i]!;
        }
      sparseDecode(out, indices, values, table, -0.5);
      expect(relErr(f32(out), expected)).toBeLessThanOrEqual(1e-6);
    });
  }

  for (const [rows, kk, v, d] of [
    [1, 1, 1, 3],
    [11, 4, 20, 37],
    [300, 16, 200, 129],
  ] as const)
    for (const overwriteUntouched of [false, true])
      it(`sparseCodesBackward ${rows}x${kk} of [${v}, ${d}]${overwriteUntouched ? " overwriting untouched rows" : ""}`, () => {
        select();
        const { indices, values } = sparseCodes(rows, kk, v, 20 + d);
        const g = rand([rows, d], 21 + d),
          x = rand([rows, d], 22 + d),
          table = rand([v, d], 23 + d);
        // Every third row counts as touched on entry; with overwriteUntouched the others' stale contents must vanish.
        const touchedOnEntry = Uint8Array.from({ length: v }, (_, j) => (j % 3 === 0 ? 1 : 0));
        const grads = {
          table: rand([v, d], 24 + d),
          encoder: rand([v, d], 25 + d),
          bias: rand([v], 26 + d),
          touched: overwriteUntouched ? touchedOnEntry.slice() : new Uint8Array(v),
          overwriteUntouched,
        };
        const eT = Float64Array.from(f32(grads.table)),
          eE = Float64Array.from(f32(grads.encoder)),
          eB = Float64Array.from(f32(grads.bias));
        const eTouched = grads.touched.slice();
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < kk; c++) {
            const a = f32(values)[r * kk + c]!,
              j = (indices.data as Int32Array)[r * kk + c]!;
            if (!(a > 0)) continue;
            if (overwriteUntouched && !eTouched[j]) {
              eT.fill(0, j * d, (j + 1) * d);
              eE.fill(0, j * d, (j + 1) * d);
              eB[j] = 0;
            }
            let dz = 0;
            for (let i = 0; i < d; i++) dz += f32(g)[r * d + i]! * f32(table)[j * d + i]!;
            for (let i = 0; i < d; i++) {
              eT[j * d + i]! += a * f32(g)[r * d + i]!;
              eE[j * d + i]! += dz * f32(x)[r * d + i]!;
            }
            eB[j]! += dz;
            eTouched[j] = 1;
          }
        sparseCodesBackward(indices, values, g, x, table, grads);
        expect(relErr(f32(grads.table), eT)).toBeLessThanOrEqual(1e-5);
        expect(relErr(f32(grads.encoder), eE)).toBeLessThanOrEqual(1e-5);
        expect(relErr(f32(grads.bias), eB)).toBeLessThanOrEqual(1e-5);
        expect(Array.from(grads.touched)).toEqual(Array.from(eTouched));
      });

  for (const [rows, cols, masked] of [
    [1, 1, false],
    [7, 33, true],
    [300, 129, true],
    [1, 5000, false],
  ] as const) {
    it(`adamUpdate [${rows}, ${cols}]${masked ? " with row mask" : ""}`, () => {
      select();
      const p = rand([rows, cols], 30 + cols),
        g = rand([rows, cols], 31 + cols, 0.1);
      const m = rand([rows, cols], 32 + cols, 0.01),
        v = rand([rows, cols], 33 + cols, 0.01);
      for (let i = 0; i < v.size; i++) f32(v)[i] = Math.abs(f32(v)[i]!);
      const mask = new Uint8Array(rows).map((_, r) => (r % 3 === 1 ? 0 : 1));
      const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 6.25e-10, t: 7 };
      const eP = new Float64Array(p.size),
        eM = new Float64Array(p.size),
        eV = new Float64Array(p.size);
      for (let i = 0; i < p.size; i++) {
        const gi = masked && !mask[Math.floor(i / cols)] ? 0 : f32(g)[i]!;
        eM[i] = 0.9 * f32(m)[i]! + 0.1 * gi;
        eV[i] = 0.999 * f32(v)[i]! + 0.001 * gi * gi;
        eP[i] =
          f32(p)[i]! - (h.lr / (1 - 0.9 ** 7)) * (eM[i]! / (Math.sqrt(eV[i]!) / Math.sqrt(1 - 0.999 ** 7) + h.eps));
      }
      const js = [clone(p), clone(g), clone(m), clone(v)] as const;
      adamUpdate(p, g, m, v, h, masked ? { rowMask: mask, clearGrad: true } : {});
      expect(relErr(f32(m), eM)).toBeLessThanOrEqual(1e-6);
      expect(relErr(f32(v), eV)).toBeLessThanOrEqual(1e-6);
      expect(relErr(f32(p), eP)).toBeLessThanOrEqual(1e-6);
      if (masked) for (let i = 0; i < g.size; i++) if (mask[Math.floor(i / cols)]) expect(f32(g)[i]).toBe(0);
      // Every backend computes Adam in the same float64 order: identical bits.
      const was = currentBackend().name;
      useBackend("js");
      adamUpdate(js[0], js[1], js[2], js[3], h, masked ? { rowMask: mask, clearGrad: true } : {});
      useBackend(was);
      expect(f32(p)).toEqual(f32(js[0]));
      expect(f32(v)).toEqual(f32(js[3]));
    });
  }

  for (const [rows, d] of [
    [1, 1],
    [9, 37],
    [300, 256],
  ] as const)
    it(`adamUpdateUnitRows [${rows}, ${d}] equals projectOutRows, adamUpdate, normalizeRows bit for bit`, () => {
      select();
      const w = rand([rows, d], 60 + d),
        g = rand([rows, d], 61 + d, 0.1),
        m = rand([rows, d], 62 + d, 0.01),
        v = rand([rows, d], 63 + d, 0.01);
      for (let i = 0; i < v.size; i++) f32(v)[i] = Math.abs(f32(v)[i]!);
      normalizeRows(w, 1e-7);
      const mask = new Uint8Array(rows).map((_, r) => (r % 4 === 2 ? 0 : 1));
      const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 6.25e-10, t: 3 };
      const composed = [clone(w), clone(g), clone(m), clone(v)] as const;
      adamUpdateUnitRows(w, g, m, v, h, { rowMask: mask, normEps: 1.1920928955078125e-7 });
      projectOutRows(composed[1], composed[0], mask);
      adamUpdate(composed[0], composed[1], composed[2], composed[3], h, { rowMask: mask });
      normalizeRows(composed[0], 1.1920928955078125e-7);
      expect(f32(w)).toEqual(f32(composed[0]));
      expect(f32(m)).toEqual(f32(composed[2]));
      expect(f32(v)).toEqual(f32(composed[3]));
      for (let r = 0; r < rows; r++)
        if (mask[r]) expect(f32(g).subarray(r * d, (r + 1) * d)).toEqual(f32(composed[1]).subarray(r * d, (r + 1) * d));
    });

  for (const [rows, d] of [
    [1, 1],
    [7, 33],
    [200, 1024],
  ] as const) {
    it(`projectOutRows / normalizeRows [${rows}, ${d}]`, () => {
      select();
      const w = rand([rows, d], 40 + d),
        g = rand([rows, d], 41 + d);
      const mask = new Uint8Array(rows).map((_, r) => (r % 2 === 0 ? 1 : 0));
      const eW = new Float64Array(w.size),
        eG = Float64Array.from(f32(g));
      for (let r = 0; r < rows; r++) {
        let ss = 0;
        for (let i = 0; i < d; i++) ss += f32(w)[r * d + i]! ** 2;
        for (let i = 0; i < d; i++) eW[r * d + i] = f32(w)[r * d + i]! / (Math.sqrt(ss) + 1e-7);
      }
      normalizeRows(w, 1e-7);
      expect(relErr(f32(w), eW)).toBeLessThanOrEqual(1e-6);
      for (let r = 0; r < rows; r++) {
        // projection onto the stored (f32) rows
        let dot = 0;
        for (let i = 0; i < d; i++) dot += f32(g)[r * d + i]! * f32(w)[r * d + i]!;
        if (mask[r]) for (let i = 0; i < d; i++) eG[r * d + i]! -= dot * f32(w)[r * d + i]!;
      }
      projectOutRows(g, w, mask);
      expect(relErr(f32(g), eG)).toBeLessThanOrEqual(1e-6);
    });
  }

  it.runIf(name === "native")("results do not depend on the thread count", () => {
    select();
    const be = currentBackend();
    const run = (threads: number): Float32Array[] => {
      be.setThreads(threads);
      const { indices, values } = sparseCodes(512, 32, 700, 50);
      const g = rand([512, 64], 51),
        x = rand([512, 64], 52),
        table = rand([700, 64], 53);
      const grads = {
        table: zeros([700, 64], "f32"),
        encoder: zeros([700, 64], "f32"),
        bias: zeros([700], "f32"),
        touched: new Uint8Array(700),
      };
      sparseCodesBackward(indices, values, g, x, table, grads);
      // Overwriting stale rows (streaming stores on x86-64) gives the touched rows bit for bit what adding to zero does.
      const stale = {
        table: rand([700, 64], 54),
        encoder: rand([700, 64], 55),
        bias: rand([700], 56),
        touched: new Uint8Array(700),
        overwriteUntouched: true,
      };
      sparseCodesBackward(indices, values, g, x, table, stale);
      expect(stale.touched).toEqual(grads.touched);
      for (let j = 0; j < 700; j++) {
        if (!grads.touched[j]) continue;
        const row = (t: Tensor): number[] => Array.from(f32(t).subarray(j * 64, (j + 1) * 64));
        expect(row(stale.table)).toEqual(row(grads.table));
        expect(row(stale.encoder)).toEqual(row(grads.encoder));
        expect(f32(stale.bias)[j]).toBe(f32(grads.bias)[j]);
      }
      const out = zeros([512, 64], "f32");
      sparseDecode(out, indices, values, table, 1);
      normalizeRows(table, 1e-7);
      return [f32(grads.table), f32(grads.encoder), f32(grads.bias), f32(out), f32(table)];
    };
    const one = run(1),
      two = run(2),
      three = run(3);
    be.setThreads(2);
    expect(two).toEqual(one);
    expect(three).toEqual(one);
  });

  it("rejects bad shapes and indices with clear errors", () => {
    select();
    const out = { values: zeros([2, 2], "f32"), indices: zeros([2, 2], "i32") };
    expect(() => biasTopK(zeros([2, 5], "f32"), zeros([4], "f32"), 2, out)).toThrow(
      /biasTopK\(bias\): expected \[5\], got \[4\]/,
    );
    expect(() => biasTopK(zeros([2, 5], "f32"), zeros([5], "f32"), 6, out)).toThrow(/k must be an integer in \[0, 5\]/);
    const idx = new Tensor("i32", [1, 1], Int32Array.of(9));
    expect(() => sparseDecode(zeros([1, 3], "f32"), idx, zeros([1, 1], "f32"), zeros([4, 3], "f32"))).toThrow(
      /indices\[0\] = 9 is outside \[0, 4\)/,
    );
    expect(() =>
      adamUpdate(zeros([2, 3], "f32"), zeros([3, 2], "f32"), zeros([2, 3], "f32"), zeros([2, 3], "f32"), {
        lr: 1,
        beta1: 0.9,
        beta2: 0.9,
        eps: 1e-8,
        t: 1,
      }),
    ).toThrow(/adamUpdate\(grad\): expected \[2, 3\], got \[3, 2\]/);
  });
});
