import type { DType } from "./dtype.ts";
import { TensorError } from "./errors.ts";
import { ShapeError, type Tensor } from "./tensor.ts";

/* The argument checks the public kernels share (ops*.ts): each error names the op, the argument and what was expected. */

export const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

export function expectDType(op: string, arg: string, t: Tensor, allowed: readonly DType[]): void {
  if (!allowed.includes(t.dtype)) {
    throw new TensorError(
      "DTYPE_MISMATCH",
      `${op}(${arg}): expected dtype ${allowed.join(" or ")}, got ${t.dtype}${allowed.includes("f32") && t.dtype !== "f32" ? ' — cast(x, "f32") first' : ""}`,
    );
  }
}

export function expectRank(op: string, arg: string, t: Tensor, rank: number, names: string): void {
  if (t.rank !== rank) throw new ShapeError(`${op}(${arg}): expected rank ${rank} ${names}, got ${fmt(t.shape)}`);
}

export function sameShape(x: readonly number[], y: readonly number[]): boolean {
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

export function checkOut(op: string, out: Tensor | undefined, shape: readonly number[]): void {
  if (!out) return;
  expectDType(op, "out", out, ["f32"]);
  if (!sameShape(out.shape, shape)) throw new ShapeError(`${op}(out): expected ${fmt(shape)}, got ${fmt(out.shape)}`);
}

export const FLOATS: readonly DType[] = ["f32", "f16", "bf16"];
export const F32: readonly DType[] = ["f32"];

/** A sliding-window length: an integer ≥ 1 (absent: no window). */
export function expectWindow(op: string, arg: string, window: number | undefined): void {
  if (window !== undefined && (!Number.isInteger(window) || window < 1))
    throw new TensorError("BAD_ARGUMENT", `${op}: ${arg} must be an integer ≥ 1, got ${window}`);
}
