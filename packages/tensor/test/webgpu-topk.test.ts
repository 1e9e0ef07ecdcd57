/**
 * webgpu topK / biasTopK vs the js backend's kernels, which define the semantics (backends/js/select.ts, sparse.ts):
 * values descending, ties lower index first, NaN above +Inf, −0 equal to +0. Selection is exact, so the comparison
 * is exact too (values bit for bit, indices equal).
 */
import { beforeAll, expect, it } from "vitest";
import { topK as jsTopK } from "../src/backends/js/select.ts";
import { biasTopK as jsBiasTopK } from "../src/backends/js/sparse.ts";
import { biasTopK, topK } from "../src/backends/webgpu/topk.ts";

import {
  biasTopK as biasTopKOp,
  fromArray,
  Rng,
  randn,
  type Tensor,
  toDevice,
  toHostAll,
  topK as topKOp,
  useBackend,
  zeros,
} from "../src/index.ts";
import { describeWebgpu, webgpu } from "./webgpu-available.ts";

const rng = new Rng(2021);

/** Rows with many exact ties (values from a small set), NaNs, ±0 and ±Inf sprinkled in. */
function awkward(rows: number, n: number): Tensor {
  const x = new Float32Array(rows * n);
  const specials = [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (let i = 0; i < x.length; i++) {
    const u = rng.nextFloat();
    x[i] = u < 0.1 ? specials[Math.floor(u * 50)]! : Math.round((rng.nextFloat() - 0.5) * 16) / 4;
  }
  return fromArray(x, [rows, n]);
}

const ints = (t: Tensor): number[] => Array.from(t.data as Int32Array);
const bits = (t: Tensor): number[] => Array.from(new Uint32Array((t.data as Float32Array).buffer));

describeWebgpu("webgpu top-k", () => {
  const backend = webgpu!;
  beforeAll(() => useBackend("webgpu"));

  it("topK equals js on ties, NaN, ±0, ±Inf, k = 1, k = n and odd row lengths", async () => {
    for (const [rows, n, k] of [
      [3, 37, 5],
      [2, 300, 32], // several elements per invocation
      [4, 9, 9], // k = n: everything, sorted
      [1, 1, 1],
      [5, 1000, 1],
      [2, 700, 515], // k beyond 512
    ] as const) {
      const x = awkward(rows, n);
      const want = jsTopK(x, k);
      const got = topK(backend.context, toDevice(x), k);
      const [values, indices] = await toHostAll([got.values, got.indices]);
      expect(values!.shape).toEqual([rows, k]);
      expect(ints(indices!), `${rows}x${n} k=${k}`).toEqual(ints(want.indices));
      expect(bits(values!), `${rows}x${n} k=${k}`).toEqual(bits(want.values));
    }
  });

  it("topK on distinct values (the SAE shape class: n ≫ k) and on a row with a tie straddling place k", async () => {
    const x = randn([3, 4096], rng);
    const want = jsTopK(x, 32);
    const got = topK(backend.context, toDevice(x), 32);
    const [values, indices] = await toHostAll([got.values, got.indices]);
    expect(ints(indices!)).toEqual(ints(want.indices));
    expect(bits(values!)).toEqual(bits(want.values));
    // 600 equal values, k falls inside them: the radix select must resolve the tie by index.
    const tie = fromArray(
      new Float32Array(600).fill(1.5).map((v, i) => (i % 97 === 0 ? 2 : v)),
      [1, 600],
    );
    const tieGot = topK(backend.context, toDevice(tie), 20);
    const [, tieIdx] = await toHostAll([tieGot.values, tieGot.indices]);
    expect(ints(tieIdx!)).toEqual(ints(jsTopK(tie, 20).indices));
  });

  it("the public ops reach the kernels: topK of a rank-3 tensor, biasTopK through ops-sparse", async () => {
    const x = awkward(6, 45).reshape([2, 3, 45]);
    const got = topKOp(toDevice(x), 4);
    expect(got.values.shape).toEqual([2, 3, 4]);
    const [values, indices] = await toHostAll([got.values, got.indices]);
    const want = jsTopK(x, 4);
    expect(ints(indices!)).toEqual(ints(want.indices));
    expect(bits(values!)).toEqual(bits(want.values));
    const z = awkward(3, 40);
    const bias = randn([40], rng);
    const out = { values: backend.context.alloc("f32", [3, 5]), indices: backend.context.alloc("i32", [3, 5]) };
    biasTopKOp(toDevice(z), toDevice(bias), 5, out);
    const wantOut = { values: zeros([3, 5]), indices: zeros([3, 5], "i32") };
    jsBiasTopK(z, bias, 5, wantOut);
    const [bv, bi] = await toHostAll([out.values, out.indices]);
    expect(ints(bi!)).toEqual(ints(wantOut.indices));
    expect(bits(bv!)).toEqual(bits(wantOut.values));
  });

  it("biasTopK (with and without among, duplicate and unsorted candidates) equals js", async () => {
    const rows = 5;
    const n = 203;
    const z = awkward(rows, n);
    const bias = fromArray(
      Float32Array.from({ length: n }, (_, j) => (j % 3 === 0 ? 0.25 : -0.125 * (j % 5))),
      [n],
    );
    const k = 7;
    const candidates = fromArray(Int32Array.from([150, 3, 77, 3, 200, 9, 120, 64, 31, 31, 5]), [11], "i32");
    const kc = 6;
    const want = { values: zeros([rows, k]), indices: zeros([rows, k], "i32") };
    const wantAmong = { values: zeros([rows, kc]), indices: zeros([rows, kc], "i32"), candidates, k: kc };
    jsBiasTopK(z, bias, k, want, wantAmong);
    const ctx = backend.context;
    const out = { values: ctx.alloc("f32", [rows, k]), indices: ctx.alloc("i32", [rows, k]) };
    const among = {
      values: ctx.alloc("f32", [rows, kc]),
      indices: ctx.alloc("i32", [rows, kc]),
      candidates: toDevice(candidates),
      k: kc,
    };
    biasTopK(ctx, toDevice(z), toDevice(bias), k, out);
    const [v1, i1] = await toHostAll([out.values, out.indices]);
    expect(ints(i1!)).toEqual(ints(want.indices));
    expect(bits(v1!)).toEqual(bits(want.values));
    biasTopK(ctx, toDevice(z), toDevice(bias), k, out, among);
    const [v2, i2, va, ia] = await toHostAll([out.values, out.indices, among.values, among.indices]);
    expect(bits(v2!)).toEqual(bits(want.values));
    expect(ints(i2!)).toEqual(ints(want.indices));
    expect(ints(ia!)).toEqual(ints(wantAmong.indices));
    expect(bits(va!)).toEqual(bits(wantAmong.values));
  });
});
