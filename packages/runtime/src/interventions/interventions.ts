/**
 * Ready-made interventions: each returns a `HookSpec` ({ name, fn }) for `model.withHooks([...], fn)`.
 * `positions` (default all) picks the query positions acted on: a list of padded columns of the call shared by
 * every row (negative counts from the end), or `{ perRow: [[…], …] }` in each item's own coordinates (0 = its first
 * real token, −1 = its last; see hooks/positions.ts).
 *
 * Device-agnostic: they act with kernels on the hook tensor wherever it lives. Their vectors are uploaded once per
 * device; what depends on the call (which rows the positions pick) is a small host-built mask or index tensor.
 */
import {
  add,
  currentBackend,
  type Device,
  deviceZeros,
  gatherRows,
  gemm,
  mul,
  scale,
  Tensor,
  toDevice,
  toFloat32Array,
  writeSeq,
} from "@difflens/tensor";
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
 * Visits every targeted (row, position): `at` is the offset (in elements, row-major) of its `inner` values, `b` the
 * row, `i` the index of the position in the row's list, `block` the outer block within the row (e.g. the head of a
 * pattern).
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
      for (const [i, p] of columns[b]!.entries()) visit(((b * blocks + block) * pos + p) * inner, b, i, block);
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

/** A host tensor's copy on the current backend's device, uploaded on first use there (then reused). */
function perDevice(t: Tensor): () => Tensor {
  const copies = new Map<Device, Tensor>();
  return () => {
    const device = currentBackend().device;
    let c = copies.get(device);
    if (!c) {
      c = toDevice(t);
      copies.set(device, c);
    }
    return c;
  };
}

/** A column of 0/1 on the device: 1 for the `unit`-wide rows of `t` (row-major) that the targets cover. // [rows, 1] */
function targetMask(t: Tensor, ctx: HookContext, columns: readonly (readonly number[])[], unit: number): Tensor {
  const { inner } = layout(t, ctx);
  const mask = new Float32Array(t.size / unit);
  forEachTarget(t, ctx, columns, (at) => mask.fill(1, at / unit, (at + inner) / unit));
  return toDevice(new Tensor("f32", [mask.length, 1], mask));
}

/**
 * Activation patching: replaces the hook's values at `positions` with `source`'s (a tensor from another run's
 * cache, possibly of another model with the same hook shape). `source`: the hook's shape with batch equal or 1.
 * The hook returns the patched tensor: rows gathered from [this run's rows; the source's rows], so values are copied
 * exactly (no arithmetic).
 */
export function patchActivation(name: string, source: Tensor, opts: PatchOptions = {}): HookSpec {
  const srcValues = new Tensor("f32", source.shape, toFloat32Array(source));
  const src = perDevice(srcValues);
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
      const rows = t.size / inner;
      const srcRows = source.size / inner;
      // row r of the result = row pick[r] of [t's rows; source rows]
      const pick = Int32Array.from({ length: rows }, (_, r) => r);
      forEachTarget(t, ctx, targets, (at, b, i, block) => {
        pick[at / inner] = rows + ((srcBatch === 1 ? 0 : b) * blocks + block) * srcPos + sources[b]![i]!;
      });
      return pickRows(t.reshape([rows, inner]), src().reshape([srcRows, inner]), pick).reshape(t.shape);
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
        const message = `${who}: row ${b} patches ${cols.length} positions but the source holds ${srcPos}; pass sourcePositions`;
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

/**
 * Steering: adds scale·vector to the hook's last axis at `positions` (default all). vector: [last dim], on the host
 * or on the model's device.
 */
export function addVector(
  name: string,
  vector: Tensor | ArrayLike<number>,
  opts: { scale?: number; positions?: Positions } = {},
): HookSpec {
  const s = opts.scale ?? 1;
  const length = "dtype" in vector ? (vector as Tensor).size : (vector as ArrayLike<number>).length;
  const scaled = ((): (() => Tensor) => {
    if ("dtype" in vector && (vector as Tensor).device !== "cpu") {
      let onDevice: Tensor | undefined;
      return () => {
        onDevice ??= scale((vector as Tensor).reshape([length]), s);
        return onDevice;
      };
    }
    const v = "dtype" in vector ? toFloat32Array(vector as Tensor) : Float32Array.from(vector as ArrayLike<number>);
    return perDevice(
      new Tensor(
        "f32",
        [length],
        v.map((x) => s * x),
      ),
    );
  })();
  return {
    name,
    fn: (t, ctx) => {
      const { pos, inner } = layout(t, ctx);
      const last = t.shape[t.shape.length - 1]!;
      if (length !== last)
        throw new HookError(
          "HOOK_SHAPE",
          `addVector("${name}"): vector has ${length} entries, the hook's last axis ${last}`,
          { hook: name, expected: last, got: length },
        );
      if (opts.positions === undefined) {
        add(t, scaled(), t);
        return;
      }
      // over rows of the last axis: t += scale·v at the targets, 0 elsewhere (rows of a [0; scale·v] table)
      const rows = t.size / last;
      const pick = new Int32Array(rows);
      forEachTarget(t, ctx, targetColumns(opts.positions, ctx, pos, name), (at) => {
        pick.fill(1, at / last, (at + inner) / last);
      });
      const delta = pickRows(deviceZeros([1, last]), scaled().reshape([1, last]), pick); // [rows, last]
      add(t.reshape([rows, last]), delta, t.reshape([rows, last]));
    },
  };
}

/**
 * Clamps the coefficient of a direction: x ← x + (value − x·û)·û with û = direction/‖direction‖ (on the last
 * axis). value 0 projects the direction out (e.g. silencing an SAE decoder direction). direction: host values.
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
  const unit = perDevice(
    new Tensor(
      "f32",
      [raw.length],
      raw.map((x) => x / norm),
    ),
  );
  const value = opts.value ?? 0;
  return {
    name,
    fn: (t, ctx) => {
      const { pos } = layout(t, ctx);
      const d = t.shape[t.shape.length - 1]!;
      if (raw.length !== d)
        throw new HookError(
          "HOOK_SHAPE",
          `clampDirection("${name}"): direction has ${raw.length} entries, the hook's last axis ${d}`,
          { hook: name, expected: d, got: raw.length },
        );
      const rows = t.size / d;
      const x = t.reshape([rows, d]);
      const u = unit();
      const coef = toDevice(new Tensor("f32", [rows, 1], new Float32Array(rows).fill(value))); // [rows, 1]
      gemm(x, u.reshape([d, 1]), { alpha: -1, beta: 1, out: coef }); // value − x·û
      if (opts.positions !== undefined)
        mul(coef, targetMask(t, ctx, targetColumns(opts.positions, ctx, pos, name), d), coef);
      gemm(coef, u.reshape([1, d]), { beta: 1, out: x }); // x + coef·û
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
      // rows of dHead, one per (row, position, head): the ablated head's rows at the targets become the zero row
      const rows = t.size / dHead;
      const pick = Int32Array.from({ length: rows }, (_, r) => r);
      forEachTarget(t, ctx, targetColumns(opts.positions, ctx, pos, name), (at) => {
        pick[at / dHead + head] = rows;
      });
      return pickRows(t.reshape([rows, dHead]), deviceZeros([1, dHead]), pick).reshape(t.shape);
    },
  };
}

/** Zero-ablates the MLP of `layer` (hook_mlp_out set to 0). */
export function zeroAblateMlp(layer: number, opts: { positions?: Positions } = {}): HookSpec {
  const name = `blocks.${layer}.hook_mlp_out`;
  return {
    name,
    fn: (t, ctx) => {
      if (opts.positions === undefined) return deviceZeros(t.shape);
      const { pos, inner } = layout(t, ctx);
      const rows = t.size / inner;
      const pick = Int32Array.from({ length: rows }, (_, r) => r);
      forEachTarget(t, ctx, targetColumns(opts.positions, ctx, pos, name), (at) => {
        pick[at / inner] = rows;
      });
      return pickRows(t.reshape([rows, inner]), deviceZeros([1, inner]), pick).reshape(t.shape);
    },
  };
}

/**
 * Row r of the result is row pick[r] of [x; extra] (x: [rows, width], extra: [n, width], both f32 on the device):
 * values are copied, never computed, so a patch or an ablation is exact.
 */
function pickRows(x: Tensor, extra: Tensor, pick: Int32Array): Tensor {
  const [rows, width] = x.shape as [number, number];
  const n = extra.shape[0]!;
  const both = deviceZeros([1, 1, rows + n, width]); // [x; extra]
  writeSeq(both, x.reshape([1, rows, 1, width]), 0);
  writeSeq(both, extra.reshape([1, n, 1, width]), rows);
  return gatherRows(both.reshape([rows + n, width]), toDevice(new Tensor("i32", [pick.length], pick)));
}
