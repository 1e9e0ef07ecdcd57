/**
 * SAE-latent interventions as hooks (see steering-hook.ts for the hook shape and positions):
 * - clamp: x ← x + (v − a_i(x))·d_i, error-preserving — only latent i's term of the reconstruction changes, the
 *   SAE's error x − SAE(x) stays — with a_i(x) the SAE's own activation of latent i under its encode rule;
 * - add: x ← x + α·d for a direction d (an SAE decoder row, or any vector).
 */
import { Tensor, toHost } from "@difflens/tensor";
import { SaeError } from "../errors.ts";
import type { Sae } from "../sae.ts";
import type { SparseCodes } from "../sparse-codes.ts";
import {
  addRowsOnDevice,
  checkSteeringPositions,
  checkWidth,
  type SteeringHook,
  type SteeringPositions,
  targetRows,
} from "./steering-hook.ts";

/** Decoder direction d_i of latent i in model space (a row of W_dec [dSae, dIn]) — what `add` steering adds. */
export function saeDecoderDirection(sae: Sae, latent: number): Float32Array {
  return sae.featureDirection(latent);
}

export interface ClampLatentOptions {
  /** Hook site (default: the SAE's own hook, when it records one). */
  readonly hook?: string;
  /** One latent or several, clamped together. */
  readonly latent: number | readonly number[];
  /** The value v (one for all latents, or one per latent); 0 silences the latent. */
  readonly value: number | readonly number[];
  readonly positions?: SteeringPositions;
}

/**
 * Clamps SAE latents at a hook: x ← x + Σ_i (v_i − a_i(x))·d_i (for an SAE that normalises its input, the change
 * is scaled back like its reconstruction). Computed as SAE.decode(codes with a_i := v_i) − SAE.decode(codes), so
 * when v_i = a_i(x) the two decodes are bitwise equal and the hook is exactly the identity.
 */
export function clampLatentHook(sae: Sae, options: ClampLatentOptions): SteeringHook {
  const name = hookNameFor(sae, options.hook, "clampLatentHook");
  const who = `clampLatentHook("${name}")`;
  const latents = typeof options.latent === "number" ? [options.latent] : [...options.latent];
  const values = typeof options.value === "number" ? latents.map(() => options.value as number) : [...options.value];
  if (latents.length === 0 || values.length !== latents.length) {
    const message = `${who}: ${latents.length} latents and ${values.length} values; give one value or one per latent`;
    throw new SaeError("CONFIG_INVALID", message, { field: "value", expected: latents.length, got: values.length });
  }
  for (const i of latents) sae.featureDirection(i); // range check now, not in the middle of generation
  values.forEach((v) => {
    if (!Number.isFinite(v)) throw new SaeError("CONFIG_INVALID", `${who}: value ${v} is not finite`, { got: v });
  });
  const clamp = new Map(latents.map((i, j) => [i, values[j]!]));
  const positions = options.positions ?? "all";
  checkSteeringPositions(positions, who);
  const d = sae.dIn;
  /** decode(codes) and decode(clamped codes) of the target rows of data [batch*seq, d]. → each [targets, d] */
  const decodes = (data: Float32Array, rows: readonly number[]): { before: Float32Array; after: Float32Array } => {
    const x = new Float32Array(rows.length * d); // [nTargets, d]
    for (const [j, r] of rows.entries()) x.set(data.subarray(r * d, (r + 1) * d), j * d);
    const codes = sae.encode(new Tensor("f32", [rows.length, d], x));
    const before = sae.decode(codes).data as Float32Array;
    const after = sae.decode(withClamped(codes, clamp)).data as Float32Array;
    return { before, after };
  };
  const clampOnDevice = async (t: Tensor, rows: readonly number[]): Promise<void> => {
    const { before, after } = decodes((await toHost(t)).data as Float32Array, rows);
    for (let i = 0; i < after.length; i++) after[i]! -= before[i]!;
    addRowsOnDevice(t, rows, after, d);
  };
  return {
    name,
    fn: (t, call) => {
      checkWidth(t, d, who);
      const rows = targetRows(positions, call, who);
      if (rows.length === 0) return;
      // The SAE runs on the host: on a device the hook reads t back first, then adds the change there.
      if (t.device !== "cpu") return clampOnDevice(t, rows);
      const data = t.data as Float32Array; // [batch*seq, d]
      const { before, after } = decodes(data, rows);
      rows.forEach((r, j) => {
        for (let k = 0; k < d; k++) data[r * d + k]! += after[j * d + k]! - before[j * d + k]!;
      });
    },
  };
}

/** The codes with each clamped latent set to its value (added where the latent was inactive). */
function withClamped(codes: SparseCodes, clamp: ReadonlyMap<number, number>): SparseCodes {
  const indptr = new Int32Array(codes.rows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < codes.rows; r++) {
    const missing = new Set(clamp.keys());
    for (let p = codes.indptr[r]!; p < codes.indptr[r + 1]!; p++) {
      const i = codes.indices[p]!;
      indices.push(i);
      values.push(clamp.get(i) ?? codes.values[p]!);
      missing.delete(i);
    }
    for (const i of missing) {
      indices.push(i);
      values.push(clamp.get(i)!);
    }
    indptr[r + 1] = indices.length;
  }
  // keep the encode's hidden normalisation state (an SAE that normalises its input decodes back through it)
  return { ...codes, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

export interface AddDirectionOptions {
  readonly hook: string;
  /** d [dModel]: e.g. `saeDecoderDirection(sae, i)` or a vector read with `readDirectionFile`. */
  readonly direction: ArrayLike<number>;
  /** α: the hook adds α·d (d as given, not normalised). */
  readonly alpha: number;
  readonly positions?: SteeringPositions;
}

/** Adds α·d to the hook's residual vectors at the chosen positions. */
export function addDirectionHook(options: AddDirectionOptions): SteeringHook {
  const name = options.hook;
  const who = `addDirectionHook("${name}")`;
  const direction = Float32Array.from(options.direction);
  if (!Number.isFinite(options.alpha) || !direction.every(Number.isFinite)) {
    throw new SaeError("CONFIG_INVALID", `${who}: alpha and the direction must be finite`, { got: options.alpha });
  }
  const positions = options.positions ?? "all";
  checkSteeringPositions(positions, who);
  const d = direction.length;
  const alpha = options.alpha;
  const scaled = direction.map((v) => alpha * v); // α·d, what a device adds per target row
  return {
    name,
    fn: (t, call) => {
      checkWidth(t, d, who);
      const rows = targetRows(positions, call, who);
      if (t.device !== "cpu") {
        if (rows.length > 0) addRowsOnDevice(t, rows, tileRows(scaled, rows.length), d);
        return;
      }
      const data = t.data as Float32Array;
      for (const r of rows) {
        for (let k = 0; k < d; k++) data[r * d + k]! += alpha * direction[k]!;
      }
    },
  };
}

/** `row` [d] repeated `count` times. → [count, d] */
function tileRows(row: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count * row.length);
  for (let j = 0; j < count; j++) out.set(row, j * row.length);
  return out;
}

function hookNameFor(sae: Sae, hook: string | undefined, who: string): string {
  const name = hook ?? sae.hookName;
  if (!name) {
    const message = `${who}: the SAE records no hook; pass options.hook (e.g. "blocks.7.hook_resid_post")`;
    throw new SaeError("CONFIG_INVALID", message, { field: "hook" });
  }
  return name;
}
