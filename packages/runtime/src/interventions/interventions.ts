/**
 * Ready-made interventions: each returns a `HookSpec` ({ name, fn }) for `model.withHooks([...], fn)`.
 * `positions` (default all) picks the query positions acted on: a list of padded columns of the call shared by
 * every row (negative counts from the end), or `{ perRow: [[…], …] }` in each item's own coordinates (0 = its first
 * real token, −1 = its last; see hooks/positions.ts).
 */
import { type Tensor, toFloat32Array } from "@difflens/tensor";
import { HookError } from "../errors.ts";
import type { HookContext, HookSpec } from "../hooks/hook-registry.ts";
import { isPerRow, type Positions, realColumns, resolvePerRow, resolveSharedPositions } from "../hooks/positions.ts";
import { fmtShape } from "../tensor-utils.ts";

/** Shape facts of a hook tensor [batch, …, pos at `posAxis`, …]: `blocks` per row before pos, `inner` after it. */
function layout(t: Tensor, ctx: HookContext): { pos: number; posAxis: number; inner: number; blocks: number } {
  const posAxis = ctx.site.dims.indexOf("pos");
  const shape = t.shape;
  const inner = shape.slice(posAxis + 1).reduce((a, b) => a * b, 1);
  const blocks = shape.slice(1, posAxis).reduce((a, b) => a * b, 1);
  return { pos: shape[posAxis]!, posAxis, inner, blocks };
}

/** Per row, the padded columns to act on. // [batch][n_row] */
function targetColumns(positions: Positions | undefined, ctx: HookContext, pos: number, name: string): number[][] {
  if (isPerRow(positions)) {
    return resolvePerRow(positions, realColumns(ctx.attentionMask, ctx.batch, pos), name).columns;
  }
  const shared =
    positions === undefined ? Array.from({ length: pos }, (_, i) => i) : resolveSharedPositions(positions, pos, name);
  return Array.from({ length: ctx.batch }, () => shared);
}

/**
 * Visits every targeted (row, position): `at` is the offset in `t.data` of its `inner` values, `b` the row, `i`
 * the index of the position in the row's list, `block` the outer block within the row (e.g. the head of a pattern).
 */
function forEachTarget(
  t: Tensor,
  ctx: HookContext,
  columns: readonly (readonly number[])[],
  visit: (at: number, b: number, i: number, block: number) => void,
): void {
  const { pos, inner, blocks } = layout(t, ctx);
  for (let b = 0; b < ctx.batch; b++) {
    for (let block = 0; block < blocks; block++) {
      columns[b]!.forEach((p, i) => visit(((b * blocks + block) * pos + p) * inner, b, i, block));
    }
  }
}

export interface PatchOptions {
  /** Positions to overwrite in the running call (default: all); shared padded columns or `{ perRow }`. */
  readonly positions?: Positions;
  /**
   * Where the values come from in `source`: indices along its "pos" axis, one per target position (a shared list,
   * or `{ perRow }` for each source row). Default for shared targets: the same indices as `positions` — or
   * 0..n−1 when `source` holds exactly positions.length positions (a cache taken with `positions`). Default for
   * per-row targets: 0..n_row−1, i.e. `source` holds each row's values in order (a cache taken with the same
   * per-row positions).
   */
  readonly sourcePositions?: Positions;
}

/**
 * Activation patching: replaces the hook's values at `positions` with `source`'s (a tensor from another run's
 * cache, possibly of another model with the same hook shape). `source`: the hook's shape with batch equal or 1.
 */
export function patchActivation(name: string, source: Tensor, opts: PatchOptions = {}): HookSpec {
  const src = toFloat32Array(source);
  return {
    name,
    fn: (t, ctx) => {
      const { pos, posAxis, inner, blocks } = layout(t, ctx);
      const batch = ctx.batch;
      const srcShape = source.shape;
      const srcPos = srcShape[posAxis]!;
      const sameInner =
        srcShape.length === t.shape.length &&
        srcShape.slice(posAxis + 1).every((v, i) => v === t.shape[posAxis + 1 + i]) &&
        srcShape.slice(1, posAxis).every((v, i) => v === t.shape[1 + i]);
      const srcBatch = srcShape[0]!;
      if (!sameInner || (srcBatch !== batch && srcBatch !== 1)) {
        throw new HookError(
          "HOOK_SHAPE",
          `patchActivation("${name}"): source ${fmtShape(srcShape)} does not fit the hook's ${fmtShape(t.shape)} (batch ${batch} or 1, same dims apart from positions)`,
          { hook: name, expected: t.shape, got: srcShape },
        );
      }
      const targets = targetColumns(opts.positions, ctx, pos, name);
      const sources = sourceIndices(opts, targets, srcPos, pos, batch, name);
      const dst = t.data as Float32Array;
      forEachTarget(t, ctx, targets, (at, b, i, block) => {
        const from = (((srcBatch === 1 ? 0 : b) * blocks + block) * srcPos + sources[b]![i]!) * inner;
        dst.set(src.subarray(from, from + inner), at);
      });
    },
  };
}

/** Per row, the source "pos" index of each target (see `PatchOptions.sourcePositions`). */
function sourceIndices(
  opts: PatchOptions,
  targets: readonly (readonly number[])[],
  srcPos: number,
  pos: number,
  batch: number,
  name: string,
): number[][] {
  const who = `patchActivation("${name}")`;
  const all = Array.from({ length: srcPos }, (_, i) => i);
  let sources: number[][];
  if (isPerRow(opts.sourcePositions)) {
    sources = resolvePerRow(
      opts.sourcePositions,
      targets.map(() => all),
      `${who} sourcePositions`,
    ).items;
  } else if (opts.sourcePositions) {
    const shared = resolveSharedPositions(opts.sourcePositions, srcPos, who);
    sources = targets.map(() => shared);
  } else if (isPerRow(opts.positions)) {
    sources = targets.map((cols, b) => {
      if (cols.length !== srcPos) {
        const message =
          `${who}: row ${b} patches ${cols.length} positions but the source holds ${srcPos}` + "; pass sourcePositions";
        throw new HookError("BAD_ARGUMENT", message, { hook: name, row: b, expected: cols.length, got: srcPos });
      }
      return all;
    });
  } else {
    const n = targets[0]!.length;
    // a source holding exactly the targets' count (a cache taken with `positions`) is read in order
    const shared =
      srcPos === n && srcPos !== pos ? all : opts.positions ? resolveSharedPositions(opts.positions, srcPos, who) : all;
    sources = Array.from({ length: batch }, () => shared);
  }
  sources.forEach((list, b) => {
    if (list.length !== targets[b]!.length) {
      const message = `${who}: ${list.length} source positions for ${targets[b]!.length} targets in row ${b}`;
      throw new HookError("BAD_ARGUMENT", message, { hook: name, row: b });
    }
  });
  return sources;
}

/** Steering: adds scale·vector to the hook's last axis at `positions` (default all). vector: [last dim]. */
export function addVector(
  name: string,
  vector: Tensor | ArrayLike<number>,
  opts: { scale?: number; positions?: Positions } = {},
): HookSpec {
  const v = "dtype" in vector ? toFloat32Array(vector as Tensor) : Float32Array.from(vector as ArrayLike<number>);
  const s = opts.scale ?? 1;
  return {
    name,
    fn: (t, ctx) => {
      const { pos, inner } = layout(t, ctx);
      const last = t.shape[t.shape.length - 1]!;
      if (v.length !== last)
        throw new HookError(
          "HOOK_SHAPE",
          `addVector("${name}"): vector has ${v.length} entries, the hook's last axis ${last}`,
          { hook: name, expected: last, got: v.length },
        );
      const dst = t.data as Float32Array;
      forEachTarget(t, ctx, targetColumns(opts.positions, ctx, pos, name), (at) => {
        for (let i = 0; i < inner; i++) dst[at + i]! += s * v[i % last]!;
      });
    },
  };
}

/**
 * Clamps the coefficient of a direction: x ← x + (value − x·û)·û with û = direction/‖direction‖ (on the last
 * axis). value 0 projects the direction out (e.g. silencing an SAE decoder direction).
 */
export function clampDirection(
  name: string,
  direction: Tensor | ArrayLike<number>,
  opts: { value?: number; positions?: Positions } = {},
): HookSpec {
  const raw =
    "dtype" in direction ? toFloat32Array(direction as Tensor) : Float32Array.from(direction as ArrayLike<number>);
  const norm = Math.hypot(...raw);
  if (!(norm > 0))
    throw new HookError("BAD_ARGUMENT", `clampDirection("${name}"): direction has zero norm`, { hook: name });
  const u = raw.map((x) => x / norm);
  const value = opts.value ?? 0;
  return {
    name,
    fn: (t, ctx) => {
      const { pos, inner } = layout(t, ctx);
      const d = t.shape[t.shape.length - 1]!;
      if (u.length !== d)
        throw new HookError(
          "HOOK_SHAPE",
          `clampDirection("${name}"): direction has ${u.length} entries, the hook's last axis ${d}`,
          { hook: name, expected: d, got: u.length },
        );
      const dst = t.data as Float32Array;
      forEachTarget(t, ctx, targetColumns(opts.positions, ctx, pos, name), (at) => {
        for (let r = at; r < at + inner; r += d) {
          let dot = 0;
          for (let i = 0; i < d; i++) dot += dst[r + i]! * u[i]!;
          const delta = value - dot;
          for (let i = 0; i < d; i++) dst[r + i]! += delta * u[i]!;
        }
      });
    },
  };
}

/** Zero-ablates attention head `head` of `layer` (its slice of hook_z, so o_proj sees 0 from it). */
export function zeroAblateHead(layer: number, head: number, opts: { positions?: Positions } = {}): HookSpec {
  const name = `blocks.${layer}.attn.hook_z`;
  return {
    name,
    fn: (t, ctx) => {
      const [, pos, heads, dHead] = t.shape as [number, number, number, number];
      if (!Number.isInteger(head) || head < 0 || head >= heads)
        throw new HookError("BAD_ARGUMENT", `zeroAblateHead: head ${head} outside [0, ${heads})`, { got: head });
      const dst = t.data as Float32Array;
      const columns = targetColumns(opts.positions, ctx, pos, name);
      forEachTarget(t, ctx, columns, (at) => dst.fill(0, at + head * dHead, at + (head + 1) * dHead));
    },
  };
}

/** Zero-ablates the MLP of `layer` (hook_mlp_out set to 0). */
export function zeroAblateMlp(layer: number, opts: { positions?: Positions } = {}): HookSpec {
  const name = `blocks.${layer}.hook_mlp_out`;
  return {
    name,
    fn: (t, ctx) => {
      const { pos, inner } = layout(t, ctx);
      const dst = t.data as Float32Array;
      forEachTarget(t, ctx, targetColumns(opts.positions, ctx, pos, name), (at) => dst.fill(0, at, at + inner));
    },
  };
}
