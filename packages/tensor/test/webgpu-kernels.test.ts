/**
 * The webgpu backend's non-GEMM kernels against the js backend (float64 accumulation) on small odd shapes: sizes
 * that are not multiples of 4 or of the 256-lane workgroups, f16 / bf16 inputs, broadcast, `out` (also aliasing an
 * input). Tolerance: relative error ‖a − b‖ / ‖b‖ ≤ 1e-5 over the output (f32 accumulation vs f64); layout, casts,
 * gathers and argmax are exact. Also the bad inputs: a host tensor, an allocation beyond maxBufferSize, a lost device.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AttentionMask } from "../src/backend.ts";
import { createJsBackend } from "../src/backends/js/index.ts";
import { createWebgpuBackend } from "../src/backends/webgpu/index.ts";
import {
  add,
  argmax,
  axpby,
  cast,
  copy,
  deviceZeros,
  f32ArrayToBf16,
  f32ArrayToF16,
  gatherRows,
  maskScores,
  max,
  mean,
  mul,
  Rng,
  randn,
  release,
  rmsNorm,
  ropeInPlace,
  scale,
  scatterAddRows,
  silu,
  siluGate,
  sliceRows,
  softmax,
  sum,
  swapAxes12,
  type Tensor,
  TensorError,
  toDevice,
  toHost,
  useBackend,
  writeSeq,
} from "../src/index.ts";
import { Tensor as TensorClass } from "../src/tensor.ts";
import { relErr } from "./reference.ts";
import { describeWebgpu, webgpu } from "./webgpu-available.ts";

const js = createJsBackend();
const rng = new Rng(20);
const rand = (shape: number[]): Tensor => randn(shape, rng);
const host = async (t: Tensor): Promise<number[]> => Array.from((await toHost(t)).data as ArrayLike<number>);
const values = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number>);
const TOL = 1e-5;

/** Compares a device result with the js result, within TOL (or exactly). */
async function same(gpu: Tensor, reference: Tensor, exact = false): Promise<void> {
  expect(gpu.device).toBe("webgpu");
  expect(gpu.shape).toEqual(reference.shape);
  expect(gpu.dtype).toBe(reference.dtype);
  const got = await host(gpu);
  if (exact) expect(got).toEqual(values(reference));
  else expect(relErr(got, values(reference))).toBeLessThanOrEqual(TOL);
}

describeWebgpu("webgpu kernels vs the js backend", () => {
  beforeAll(() => useBackend("webgpu"));
  afterAll(() => {
    const compiles = webgpu!.context.compileMs;
    const total = compiles.reduce((s, c) => s + c.ms, 0);
    console.log(
      `webgpu: ${compiles.length} pipelines compiled in ${total.toFixed(0)} ms: ${compiles.map((c) => `${c.key} ${c.ms.toFixed(0)}`).join(", ")}`,
    );
    useBackend("js");
  });

  it("elementwise: add / mul with suffix broadcast, scale, axpby, silu, siluGate, out= and out aliasing an input", async () => {
    const a = rand([3, 37]);
    const b = rand([37]);
    const c = rand([3, 37]);
    const [ga, gb, gc] = [a, b, c].map(toDevice) as [Tensor, Tensor, Tensor];
    await same(add(ga, gb), js.add(a, b));
    await same(mul(ga, gb), js.mul(a, b));
    await same(scale(ga, -0.37), js.scale(a, -0.37));
    await same(axpby(0.3, ga, -1.7, gc), js.axpby(0.3, a, -1.7, c));
    await same(silu(ga), js.silu(a));
    await same(siluGate(ga, gc), js.siluGate(a, c));
    const out = deviceZeros([3, 37]);
    expect(add(ga, gc, out)).toBe(out);
    await same(out, js.add(a, c));
    // out = a: the residual add of a forward, in place.
    const residual = toDevice(a);
    add(toDevice(js.copy(a)), gb, residual);
    expect(relErr(await host(residual), values(js.add(a, b)))).toBeLessThanOrEqual(TOL);
    const one = rand([5]);
    await same(mul(toDevice(one), toDevice(one)), js.mul(one, one));
  });

  it("rmsNorm with f32, bf16 and f16 weights over rows longer than a workgroup", async () => {
    const x = rand([5, 300]);
    const w = rand([300]);
    const bf = new TensorClass("bf16", [300], f32ArrayToBf16(w.data as Float32Array));
    const hf = new TensorClass("f16", [300], f32ArrayToF16(w.data as Float32Array));
    for (const weight of [w, bf, hf])
      await same(rmsNorm(toDevice(x), toDevice(weight), 1e-6), js.rmsNorm(x, weight, 1e-6));
    const out = deviceZeros([5, 300]);
    rmsNorm(toDevice(x), toDevice(w), 1e-5, out);
    await same(out, js.rmsNorm(x, w, 1e-5));
  });

  it("ropeInPlace: partial rotary dims and positions up to 32767 (own sin/cos range reduction)", async () => {
    const x = rand([3, 2, 10]);
    const positions = Int32Array.from([0, 7, 32767]);
    for (const rotaryDim of [10, 6]) {
      const g = toDevice(x);
      expect(ropeInPlace(g, positions, 10000, rotaryDim)).toBe(g);
      await same(g, js.ropeInPlace(js.copy(x), positions, 10000, rotaryDim));
    }
  });

  it("softmax: plain, causal with an offset, rows that see nothing, -Infinity scores, out=", async () => {
    const x = rand([6, 37]);
    await same(softmax(toDevice(x)), js.softmax(x));
    for (const causal of [
      { queries: 3, offset: 2 },
      { queries: 6, offset: -2 },
    ])
      await same(softmax(toDevice(x), { causal }), js.softmax(x, { causal }));
    const masked = js.copy(x);
    (masked.data as Float32Array).fill(-Infinity, 3, 20);
    const out = deviceZeros([6, 37]);
    softmax(toDevice(masked), {}, out);
    await same(out, js.softmax(masked));
    const long = rand([2, 700]);
    await same(softmax(toDevice(long)), js.softmax(long));
  });

  it("gatherRows from f32 / bf16 / f16 tables of odd width; scatterAddRows with repeated indices", async () => {
    const table = rand([11, 5]);
    const idx = new TensorClass("i32", [6], Int32Array.from([3, 0, 10, 3, 7, 1]));
    const bf = new TensorClass("bf16", [11, 5], f32ArrayToBf16(table.data as Float32Array));
    const hf = new TensorClass("f16", [11, 5], f32ArrayToF16(table.data as Float32Array));
    for (const t of [table, bf, hf]) await same(gatherRows(toDevice(t), toDevice(idx)), js.gatherRows(t, idx), true);
    const target = rand([11, 5]);
    const src = rand([6, 5]);
    const g = toDevice(target);
    expect(scatterAddRows(g, toDevice(idx), toDevice(src))).toBe(g);
    await same(g, js.scatterAddRows(js.copy(target), idx, src), true);
  });

  it("sum / mean / max / argmax over every axis, rows longer than a workgroup, NaN and ties", async () => {
    const x = rand([3, 5, 7]);
    for (const axis of [0, 1, 2]) {
      await same(sum(toDevice(x), axis), js.sum(x, axis));
      await same(mean(toDevice(x), axis), js.mean(x, axis));
      await same(max(toDevice(x), axis), js.max(x, axis), true);
      await same(argmax(toDevice(x), axis), js.argmax(x, axis), true);
    }
    const long = rand([2, 600]);
    const d = long.data as Float32Array;
    d[10] = 9;
    d[500] = 9; // a tie: the first wins
    d[600 + 599] = Number.NaN; // NaN counts as the maximum
    for (const axis of [0, 1]) {
      await same(sum(toDevice(long), axis), js.sum(long, axis));
      await same(max(toDevice(long), axis), js.max(long, axis), true);
      await same(argmax(toDevice(long), axis), js.argmax(long, axis), true);
    }
  });

  it("cast: f32 → bf16 / f16 bit for bit (halfway, subnormal, overflow, NaN, odd length), back, i32, u8, bool", async () => {
    const special = Float32Array.from([
      1,
      -2.5,
      1 + 2 ** -8,
      1 + 3 * 2 ** -11,
      65520,
      70000,
      2 ** -20,
      -(2 ** -25),
      1e-40,
    ]);
    const withNan = Float32Array.from([...special, Number.NaN, Number.POSITIVE_INFINITY]);
    const x = new TensorClass("f32", [withNan.length], withNan);
    for (const dtype of ["bf16", "f16"] as const) {
      const narrow = cast(toDevice(x), dtype);
      await same(narrow, js.cast(x, dtype), true);
      await same(cast(narrow, "f32"), js.cast(js.cast(x, dtype), "f32"), true);
      await same(copy(narrow), js.copy(js.cast(x, dtype)), true);
    }
    const ints = new TensorClass("f32", [5], Float32Array.from([0, -3.7, 2.9, 255, 17]));
    await same(cast(toDevice(ints), "i32"), js.cast(ints, "i32"), true);
    await same(cast(cast(toDevice(ints), "i32"), "f32"), js.cast(js.cast(ints, "i32"), "f32"), true);
    const bytes = new TensorClass("f32", [4], Float32Array.from([0, 1, 200, 255]));
    await same(cast(toDevice(bytes), "u8"), js.cast(bytes, "u8"), true);
    await same(cast(toDevice(ints), "bool"), js.cast(ints, "bool"), true);
    const u8 = new TensorClass("u8", [3], Uint8Array.from([0, 7, 255]));
    await same(cast(toDevice(u8), "f32"), js.cast(u8, "f32"), true);
  });

  it("layout: sliceRows (f32, i32, bf16 from odd and even elements), swapAxes12 (out=), maskScores, writeSeq", async () => {
    const x = rand([5, 3]);
    const bf = js.cast(x, "bf16");
    const ints = new TensorClass(
      "i32",
      [5, 3],
      Int32Array.from({ length: 15 }, (_, i) => i - 4),
    );
    for (const [t, start, count] of [
      [x, 1, 3],
      [ints, 2, 3],
      [bf, 1, 2],
      [bf, 2, 3],
      [bf, 0, 5],
    ] as const)
      await same(sliceRows(toDevice(t), start, count), js.sliceRows(t, start, count), true);

    const y = rand([2, 3, 4, 5]);
    await same(swapAxes12(toDevice(y)), js.swapAxes12(y), true);
    const swapped = deviceZeros([2, 4, 3, 5]);
    swapAxes12(toDevice(y), swapped);
    await same(swapped, js.swapAxes12(y), true);

    const scores = rand([2, 2, 3, 5]);
    const mask: AttentionMask = {
      queryMask: Uint8Array.from([1, 1, 1, 0, 1, 1]),
      keyMask: Uint8Array.from([1, 1, 1, 1, 1, 0, 1, 0, 1, 1]),
      past: 2,
    };
    const g = toDevice(scores);
    expect(maskScores(g, mask)).toBe(g);
    await same(g, js.maskScores(js.copy(scores), mask), true);

    const cache = rand([2, 3, 6, 4]);
    const src = rand([2, 2, 3, 4]);
    const gc = toDevice(cache);
    writeSeq(gc, toDevice(src), 3);
    const expected = js.copy(cache);
    js.writeSeq(expected, src, 3);
    await same(gc, expected, true);
  });

  it("refuses a host tensor in a webgpu kernel, naming the op, the argument and the fix", () => {
    const a = rand([2, 3]);
    expect(() => add(toDevice(a), a)).toThrow(/add\(b\): tensor f32 \[2, 3\] lives on cpu.*toDevice\(t\)/);
    expect(() => gatherRows(toDevice(a), new TensorClass("i32", [1], Int32Array.from([9])))).toThrow(
      expect.objectContaining({ code: "DEVICE_MISMATCH" }),
    );
    expect(() => toDevice(a).data).toThrow(/await toHost/);
  });

  it("an allocation beyond maxBufferSize is DEVICE_LIMIT with the shape, bytes and limit", () => {
    const limit = webgpu!.context.limits.maxBufferSize;
    const rows = Math.ceil(limit / 4 / 1024) + 1;
    expect(() => deviceZeros([rows, 1024])).toThrow(
      expect.objectContaining({
        code: "DEVICE_LIMIT",
        message: expect.stringMatching(new RegExp(`\\[${rows}, 1024\\].*${limit}`)),
      }),
    );
  });

  it("weights larger than one binding are gathered / scattered in row slices (tiny binding limit)", async () => {
    // Rows of 64 bytes, slices of 4 rows where offsets align to ≤ 64 bytes (lavapipe: 16), else of the alignment.
    const align = webgpu!.context.limits.minStorageBufferOffsetAlignment;
    const small = await createWebgpuBackend(js, { maxBindingBytes: 4 * Math.max(align, 64) + 4 });
    const table = rand([13, 16]);
    const idx = new TensorClass("i32", [4], Int32Array.from([12, 0, 5, 5])); // the output, 256 bytes, fits one binding
    const g = small.gatherRows(small.upload(table), small.upload(idx));
    expect(values(await small.download(g))).toEqual(values(js.gatherRows(table, idx)));
    const target = small.upload(table);
    const src = rand([4, 16]);
    small.scatterAddRows(target, small.upload(idx), small.upload(src));
    expect(values(await small.download(target))).toEqual(values(js.scatterAddRows(js.copy(table), idx, src)));
    small.context.device.destroy();
  });

  it("a released tensor is refused by name; a device error is thrown at the next sync, not swallowed", async () => {
    const t = toDevice(rand([3]));
    release(t);
    expect(() => scale(t, 2)).toThrow(/scale.*tensor f32 \[3\] was released/);
    webgpu!.context.pipeline("broken-on-purpose", () => "fn main( {");
    await expect(webgpu!.sync()).rejects.toThrow(expect.objectContaining({ code: "DEVICE_ERROR" }));
    await webgpu!.sync(); // reported once
  });

  it("a lost device fails every later call with DEVICE_LOST, never a hang", async () => {
    const doomed = await createWebgpuBackend(js);
    const x = doomed.upload(rand([4]));
    doomed.context.device.destroy();
    const pending = doomed.download(doomed.scale(x, 2));
    await expect(pending).rejects.toThrow(expect.objectContaining({ code: "DEVICE_LOST" }));
    expect(() => doomed.scale(x, 2)).toThrow(TensorError);
    expect(() => doomed.zeros([2], "f32")).toThrow(/device lost.*destroyed/);
  });
});
