import type { AdamStep, Backend, GemmOptions, SoftmaxOptions } from "../../backend.ts";
import { allocStorage, zeros } from "../../construct.ts";
import type { DType } from "../../dtype.ts";
import type { NativeAddon } from "../../native-addon.ts";
import { Tensor } from "../../tensor.ts";
import { gemmDims } from "../js/gemm.ts";
import { copy, hostStorage, maskScores, sliceRows, swapAxes12, writeSeq } from "../js/layout.ts";
import { axisView } from "../js/reduce.ts";
import { ropeInverseFrequencies } from "../js/rows.ts";

/** dtype codes of the add-on (native/difflens.h). */
const FLOAT_CODE: Partial<Record<DType, number>> = { f32: 0, f16: 1, bf16: 2 };

type FloatData = Float32Array | Uint16Array;
const f32 = (t: Tensor): Float32Array => t.data as Float32Array;
const floatData = (t: Tensor): FloatData => t.data as FloatData;
const code = (t: Tensor): number => FLOAT_CODE[t.dtype]!;
const NO_MASK = new Uint8Array(0);

/**
 * The native backend: every kernel runs in the C add-on on the tensors' own memory (outputs are
 * allocated here in JS, then filled in place). Casts involving integer dtypes, which no hot path
 * needs, reuse the js kernels.
 */
export function createNativeBackend(addon: NativeAddon, js: Backend): Backend {
  // An add-on built before the sparse/optimizer kernels existed: run those on the js kernels.
  const stale = typeof addon.sparseBackward !== "function";
  // Built before issue 22's kernels (no tanhSoftcap, and rmsNorm / softmax would ignore weightOffset / window): js.
  const staleFamily = typeof addon.tanhSoftcap !== "function";
  // Built before sparseBackward took overwriteUntouched (it would ignore it and add to stale rows): js for that case.
  const revision = typeof addon.kernelsRevision === "function" ? addon.kernelsRevision() : 0;
  function gemmCall(a: Tensor, b: Tensor, opts: GemmOptions, batch: number): Tensor {
    const dims = batch === 0 ? gemmDims(a.shape, b.shape, opts) : gemmDims(a.shape.slice(1), b.shape.slice(1), opts);
    const c = opts.out ?? zeros(batch === 0 ? [dims.m, dims.n] : [batch, dims.m, dims.n], "f32");
    addon.gemm(
      f32(a),
      floatData(b),
      code(b),
      f32(c),
      dims.m,
      dims.n,
      dims.k,
      !!opts.transA,
      !!opts.transB,
      opts.alpha ?? 1,
      opts.beta ?? 0,
      Math.max(1, batch),
    );
    return c;
  }

  function unary(x: Tensor, out: Tensor | undefined, run: (src: Float32Array, dst: Float32Array) => void): Tensor {
    const o = out ?? zeros(x.shape, "f32");
    run(f32(x), f32(o));
    return o;
  }

  function reduce(op: number, x: Tensor, axis: number): Tensor {
    const { outer, len, inner, outShape } = axisView(x.shape, axis);
    const out = zeros(outShape, op === 3 ? "i32" : "f32");
    addon.reduce(op, f32(x), out.data as Float32Array | Int32Array, outer, len, inner);
    return out;
  }

  /** Batched GEMM over the first bRows rows of each B matrix: one add-on call per batch entry, on views. */
  function prefixRowsGemm(a: Tensor, b: Tensor, opts: GemmOptions): Tensor {
    const [batch, m, kA] = a.shape as [number, number, number];
    const [, bR, bC] = b.shape as [number, number, number];
    const rows = opts.bRows!;
    const n = opts.transB ? rows : bC;
    const c = opts.out ?? zeros([batch, m, n], "f32");
    const view = (t: Tensor, p: number, shape: [number, number], stride: number): Tensor =>
      new Tensor(t.dtype, shape, (t.data as Float32Array).subarray(p * stride, p * stride + shape[0] * shape[1]));
    const single = { ...opts, bRows: undefined };
    for (let p = 0; p < batch; p++) {
      gemmCall(
        view(a, p, [m, kA], m * kA),
        view(b, p, [rows, bC], bR * bC),
        { ...single, out: view(c, p, [m, n], m * n) },
        0,
      );
    }
    return c;
  }

  return {
    name: "native",
    ...hostStorage,
    copy,
    sliceRows,
    swapAxes12,
    maskScores,
    writeSeq,
    gemm: (a, b, opts) => gemmCall(a, b, opts, 0),
    batchedGemm: (a, b, opts) =>
      opts.bRows !== undefined && opts.bRows !== b.shape[1]
        ? prefixRowsGemm(a, b, opts)
        : gemmCall(a, b, opts, a.shape[0]!),
    add: (a, b, out) => unary(a, out, (x, o) => addon.binary(0, x, f32(b), o)),
    mul: (a, b, out) => unary(a, out, (x, o) => addon.binary(1, x, f32(b), o)),
    scale: (a, s, out) => unary(a, out, (x, o) => addon.scale(x, s, o)),
    axpby: (alpha, a, beta, b, out) => unary(a, out, (x, o) => addon.axpby(alpha, x, beta, f32(b), o)),
    rmsNorm: (x, weight, eps, out, weightOffset = 0) =>
      staleFamily && weightOffset !== 0
        ? js.rmsNorm(x, weight, eps, out, weightOffset)
        : unary(x, out, (v, o) => addon.rmsNorm(v, floatData(weight), code(weight), o, weight.size, eps, weightOffset)),
    ropeInPlace(x: Tensor, positions: Int32Array, theta: number, rotaryDim?: number, invFreq?: Float32Array): Tensor {
      const [tokens, heads, headDim] = x.shape as [number, number, number];
      const inv = invFreq ?? ropeInverseFrequencies(theta, rotaryDim ?? headDim);
      addon.rope(f32(x), positions, inv, tokens, heads, headDim);
      return x;
    },
    softmax(x: Tensor, opts: SoftmaxOptions = {}, out?: Tensor): Tensor {
      const { queries = 0, offset = 0, window = 0 } = opts.causal ?? {};
      if (staleFamily && window !== 0) return js.softmax(x, opts, out);
      const n = x.shape[x.rank - 1]!;
      return unary(x, out, (v, o) => addon.softmax(v, o, n, queries, offset, window));
    },
    silu: (x, out) => unary(x, out, (v, o) => addon.silu(v, o)),
    siluGate: (gate, up, out) => unary(gate, out, (g, o) => addon.siluGate(g, f32(up), o)),
    tanhSoftcap: (x, cap, out) =>
      staleFamily ? js.tanhSoftcap(x, cap, out) : unary(x, out, (v, o) => addon.tanhSoftcap!(v, cap, o)),
    geluTanhGate: (gate, up, out) =>
      staleFamily ? js.geluTanhGate(gate, up, out) : unary(gate, out, (g, o) => addon.geluTanhGate!(g, f32(up), o)),
    topK(x: Tensor, k: number) {
      const n = x.shape[x.rank - 1]!;
      const outShape = [...x.shape.slice(0, -1), k];
      const values = zeros(outShape, "f32");
      const indices = zeros(outShape, "i32");
      addon.topK(f32(x), n, k, values.data, indices.data);
      return { values, indices };
    },
    gatherRows(table: Tensor, indices: Tensor): Tensor {
      const d = table.shape[1]!;
      const out = zeros([indices.size, d], "f32");
      addon.gatherRows(floatData(table), code(table), indices.data as Int32Array, out.data, d);
      return out;
    },
    scatterAddRows(target: Tensor, indices: Tensor, src: Tensor): Tensor {
      addon.scatterAddRows(f32(target), indices.data as Int32Array, f32(src), target.shape[1]!);
      return target;
    },
    sum: (x, axis) => reduce(0, x, axis),
    mean: (x, axis) => reduce(1, x, axis),
    max: (x, axis) => reduce(2, x, axis),
    argmax: (x, axis) => reduce(3, x, axis),
    cast(x: Tensor, dtype: DType): Tensor {
      const from = FLOAT_CODE[x.dtype];
      const to = FLOAT_CODE[dtype];
      if (from === undefined || to === undefined) return js.cast(x, dtype);
      const out = allocStorage(dtype, x.size) as FloatData;
      addon.convert(floatData(x), from, out, to);
      return new Tensor(dtype, x.shape, out);
    },
    biasTopK(z, bias, k, out, among) {
      if (stale) return js.biasTopK(z, bias, k, out, among);
      const noCand = among ? null : { c: new Int32Array(0), v: new Float32Array(0) };
      addon.biasTopK(
        f32(z),
        f32(bias),
        k,
        f32(out.values),
        out.indices.data as Int32Array,
        noCand ? noCand.c : (among!.candidates.data as Int32Array),
        among?.k ?? 0,
        noCand ? noCand.v : f32(among!.values),
        noCand ? noCand.c : (among!.indices.data as Int32Array),
      );
    },
    sparseDecode(out, indices, values, table, alpha) {
      if (stale) return js.sparseDecode(out, indices, values, table, alpha);
      addon.sparseDecode(f32(out), indices.data as Int32Array, f32(values), f32(table), table.shape[1]!, alpha);
      return out;
    },
    sparseCodesBackward(indices, values, g, x, table, grads) {
      if (stale || (grads.overwriteUntouched && revision < 1))
        return js.sparseCodesBackward(indices, values, g, x, table, grads);
      addon.sparseBackward(
        indices.data as Int32Array,
        f32(values),
        f32(g),
        f32(x),
        f32(table),
        f32(grads.table),
        f32(grads.encoder),
        f32(grads.bias),
        grads.touched,
        grads.overwriteUntouched === true,
      );
    },
    adamUpdate(param, grad, m, v, s) {
      if (stale) return js.adamUpdate(param, grad, m, v, s);
      addon.adam(
        f32(param),
        f32(grad),
        f32(m),
        f32(v),
        s.cols,
        s.rowMask ?? NO_MASK,
        !!s.clearGrad,
        s.stepSize,
        s.bc2Sqrt,
        s.beta1,
        s.beta2,
        s.eps,
      );
    },
    projectOutRows: (grad, w, rowMask) =>
      stale
        ? js.projectOutRows(grad, w, rowMask)
        : addon.projectOutRows(f32(grad), f32(w), w.shape[w.rank - 1]!, rowMask ?? NO_MASK),
    normalizeRows: (w, eps) =>
      stale ? js.normalizeRows(w, eps) : addon.normalizeRows(f32(w), w.shape[w.rank - 1]!, eps),
    ...(addon.adamUnitRows
      ? {
          adamUpdateUnitRows(w: Tensor, grad: Tensor, m: Tensor, v: Tensor, s: AdamStep, normEps: number) {
            addon.adamUnitRows!(
              f32(w),
              f32(grad),
              f32(m),
              f32(v),
              s.cols,
              s.rowMask ?? NO_MASK,
              s.stepSize,
              s.bc2Sqrt,
              s.beta1,
              s.beta2,
              s.eps,
              normEps,
            );
          },
        }
      : {}),
    setThreads: (n) => addon.setThreads(n),
    getThreads: () => addon.getThreads(),
  };
}
