/**
 * The webgpu SAE kernels (sparseDecode, sparseCodesBackward, adamUpdate, projectOutRows, normalizeRows) against the
 * js backend on small shapes: V 300 latents, d 67, 19 rows, k 5, latents repeated across rows, inactive values
 * (≤ 0, −0, NaN), an AuxK-like second call accumulating into the same gradients. Tolerance: relative error
 * ‖a − b‖ / ‖b‖ ≤ 1e-5 per output (f32 summation order; js sums dz and Adam in float64), Adam after 5 steps.
 */
import { expect, it } from "vitest";
import type { Backend, SparseCodesGrads } from "../src/backend.ts";
import { gridRows } from "../src/backends/webgpu/kernel-util.ts";
import { ROW_THREADS } from "../src/backends/webgpu/sparse-common.ts";
import { sparseDecode } from "../src/backends/webgpu/sparse-decode.ts";
import { WGSL_SORT_SEGMENT } from "../src/backends/webgpu/sparse-sort.ts";
import * as ops from "../src/index.ts";
import { DeviceError, Rng, Tensor, useBackend } from "../src/index.ts";
import { relErr } from "./reference.ts";
import { describeWebgpu, webgpu } from "./webgpu-available.ts";
import { clone, D, f32, ROWS, rand, sparseCode, TOL, V } from "./webgpu-sparse-fixtures.ts";

const js = useBackend("js");

describeWebgpu("webgpu SAE kernels equal the js backend", () => {
  const backend = webgpu!;
  const ctx = backend.context;
  const up = (t: Tensor): Tensor => backend.upload(t);
  const down = async (t: Tensor): Promise<Float32Array> => f32(await backend.download(t));

  it("sparseDecode: two accumulating calls (main + AuxK-like) into the same output", async () => {
    const table = rand([V, D], 1);
    const out = rand([ROWS, D], 2);
    const a = sparseCode(3),
      b = sparseCode(4);
    const want = clone(out);
    js.sparseDecode(want, a.indices, a.values, table, 1);
    js.sparseDecode(want, b.indices, b.values, table, 0.37);
    const gTable = up(table),
      got = up(out);
    backend.sparseDecode(got, up(a.indices), up(a.values), gTable, 1);
    backend.sparseDecode(got, up(b.indices), up(b.values), gTable, 0.37);
    expect(relErr(await down(got), f32(want))).toBeLessThan(TOL);
  });

  it("sparseCodesBackward: accumulates like js (two calls), deterministically, and leaves `touched` alone", async () => {
    const table = rand([V, D], 5),
      x = rand([ROWS, D], 6);
    const g1 = rand([ROWS, D], 7),
      g2 = rand([ROWS, D], 8, 0.5);
    const c1 = sparseCode(9),
      c2 = sparseCode(10);
    const start = { table: rand([V, D], 11, 0.1), encoder: rand([V, D], 12, 0.1), bias: rand([V], 13, 0.1) };
    const want: SparseCodesGrads = {
      table: clone(start.table),
      encoder: clone(start.encoder),
      bias: clone(start.bias),
      touched: new Uint8Array(V),
    };
    js.sparseCodesBackward(c1.indices, c1.values, g1, x, table, want);
    js.sparseCodesBackward(c2.indices, c2.values, g2, x, table, want);

    const run = async (): Promise<Float32Array[]> => {
      const grads: SparseCodesGrads = {
        table: up(start.table),
        encoder: up(start.encoder),
        bias: up(start.bias),
        touched: new Uint8Array(V),
      };
      const [gx, gTable] = [up(x), up(table)];
      backend.sparseCodesBackward(up(c1.indices), up(c1.values), up(g1), gx, gTable, grads);
      backend.sparseCodesBackward(up(c2.indices), up(c2.values), up(g2), gx, gTable, grads);
      expect(grads.touched.every((t) => t === 0)).toBe(true);
      return Promise.all([down(grads.table), down(grads.encoder), down(grads.bias)]);
    };
    const first = await run();
    expect(relErr(first[0]!, f32(want.table))).toBeLessThan(TOL);
    expect(relErr(first[1]!, f32(want.encoder))).toBeLessThan(TOL);
    expect(relErr(first[2]!, f32(want.bias))).toBeLessThan(TOL);
    const second = await run();
    for (let i = 0; i < 3; i++) expect(second[i]).toEqual(first[i]);
  });

  it("sparseCodesBackward: its scratch grows for a larger call and serves a smaller one after", async () => {
    for (const [v, rows, k] of [
      [500, 30, 7],
      [20, 4, 3],
    ] as const) {
      const table = rand([v, D], v),
        x = rand([rows, D], v + 1),
        g = rand([rows, D], v + 2);
      const { indices, values } = sparseCode(v + 3, rows, k, v);
      const zeros = (b: Backend): SparseCodesGrads => ({
        table: b.zeros([v, D], "f32"),
        encoder: b.zeros([v, D], "f32"),
        bias: b.zeros([v], "f32"),
        touched: new Uint8Array(v),
      });
      const want = zeros(js),
        got = zeros(backend);
      js.sparseCodesBackward(indices, values, g, x, table, want);
      backend.sparseCodesBackward(up(indices), up(values), up(g), up(x), up(table), got);
      expect(relErr(await down(got.table), f32(want.table))).toBeLessThan(TOL);
      expect(relErr(await down(got.encoder), f32(want.encoder))).toBeLessThan(TOL);
      expect(relErr(await down(got.bias), f32(want.bias))).toBeLessThan(TOL);
    }
  });

  it("adamUpdate: 5 steps (clearGrad on), param and moments within 1e-5", async () => {
    const param = rand([V, D], 20);
    const want = { p: clone(param), m: new Tensor("f32", [V, D], new Float32Array(V * D)) };
    const wantV = clone(want.m);
    const got = { p: up(param), m: up(want.m), v: up(wantV) };
    for (let t = 1; t <= 5; t++) {
      const grad = rand([V, D], 20 + t, 0.01);
      const step = {
        stepSize: 1e-3 / (1 - 0.9 ** t),
        bc2Sqrt: Math.sqrt(1 - 0.999 ** t),
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        cols: D,
        clearGrad: true,
      };
      const gGrad = up(grad);
      js.adamUpdate(want.p, clone(grad), want.m, wantV, step);
      backend.adamUpdate(got.p, gGrad, got.m, got.v, step);
      if (t === 5) expect((await down(gGrad)).every((v) => v === 0)).toBe(true);
    }
    expect(relErr(await down(got.p), f32(want.p))).toBeLessThan(TOL);
    expect(relErr(await down(got.m), f32(want.m))).toBeLessThan(TOL);
    expect(relErr(await down(got.v), f32(wantV))).toBeLessThan(TOL);
  });

  it("projectOutRows and normalizeRows", async () => {
    const w = rand([V, D], 30),
      grad = rand([V, D], 31);
    const wantW = clone(w),
      wantG = clone(grad);
    js.normalizeRows(wantW, 1.1920929e-7);
    js.projectOutRows(wantG, wantW);
    const gw = up(w),
      gg = up(grad);
    backend.normalizeRows(gw, 1.1920929e-7);
    backend.projectOutRows(gg, gw);
    expect(relErr(await down(gw), f32(wantW))).toBeLessThan(TOL);
    expect(relErr(await down(gg), f32(wantG))).toBeLessThan(TOL);
  });

  it("sortSegment sorts segments of 0, 1, 2, 3, 5, 63, 64, 65 and 200 entries in place (the backward's stable fill)", async () => {
    const lengths = [0, 1, 2, 3, 5, 63, 64, 65, 200];
    const rng = new Rng(60);
    const segments = lengths.map((n) => {
      const seg = new Set<number>();
      while (seg.size < n) seg.add(rng.int(1_000_000_000));
      return [...seg];
    });
    const offsets = [0];
    for (const n of lengths) offsets.push(offsets.at(-1)! + n);
    const order = up(new Tensor("i32", [offsets.at(-1)!], Int32Array.from(segments.flat())));
    const pipeline = ctx.pipeline(
      "test.sortSegment",
      () => /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> order: array<u32>;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;
var<workgroup> segment: vec2u;
${WGSL_SORT_SEGMENT}
@compute @workgroup_size(${ROW_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) { segment = vec2u(offsets[wid.x], offsets[wid.x + 1u] - offsets[wid.x]); }
  let s = workgroupUniformLoad(&segment);
  sortSegment(s.x, s.y, lid);
}`,
    );
    ctx.dispatch(pipeline, [order, up(new Tensor("i32", [offsets.length], Int32Array.from(offsets)))], undefined, [
      lengths.length,
    ]);
    const got = Array.from((await backend.download(order)).data as Int32Array);
    expect(got).toEqual(segments.flatMap((seg) => [...seg].sort((a, b) => a - b)));
  });

  it("rows beyond one grid dimension (a 2-D grid with an overhanging last row of workgroups)", async () => {
    // The same context with maxComputeWorkgroupsPerDimension 5: 19 rows → a [5, 4] grid, one workgroup idle.
    const limits = new Proxy(ctx.limits, {
      get: (l, key) =>
        key === "maxComputeWorkgroupsPerDimension" ? 5 : (l as unknown as Record<string | symbol, unknown>)[key],
    });
    const small = new Proxy(ctx, {
      get: (c, key) => {
        if (key === "limits") return limits;
        const value = (c as unknown as Record<string | symbol, unknown>)[key];
        return typeof value === "function" ? value.bind(c) : value;
      },
    });
    expect(gridRows(small, ROWS)).toEqual([5, 4]);
    const table = rand([V, D], 40),
      out = rand([ROWS, D], 41);
    const { indices, values } = sparseCode(42);
    const want = js.sparseDecode(clone(out), indices, values, table, 1);
    const got = sparseDecode(small, up(out), up(indices), up(values), up(table), 1);
    expect(relErr(await down(got), f32(want))).toBeLessThan(TOL);
  });

  it("a host tensor is refused with a DeviceError naming the kernel and argument", () => {
    const { indices, values } = sparseCode(50);
    const call = () => backend.sparseDecode(up(rand([ROWS, D], 51)), up(indices), values, up(rand([V, D], 52)), 1);
    expect(call).toThrow(DeviceError);
    expect(call).toThrow(/sparseDecode\(values\)/);
  });

  it("the public ops run them on webgpu (no host index check; Adam's rowMask ignored: unflagged rows have g = 0)", async () => {
    const table = rand([V, D], 80),
      x = rand([ROWS, D], 81),
      g = rand([ROWS, D], 82);
    const { indices, values } = sparseCode(83);
    const rowMask = new Uint8Array(V); // the latents with gradient: written by the js backward (first run)
    const run = (place: (t: Tensor) => Tensor): Tensor[] => {
      const out = place(rand([ROWS, D], 84));
      const grads = {
        table: place(js.zeros([V, D], "f32")),
        encoder: place(js.zeros([V, D], "f32")),
        bias: place(js.zeros([V], "f32")),
        touched: rowMask,
      };
      const [i, v, w] = [place(indices), place(values), place(clone(table))];
      ops.sparseDecode(out, i, v, w, -1);
      ops.sparseCodesBackward(i, v, place(g), place(x), w, grads);
      const [m, s] = [place(js.zeros([V, D], "f32")), place(js.zeros([V, D], "f32"))];
      const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, t: 1 };
      ops.adamUpdate(w, grads.table, m, s, h, { rowMask, clearGrad: true });
      return [out, grads.encoder, grads.bias, w, grads.table];
    };
    const want = run((t) => t);
    await useBackend("webgpu");
    try {
      const got = await ops.toHostAll(run((t) => ops.toDevice(t)));
      for (const [i, t] of got.entries()) expect(relErr(f32(t), f32(want[i]!))).toBeLessThan(TOL);
      // overwriteUntouched reads the host array `touched`, which a device backward never writes: refused, with the fix.
      const overwrite = () =>
        ops.sparseCodesBackward(
          ops.toDevice(indices),
          ops.toDevice(values),
          ops.toDevice(g),
          ops.toDevice(x),
          ops.toDevice(table),
          {
            table: ops.toDevice(js.zeros([V, D], "f32")),
            encoder: ops.toDevice(js.zeros([V, D], "f32")),
            bias: ops.toDevice(js.zeros([V], "f32")),
            touched: new Uint8Array(V),
            overwriteUntouched: true,
          },
        );
      expect(overwrite).toThrow(/overwriteUntouched\): needs a host backend .* zero the gradients/);
    } finally {
      useBackend("js");
    }
  });
});
