/**
 * The webgpu SAE kernels on tensors larger than one storage binding: a backend opened with maxBindingBytes 40 000
 * binds the [300, 67] f32 table (80 400 bytes) in three chunks of ≤ 128 latents (offsets aligned to 256 bytes), and
 * every kernel still equals the js backend (tolerance as webgpu-sparse.test.ts).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SparseCodesGrads } from "../src/backend.ts";
import { createWebgpuBackend, type WebgpuBackend } from "../src/backends/webgpu/index.ts";
import { rowChunks } from "../src/backends/webgpu/sparse-common.ts";
import { Tensor, useBackend } from "../src/index.ts";
import { relErr } from "./reference.ts";
import { describeWebgpu } from "./webgpu-available.ts";
import { clone, D, f32, ROWS, rand, sparseCode, TOL, V } from "./webgpu-sparse-fixtures.ts";

const js = useBackend("js");

describeWebgpu("webgpu SAE kernels split tables larger than one storage binding", () => {
  let backend: WebgpuBackend;
  beforeAll(async () => {
    backend = await createWebgpuBackend(js, { maxBindingBytes: 40_000 });
  });
  afterAll(() => {
    backend.context.device.destroy();
    useBackend("js");
  });
  const up = (t: Tensor): Tensor => backend.upload(t);
  const down = async (t: Tensor): Promise<Float32Array> => f32(await backend.download(t));

  it("splits [300, 67] f32 into aligned chunks; refuses a row larger than a binding", () => {
    const ctx = backend.context;
    const align = ctx.limits.minStorageBufferOffsetAlignment;
    const table = backend.zeros([V, D], "f32");
    const chunks = rowChunks(ctx, V, 4 * D, [table]);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) {
      expect((c.rowStart * 4 * D) % align).toBe(0);
      expect(c.rowCount * 4 * D).toBeLessThanOrEqual(40_000);
    }
    expect(chunks.reduce((n, c) => n + c.rowCount, 0)).toBe(V);
    const wide = backend.zeros([2, 10_001], "f32");
    expect(() => rowChunks(ctx, 2, 40_004, [wide])).toThrow(
      /\[2, 10001\].*does not fit one storage binding of 40000 bytes/,
    );
  });

  it("sparseDecode, sparseCodesBackward (two calls), Adam, normalizeRows, projectOutRows equal js", async () => {
    const table = rand([V, D], 70),
      x = rand([ROWS, D], 71),
      g = rand([ROWS, D], 72);
    const c1 = sparseCode(73),
      c2 = sparseCode(74);
    const want = { out: rand([ROWS, D], 75), grads: zeros(), w: clone(table) };
    const got = { out: up(want.out), grads: zeros(up), w: up(table) };
    const gTable = up(table);

    js.sparseDecode(want.out, c1.indices, c1.values, table, 1);
    backend.sparseDecode(got.out, up(c1.indices), up(c1.values), gTable, 1);
    for (const c of [c1, c2]) {
      js.sparseCodesBackward(c.indices, c.values, g, x, table, want.grads);
      backend.sparseCodesBackward(up(c.indices), up(c.values), up(g), up(x), gTable, got.grads);
    }
    const grad = rand([V, D], 76, 0.01),
      m = rand([V, D], 77, 0.01),
      v = new Tensor("f32", [V, D], f32(rand([V, D], 78, 1e-4)).map(Math.abs));
    const step = { stepSize: 1e-3, bc2Sqrt: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, cols: D, clearGrad: true };
    js.adamUpdate(want.w, clone(grad), clone(m), clone(v), step);
    backend.adamUpdate(got.w, up(grad), up(m), up(v), step);
    js.normalizeRows(want.w, 1e-7);
    backend.normalizeRows(got.w, 1e-7);
    js.projectOutRows(want.grads.encoder, want.w);
    backend.projectOutRows(got.grads.encoder, got.w);

    expect(relErr(await down(got.out), f32(want.out))).toBeLessThan(TOL);
    expect(relErr(await down(got.grads.table), f32(want.grads.table))).toBeLessThan(TOL);
    expect(relErr(await down(got.grads.encoder), f32(want.grads.encoder))).toBeLessThan(TOL);
    expect(relErr(await down(got.grads.bias), f32(want.grads.bias))).toBeLessThan(TOL);
    expect(relErr(await down(got.w), f32(want.w))).toBeLessThan(TOL);
  });
});

function zeros(place: (t: Tensor) => Tensor = (t) => t): SparseCodesGrads {
  const z = (shape: number[]): Tensor => place(js.zeros(shape, "f32"));
  return { table: z([V, D]), encoder: z([V, D]), bias: z([V]), touched: new Uint8Array(V) };
}
