import type { AttentionMask } from "./backend.ts";
import { expectOnDevice } from "./device-check.ts";
import { TensorError } from "./errors.ts";
import { expectWindow } from "./ops-checks.ts";
import { currentBackend } from "./registry.ts";
import { ShapeError, type Tensor } from "./tensor.ts";

/*
 * Layout kernels: what a model forward needs besides arithmetic, so that it never reads host memory and runs
 * unchanged on a device backend. Shapes are checked here; backends may assume valid input.
 */

const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

function expectF32(op: string, arg: string, t: Tensor): void {
  if (t.dtype !== "f32") throw new TensorError("DTYPE_MISMATCH", `${op}(${arg}): expected dtype f32, got ${t.dtype}`);
}

/** A new f32 tensor equal to x (any float dtype in). */
export function copy(x: Tensor): Tensor {
  expectOnDevice("copy", { x });
  if (x.dtype !== "f32" && x.dtype !== "f16" && x.dtype !== "bf16")
    throw new TensorError("DTYPE_MISMATCH", `copy(x): expected a float dtype, got ${x.dtype}`);
  return currentBackend().copy(x);
}

/** Rows [start, start + count) of x [rows, ...] as a new tensor of x's dtype. */
export function sliceRows(x: Tensor, start: number, count: number): Tensor {
  expectOnDevice("sliceRows", { x });
  const rows = x.shape[0];
  if (rows === undefined) throw new ShapeError(`sliceRows(x): expected [rows, ...], got ${fmt(x.shape)}`);
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > rows)
    throw new ShapeError(`sliceRows: rows [${start}, ${start + count}) are outside x ${fmt(x.shape)}`);
  return currentBackend().sliceRows(x, start, count);
}

/** [a, b, c, d] → [a, c, b, d] (f32). */
export function swapAxes12(x: Tensor, out?: Tensor): Tensor {
  expectOnDevice("swapAxes12", { x, out });
  expectF32("swapAxes12", "x", x);
  if (x.rank !== 4) throw new ShapeError(`swapAxes12(x): expected rank 4 [a, b, c, d], got ${fmt(x.shape)}`);
  const [a, b, c, d] = x.shape as [number, number, number, number];
  if (out) {
    expectF32("swapAxes12", "out", out);
    const want = [a, c, b, d];
    if (out.rank !== 4 || out.shape.some((v, i) => v !== want[i]))
      throw new ShapeError(`swapAxes12(out): expected ${fmt(want)}, got ${fmt(out.shape)}`);
  }
  return currentBackend().swapAxes12(x, out);
}

/** Causal (optionally sliding-window) and padding mask, in place on scores [batch, heads, queries, keys]; see Backend.maskScores. */
export function maskScores(scores: Tensor, mask: AttentionMask): Tensor {
  expectOnDevice("maskScores", { scores });
  expectF32("maskScores", "scores", scores);
  if (scores.rank !== 4)
    throw new ShapeError(`maskScores(scores): expected [batch, heads, queries, keys], got ${fmt(scores.shape)}`);
  const [batch, , queries, keys] = scores.shape as [number, number, number, number];
  if (mask.queryMask.length !== batch * queries)
    throw new ShapeError(`maskScores(queryMask): expected ${batch * queries} entries, got ${mask.queryMask.length}`);
  if (mask.keyMask.length !== batch * keys)
    throw new ShapeError(`maskScores(keyMask): expected ${batch * keys} entries, got ${mask.keyMask.length}`);
  if (mask.past + queries !== keys)
    throw new ShapeError(`maskScores: past ${mask.past} + queries ${queries} must equal keys ${keys}`);
  expectWindow("maskScores", "window", mask.window);
  return currentBackend().maskScores(scores, mask);
}

/** cache[b, h, start + s, :] = src[b, s, h, :]. cache: [batch, heads, capacity, d], src: [batch, seq, heads, d], f32. */
export function writeSeq(cache: Tensor, src: Tensor, start: number): void {
  expectOnDevice("writeSeq", { cache, src });
  expectF32("writeSeq", "cache", cache);
  expectF32("writeSeq", "src", src);
  if (cache.rank !== 4 || src.rank !== 4)
    throw new ShapeError(
      `writeSeq: expected cache [batch, heads, capacity, d] and src [batch, seq, heads, d], got ${fmt(cache.shape)} and ${fmt(src.shape)}`,
    );
  const [b, h, capacity, d] = cache.shape as [number, number, number, number];
  const [sb, seq, sh, sd] = src.shape as [number, number, number, number];
  if (sb !== b || sh !== h || sd !== d)
    throw new ShapeError(
      `writeSeq(src): expected [${b}, seq, ${h}, ${d}] for cache ${fmt(cache.shape)}, got ${fmt(src.shape)}`,
    );
  if (!Number.isInteger(start) || start < 0 || start + seq > capacity)
    throw new ShapeError(`writeSeq: positions [${start}, ${start + seq}) do not fit capacity ${capacity}`);
  currentBackend().writeSeq(cache, src, start);
}
