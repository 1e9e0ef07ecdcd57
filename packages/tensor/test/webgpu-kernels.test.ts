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
  toHostAll,
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
    useBackend("js");
  });

  it("upload / download round-trip every dtype (u8 and bool widened on the device), empty tensors; i64 refused", async () => {
    const cases = [
      new TensorClass("f32", [3], Float32Array.from([1.5, -0, Number.NaN])),
      new TensorClass("i32", [2], Int32Array.from([-7, 2147483647])),
      new TensorClass("bf16", [3], Uint16Array.from([0x3f80, 0xffff, 1])),
      new TensorClass("f16", [1], Uint16Array.from([0x7c00])),
      new TensorClass("u8", [5], Uint8Array.from([0, 1, 128, 255, 7])),
      new TensorClass("bool", [2], Uint8Array.from([1, 0])),
      new TensorClass("f32", [0, 4], new Float32Array(0)),
    ];
    const back = await toHostAll(cases.map(toDevice));
    back.forEach((t, i) => {
      expect(t.dtype).toBe(cases[i]!.dtype);
      expect(t.shape).toEqual(cases[i]!.shape);
      expect(Array.from(t.data as ArrayLike<number>)).toEqual(values(cases[i]!));
    });
    await same(add(toDevice(cases[6]!), toDevice(new TensorClass("f32", [4], new Float32Array(4)))), cases[6]!, true);
    const wide = new TensorClass("i64", [1], BigInt64Array.from([1n]));
    expect(() => toDevice(wide)).toThrow(/i64.*cast to i32/);
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
    // Device indices are not read back to be range-checked: out-of-range rows gather zeros and scatter nowhere.
    const wild = toDevice(new TensorClass("i32", [2], Int32Array.from([-1, 11])));
    expect(await host(gatherRows(toDevice(table), wild))).toEqual(new Array(10).fill(0));
    const untouched = toDevice(target);
    scatterAddRows(untouched, wild, toDevice(rand([2, 5])));
    expect(await host(untouched)).toEqual(values(target));
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

  it("tensors larger than one binding run in row slices (tiny binding limit): gather / scatter, elementwise, rows, reductions", async () => {
    const ctx = webgpu!.context;
    const saved = ctx.maxBindingBytes;
    // Rows of 64 bytes, slices of 4 rows where offsets align to ≤ 64 bytes (lavapipe: 16), else of the alignment.
    ctx.maxBindingBytes = 4 * Math.max(ctx.limits.minStorageBufferOffsetAlignment, 64) + 4;
    try {
      const table = rand([13, 16]);
      const idx = new TensorClass("i32", [4], Int32Array.from([12, 0, 5, 5])); // the output, 256 bytes, fits
      await same(gatherRows(toDevice(table), toDevice(idx)), js.gatherRows(table, idx), true);
      const src = rand([4, 16]);
      const target = toDevice(table);
      scatterAddRows(target, toDevice(idx), toDevice(src));
      await same(target, js.scatterAddRows(js.copy(table), idx, src), true);

      const a = rand([7, 16]);
      const b = rand([7, 16]);
      const row = rand([16]);
      await same(add(toDevice(a), toDevice(row)), js.add(a, row));
      await same(axpby(0.5, toDevice(a), 2, toDevice(b)), js.axpby(0.5, a, 2, b));
      await same(silu(toDevice(a)), js.silu(a));
      await same(rmsNorm(toDevice(a), toDevice(row), 1e-6), js.rmsNorm(a, row, 1e-6));
      const causal = { queries: 7, offset: 1 };
      await same(softmax(toDevice(a), { causal }), js.softmax(a, { causal }));
      await same(sum(toDevice(a), 1), js.sum(a, 1));
      await same(argmax(toDevice(a), 1), js.argmax(a, 1), true);
      const cube = rand([6, 3, 4]); // strided: 48-byte x rows, 16-byte out rows
      await same(mean(toDevice(cube), 1), js.mean(cube, 1));
    } finally {
      ctx.maxBindingBytes = saved;
    }
  });

  it("a released tensor is refused by name; a device error is thrown at the next sync, not swallowed", async () => {
    const t = toDevice(rand([3]));
    release(t);
    expect(() => scale(t, 2)).toThrow(/scale.*tensor f32 \[3\] was released/);
    webgpu!.context.device.createBuffer({ size: 4, usage: 0 }); // a validation error, outside any kernel
    await expect(webgpu!.sync()).rejects.toThrow(expect.objectContaining({ code: "DEVICE_ERROR" }));
    await webgpu!.sync(); // reported once
  });

  it("a buffer freed past the pool's cap while queued commands still use it is destroyed only after their submit", async () => {
    const noPool = await createWebgpuBackend(js, { poolFreeBytes: 0 });
    const host = rand([5]);
    const x = noPool.upload(host);
    const y = noPool.scale(x, 2); // recorded, not submitted
    noPool.release(x); // over the cap: retired, not destroyed under the pending command
    expect(values(await noPool.download(y))).toEqual(values(js.scale(host, 2)));
    await noPool.sync();
    noPool.context.device.destroy();
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
