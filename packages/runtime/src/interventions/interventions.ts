/**
 * Ready-made interventions: each returns a `HookSpec` ({ name, fn }) for `model.withHooks([...], fn)`.
 * Positions are padded indices of the call ("pos" axis of the hook; negative counts from the end).
 */
import { toFloat32Array, type Tensor } from "@difflens/tensor";
import { HookError } from "../errors.ts";
import type { HookContext, HookSpec } from "../hooks/hook-registry.ts";
import { fmtShape } from "../tensor-utils.ts";

/** Shape facts of a hook tensor: [batch, …, pos at `posAxis`, …]. */
function layout(t: Tensor, ctx: HookContext): { batch: number; pos: number; posAxis: number; inner: number; outer: number } {
  const posAxis = ctx.site.dims.indexOf("pos");
  const shape = t.shape;
  const inner = shape.slice(posAxis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, posAxis).reduce((a, b) => a * b, 1);
  return { batch: shape[0]!, pos: shape[posAxis]!, posAxis, inner, outer };
}

function resolvePositions(positions: readonly number[] | undefined, pos: number, name: string): number[] {
  if (positions === undefined) return Array.from({ length: pos }, (_, i) => i);
  return positions.map((p) => {
    const r = p < 0 ? pos + p : p;
    if (!Number.isInteger(r) || r < 0 || r >= pos) throw new HookError("BAD_ARGUMENT", `${name}: position ${p} outside the ${pos} positions of this call`, { hook: name, got: p });
    return r;
  });
}

export interface PatchOptions {
  /** Positions to overwrite in the running call (default: all). */
  readonly positions?: readonly number[];
  /**
   * Where the values come from in `source`: indices along its "pos" axis, one per target position. Default: the
   * same indices as `positions` — or 0..n−1 when `source` holds exactly positions.length positions (a cache taken
   * with `positions`).
   */
  readonly sourcePositions?: readonly number[];
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
      const { batch, pos, posAxis, inner, outer } = layout(t, ctx);
      const srcShape = source.shape;
      const srcPos = srcShape[posAxis]!;
      const sameInner = srcShape.length === t.shape.length && srcShape.slice(posAxis + 1).every((v, i) => v === t.shape[posAxis + 1 + i]) && srcShape.slice(1, posAxis).every((v, i) => v === t.shape[1 + i]);
      const srcBatch = srcShape[0]!;
      if (!sameInner || (srcBatch !== batch && srcBatch !== 1)) {
        throw new HookError("HOOK_SHAPE", `patchActivation("${name}"): source ${fmtShape(srcShape)} does not fit the hook's ${fmtShape(t.shape)} (batch ${batch} or 1, same dims apart from positions)`, { hook: name, expected: t.shape, got: srcShape });
      }
      const targets = resolvePositions(opts.positions, pos, name);
      const sources = opts.sourcePositions
        ? resolvePositions(opts.sourcePositions, srcPos, name)
        : srcPos === targets.length && srcPos !== pos ? targets.map((_, i) => i) : resolvePositions(opts.positions, srcPos, name);
      if (sources.length !== targets.length) throw new HookError("BAD_ARGUMENT", `patchActivation("${name}"): ${sources.length} source positions for ${targets.length} targets`, { hook: name });
      const dst = t.data as Float32Array;
      const perBatchOuter = outer / batch;
      for (let o = 0; o < outer; o++) {
        const b = Math.floor(o / perBatchOuter);
        const so = (srcBatch === 1 ? 0 : b) * perBatchOuter + (o % perBatchOuter);
        targets.forEach((p, i) => {
          const from = (so * srcPos + sources[i]!) * inner;
          dst.set(src.subarray(from, from + inner), (o * pos + p) * inner);
        });
      }
    },
  };
}

/** Steering: adds scale·vector to the hook's last axis at `positions` (default all). vector: [last dim]. */
export function addVector(name: string, vector: Tensor | ArrayLike<number>, opts: { scale?: number; positions?: readonly number[] } = {}): HookSpec {
  const v = "dtype" in vector ? toFloat32Array(vector as Tensor) : Float32Array.from(vector as ArrayLike<number>);
  const s = opts.scale ?? 1;
  return {
    name,
    fn: (t, ctx) => {
      const { pos, outer, inner } = layout(t, ctx);
      const last = t.shape[t.shape.length - 1]!;
      if (v.length !== last) throw new HookError("HOOK_SHAPE", `addVector("${name}"): vector has ${v.length} entries, the hook's last axis ${last}`, { hook: name, expected: last, got: v.length });
      const targets = resolvePositions(opts.positions, pos, name);
      const dst = t.data as Float32Array;
      for (let o = 0; o < outer; o++) {
        for (const p of targets) {
          const base = (o * pos + p) * inner;
          for (let i = 0; i < inner; i++) dst[base + i]! += s * v[i % last]!;
        }
      }
    },
  };
}

/**
 * Clamps the coefficient of a direction: x ← x + (value − x·û)·û with û = direction/‖direction‖ (on the last
 * axis). value 0 projects the direction out (e.g. silencing an SAE decoder direction).
 */
export function clampDirection(name: string, direction: Tensor | ArrayLike<number>, opts: { value?: number; positions?: readonly number[] } = {}): HookSpec {
  const raw = "dtype" in direction ? toFloat32Array(direction as Tensor) : Float32Array.from(direction as ArrayLike<number>);
  const norm = Math.hypot(...raw);
  if (!(norm > 0)) throw new HookError("BAD_ARGUMENT", `clampDirection("${name}"): direction has zero norm`, { hook: name });
  const u = raw.map((x) => x / norm);
  const value = opts.value ?? 0;
  return {
    name,
    fn: (t, ctx) => {
      const { pos } = layout(t, ctx);
      const d = t.shape[t.shape.length - 1]!;
      if (u.length !== d) throw new HookError("HOOK_SHAPE", `clampDirection("${name}"): direction has ${u.length} entries, the hook's last axis ${d}`, { hook: name, expected: d, got: u.length });
      const targets = new Set(resolvePositions(opts.positions, pos, name));
      const dst = t.data as Float32Array;
      const rows = dst.length / d;
      const rowsPerPos = rows / (t.shape[0]! * pos);
      for (let r = 0; r < rows; r++) {
        const p = Math.floor(r / rowsPerPos) % pos;
        if (!targets.has(p)) continue;
        let dot = 0;
        for (let i = 0; i < d; i++) dot += dst[r * d + i]! * u[i]!;
        const delta = value - dot;
        for (let i = 0; i < d; i++) dst[r * d + i]! += delta * u[i]!;
      }
    },
  };
}

/** Zero-ablates attention head `head` of `layer` (its slice of hook_z, so o_proj sees 0 from it). */
export function zeroAblateHead(layer: number, head: number, opts: { positions?: readonly number[] } = {}): HookSpec {
  const name = `blocks.${layer}.attn.hook_z`;
  return {
    name,
    fn: (t, ctx) => {
      const [, pos, heads, dHead] = t.shape as [number, number, number, number];
      if (!Number.isInteger(head) || head < 0 || head >= heads) throw new HookError("BAD_ARGUMENT", `zeroAblateHead: head ${head} outside [0, ${heads})`, { got: head });
      const targets = resolvePositions(opts.positions, pos, name);
      const dst = t.data as Float32Array;
      for (let b = 0; b < ctx.batch; b++) for (const p of targets) dst.fill(0, ((b * pos + p) * heads + head) * dHead, ((b * pos + p) * heads + head + 1) * dHead);
    },
  };
}

/** Zero-ablates the MLP of `layer` (hook_mlp_out set to 0). */
export function zeroAblateMlp(layer: number, opts: { positions?: readonly number[] } = {}): HookSpec {
  const name = `blocks.${layer}.hook_mlp_out`;
  return {
    name,
    fn: (t, ctx) => {
      const { pos, outer, inner } = layout(t, ctx);
      const targets = resolvePositions(opts.positions, pos, name);
      const dst = t.data as Float32Array;
      for (let o = 0; o < outer; o++) for (const p of targets) dst.fill(0, (o * pos + p) * inner, (o * pos + p + 1) * inner);
    },
  };
}
