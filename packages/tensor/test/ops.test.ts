import { describe, expect, it } from "vitest";
import {
  add,
  argmax,
  currentBackend,
  fromArray,
  gemm,
  nativeAvailable,
  ropeInPlace,
  ShapeError,
  softmax,
  TensorError,
  toFloat32Array,
  topK,
  useBackend,
  zeros,
} from "../src/index.ts";

describe("shape checks at the public boundary", () => {
  it("gemm names the operand, both shapes and the likely fix", () => {
    useBackend("js");
    const a = zeros([4, 1024]);
    const b = zeros([32768, 1024]);
    expect(() => gemm(a, b)).toThrow(ShapeError);
    expect(() => gemm(a, b)).toThrow("gemm(b): expected [1024, 32768], got [32768, 1024] — did you mean transB: true?");
    expect(gemm(a, b, { transB: true }).shape).toEqual([4, 32768]);
    expect(() => gemm(a, zeros([1024, 8]), { beta: 1 })).toThrow(TensorError);
  });

  it("broadcast, topK and indices errors carry codes", () => {
    expect(() => add(zeros([2, 3]), zeros([2]))).toThrow(/suffix/);
    try {
      topK(zeros([2, 3]), 4);
    } catch (e) {
      expect((e as TensorError).code).toBe("BAD_ARGUMENT");
    }
    expect(() => argmax(zeros([2, 3]), 2)).toThrow(/axis 2/);
  });
});

describe("js kernels on tiny hand-checked cases", () => {
  it("gemm with transposes, alpha and beta", () => {
    useBackend("js");
    const a = fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = fromArray([1, 0, 0, 1, 1, 1], [3, 2]);
    expect(Array.from(toFloat32Array(gemm(a, b)))).toEqual([4, 5, 10, 11]);
    const out = fromArray([1, 1, 1, 1], [2, 2]);
    gemm(a, fromArray([1, 0, 1, 0, 1, 1], [2, 3]), { transB: true, alpha: 2, beta: -1, out });
    expect(Array.from(toFloat32Array(out))).toEqual([7, 9, 19, 21]);
    const bBf16 = fromArray([1, 0, 0, 1, 1, 1], [3, 2], "bf16");
    expect(Array.from(toFloat32Array(gemm(a, bBf16)))).toEqual([4, 5, 10, 11]);
  });

  it("causal softmax, topK ties and rope", () => {
    const s = softmax(fromArray([0, 0, 0, 0, 0, 0], [2, 3]), { causal: { queries: 2, offset: 0 } });
    expect(Array.from(toFloat32Array(s))).toEqual([1, 0, 0, 0.5, 0.5, 0]);
    const { values, indices } = topK(fromArray([1, 3, 3, NaN, 2], [1, 5]), 3);
    expect(Array.from(toFloat32Array(values))).toEqual([NaN, 3, 3]);
    expect(Array.from(indices.data as Int32Array)).toEqual([3, 1, 2]);
    const x = fromArray([1, 0, 0, 0], [1, 1, 4]);
    ropeInPlace(x, new Int32Array([1]), 10000);
    expect(x.data[0]).toBeCloseTo(Math.cos(1), 6);
    expect(x.data[2]).toBeCloseTo(Math.sin(1), 6);
  });

  it("backend selection is explicit", () => {
    expect(currentBackend().name).toBe("js");
    const info = nativeAvailable();
    expect(typeof info.ok).toBe("boolean");
    if (!info.ok) expect(() => useBackend("native")).toThrow(TensorError);
    useBackend("js");
  });
});
