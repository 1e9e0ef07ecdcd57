import type { AdamStep, SparseCodesGrads, TopKAmong, TopKOutput } from "./backend.ts";
import { expectOnDevice, onHost } from "./device-check.ts";
import type { DType } from "./dtype.ts";
import { TensorError } from "./errors.ts";
import { currentBackend } from "./registry.ts";
import { ShapeError, type Tensor } from "./tensor.ts";

/*
 * Shape-checked kernels for k-sparse codes and in-place optimizer updates (TopK SAE training). They
 * write into the tensors given — no allocation per step — and dispatch to the current backend.
 */

const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;
const same = (x: readonly number[], y: readonly number[]): boolean =>
  x.length === y.length && x.every((d, i) => d === y[i]);

function expect(op: string, arg: string, t: Tensor, dtype: DType, shape: readonly number[]): void {
  if (t.dtype !== dtype)
    throw new TensorError("DTYPE_MISMATCH", `${op}(${arg}): expected dtype ${dtype}, got ${t.dtype}`);
  if (!same(t.shape, shape)) throw new ShapeError(`${op}(${arg}): expected ${fmt(shape)}, got ${fmt(t.shape)}`);
}

function matrix(op: string, arg: string, t: Tensor): [number, number] {
  if (t.dtype !== "f32") throw new TensorError("DTYPE_MISMATCH", `${op}(${arg}): expected dtype f32, got ${t.dtype}`);
  if (t.rank !== 2) throw new ShapeError(`${op}(${arg}): expected rank 2 [rows, d], got ${fmt(t.shape)}`);
  return t.shape as [number, number];
}

/** Host indices only: device kernels are not read back here (they skip out-of-range indices instead). */
function checkIndexRange(op: string, indices: Tensor, limit: number): void {
  if (!onHost(indices)) return;
  const idx = indices.data as Int32Array;
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i]!;
    if (v < 0 || v >= limit)
      throw new TensorError("INDEX_OUT_OF_RANGE", `${op}: indices[${i}] = ${v} is outside [0, ${limit})`);
  }
}

/**
 * Per row of z [rows, n] f32: the k best of z + bias (bias [n]) — ranked as topK: descending, NaN
 * first, ties lower index first — into out.values (f32) / out.indices (i32) [rows, k]; with `among`,
 * also the among.k best over the columns among.candidates (i32 [c]) into among.values/indices [rows, among.k].
 */
export function biasTopK(z: Tensor, bias: Tensor, k: number, out: TopKOutput, among?: TopKAmong): void {
  expectOnDevice("biasTopK", {
    z,
    bias,
    "out.values": out.values,
    "out.indices": out.indices,
    "among.candidates": among?.candidates,
    "among.values": among?.values,
    "among.indices": among?.indices,
  });
  const [rows, n] = matrix("biasTopK", "z", z);
  expect("biasTopK", "bias", bias, "f32", [n]);
  if (!Number.isInteger(k) || k < 0 || k > n)
    throw new TensorError("BAD_ARGUMENT", `biasTopK: k must be an integer in [0, ${n}], got ${k}`);
  expect("biasTopK", "out.values", out.values, "f32", [rows, k]);
  expect("biasTopK", "out.indices", out.indices, "i32", [rows, k]);
  if (among) {
    const c = among.candidates;
    if (c.dtype !== "i32" || c.rank !== 1)
      throw new ShapeError(`biasTopK(among.candidates): expected i32 [c], got ${c.dtype} ${fmt(c.shape)}`);
    checkIndexRange("biasTopK(among.candidates)", c, n);
    if (!Number.isInteger(among.k) || among.k < 0 || among.k > c.size)
      throw new TensorError("BAD_ARGUMENT", `biasTopK: among.k must be an integer in [0, ${c.size}], got ${among.k}`);
    expect("biasTopK", "among.values", among.values, "f32", [rows, among.k]);
    expect("biasTopK", "among.indices", among.indices, "i32", [rows, among.k]);
  }
  currentBackend().biasTopK(z, bias, k, out, among);
}

/** out[r] += alpha · Σ_c relu(values[r, c]) · table[indices[r, c]]. out [rows, d], indices i32 / values f32 [rows, kk], table [V, d] f32. */
export function sparseDecode(out: Tensor, indices: Tensor, values: Tensor, table: Tensor, alpha = 1): Tensor {
  expectOnDevice("sparseDecode", { out, indices, values, table });
  const [rows, d] = matrix("sparseDecode", "out", out);
  const [v, td] = matrix("sparseDecode", "table", table);
  if (td !== d)
    throw new ShapeError(`sparseDecode(table): expected [V, ${d}] (out is ${fmt(out.shape)}), got ${fmt(table.shape)}`);
  const kk = indices.shape[1] ?? -1;
  expect("sparseDecode", "indices", indices, "i32", [rows, kk]);
  expect("sparseDecode", "values", values, "f32", [rows, kk]);
  checkIndexRange("sparseDecode", indices, v);
  return currentBackend().sparseDecode(out, indices, values, table, alpha);
}

/**
 * Gradients of a k-sparse encode/decode, accumulated into `grads` (see SparseCodesGrads): indices i32 /
 * values f32 [rows, kk], g and x f32 [rows, d], table [V, d] f32; grads.table and grads.encoder [V, d],
 * grads.bias [V] f32, grads.touched u8 [V].
 */
export function sparseCodesBackward(
  indices: Tensor,
  values: Tensor,
  g: Tensor,
  x: Tensor,
  table: Tensor,
  grads: SparseCodesGrads,
): void {
  expectOnDevice("sparseCodesBackward", {
    indices,
    values,
    g,
    x,
    table,
    "grads.table": grads.table,
    "grads.encoder": grads.encoder,
    "grads.bias": grads.bias,
  });
  const [rows, d] = matrix("sparseCodesBackward", "g", g);
  const [v, td] = matrix("sparseCodesBackward", "table", table);
  if (td !== d)
    throw new ShapeError(
      `sparseCodesBackward(table): expected [V, ${d}] (g is ${fmt(g.shape)}), got ${fmt(table.shape)}`,
    );
  const kk = indices.shape[1] ?? -1;
  expect("sparseCodesBackward", "indices", indices, "i32", [rows, kk]);
  expect("sparseCodesBackward", "values", values, "f32", [rows, kk]);
  expect("sparseCodesBackward", "x", x, "f32", [rows, d]);
  expect("sparseCodesBackward", "grads.table", grads.table, "f32", [v, d]);
  expect("sparseCodesBackward", "grads.encoder", grads.encoder, "f32", [v, d]);
  expect("sparseCodesBackward", "grads.bias", grads.bias, "f32", [v]);
  if (grads.touched.length !== v)
    throw new ShapeError(`sparseCodesBackward(grads.touched): expected [${v}], got [${grads.touched.length}]`);
  checkIndexRange("sparseCodesBackward", indices, v);
  const backend = currentBackend();
  if (grads.overwriteUntouched && backend.device !== "cpu")
    throw new TensorError(
      "DEVICE_MISMATCH",
      `sparseCodesBackward(grads.overwriteUntouched): needs a host backend (it reads the host array touched); ` +
        `the current backend is ${backend.name}: zero the gradients and pass no overwriteUntouched`,
    );
  backend.sparseCodesBackward(indices, values, g, x, table, grads);
}

export interface AdamHyperparameters {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1-based step count after this update. */
  t: number;
}

/**
 * torch.optim.Adam (no amsgrad, no weight decay) on one f32 parameter, in place on param, m, v.
 * Rows ([rows, cols] with cols = the last dim) not flagged in opts.rowMask update with a zero
 * gradient without reading grad; opts.clearGrad zeroes the gradient rows that were read.
 */
export function adamUpdate(
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  h: AdamHyperparameters,
  opts: { rowMask?: Uint8Array; clearGrad?: boolean } = {},
): void {
  const step = adamStep("adamUpdate", param, grad, m, v, h, opts);
  if (step) currentBackend().adamUpdate(param, grad, m, v, step);
}

/**
 * One optimizer step for a parameter whose rows are kept at unit norm (an SAE decoder, as SAELens and sparsify train
 * it): remove from each gradient row its component along the row (projectOutRows, rows in opts.rowMask), Adam
 * (adamUpdate, same rowMask), then w[r] ← w[r] / (‖w[r]‖ + opts.normEps) (normalizeRows). The native backend runs the
 * three per row in one pass; others run the three calls. grad is left projected.
 */
export function adamUpdateUnitRows(
  w: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  h: AdamHyperparameters,
  opts: { rowMask?: Uint8Array; normEps: number },
): void {
  matrix("adamUpdateUnitRows", "w", w);
  const step = adamStep("adamUpdateUnitRows", w, grad, m, v, h, opts);
  if (!step) return;
  const backend = currentBackend();
  if (backend.adamUpdateUnitRows) {
    backend.adamUpdateUnitRows(w, grad, m, v, step, opts.normEps);
    return;
  }
  backend.projectOutRows(grad, w, opts.rowMask);
  backend.adamUpdate(w, grad, m, v, step);
  backend.normalizeRows(w, opts.normEps);
}

/** Checks an Adam update's arguments (naming `op`) and resolves its step; null when the parameter is empty. */
function adamStep(
  op: string,
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  h: AdamHyperparameters,
  opts: { rowMask?: Uint8Array; clearGrad?: boolean },
): AdamStep | null {
  expectOnDevice(op, { param, grad, m, v });
  if (param.dtype !== "f32")
    throw new TensorError("DTYPE_MISMATCH", `${op}(param): expected dtype f32, got ${param.dtype}`);
  for (const [name, t] of [
    ["grad", grad],
    ["m", m],
    ["v", v],
  ] as const)
    expect(op, name, t, "f32", param.shape);
  const cols = param.rank === 0 ? 1 : param.shape[param.rank - 1]!;
  const rows = cols === 0 ? 0 : param.size / cols;
  if (opts.rowMask && opts.rowMask.length !== rows)
    throw new ShapeError(
      `${op}(rowMask): expected [${rows}] (param is ${fmt(param.shape)}), got [${opts.rowMask.length}]`,
    );
  if (!(h.t >= 1) || !Number.isInteger(h.t))
    throw new TensorError("BAD_ARGUMENT", `${op}: t must be an integer ≥ 1, got ${h.t}`);
  if (param.size === 0) return null;
  return {
    stepSize: h.lr / (1 - h.beta1 ** h.t),
    bc2Sqrt: Math.sqrt(1 - h.beta2 ** h.t),
    beta1: h.beta1,
    beta2: h.beta2,
    eps: h.eps,
    cols,
    clearGrad: !!opts.clearGrad,
    ...(opts.rowMask ? { rowMask: opts.rowMask } : {}),
  };
}

/** grad[r] −= (grad[r]·w[r])·w[r] for the rows flagged in rowMask (all without one): removes the component along each (unit) row of w. */
export function projectOutRows(grad: Tensor, w: Tensor, rowMask?: Uint8Array): void {
  expectOnDevice("projectOutRows", { grad, w });
  const [rows] = matrix("projectOutRows", "w", w);
  expect("projectOutRows", "grad", grad, "f32", w.shape);
  if (rowMask && rowMask.length !== rows)
    throw new ShapeError(`projectOutRows(rowMask): expected [${rows}], got [${rowMask.length}]`);
  if (w.size === 0) return;
  currentBackend().projectOutRows(grad, w, rowMask);
}

/** w[r] ← w[r] / (‖w[r]‖ + eps) in place (sparsify's decoder normalisation uses eps = f32 machine epsilon). */
export function normalizeRows(w: Tensor, eps: number): void {
  expectOnDevice("normalizeRows", { w });
  matrix("normalizeRows", "w", w);
  if (w.size === 0) return;
  currentBackend().normalizeRows(w, eps);
}
