/**
 * The forward passes every follow-up makes over the positives, each read at the emitting position t* − 1: rows are
 * the tokens 0 … t* − 1 of a positive, left-padded into batches so that t* − 1 is every row's last column.
 *
 * Interventions that act at t* − 1 only (patching one position, ablating one MLP output) leave positions < t* − 1
 * untouched, so they are run as single-token steps from one cached prefix: per batch, one pass over 0 … t* − 2 fills
 * a KV cache, then the clean step and one step per intervention each feed token t* − 1 and the cache is truncated
 * back to the prefix. That costs one prefix pass + (1 + interventions) one-token steps instead of (1 + interventions)
 * full passes.
 */
import { type HookSpec, type KvCache, leftPad, type Model, type TokenInput } from "@difflens/runtime";
import { Tensor, toDevice, toFloat32Array, toHost } from "@difflens/tensor";
import { ReadoutsError } from "../errors.ts";

/** A batch's rows as indices into the caller's list of sequences. */
export type BatchRows = readonly number[];

/** Hooks of one intervention for the rows of a batch (e.g. patch sources taken at those rows). */
export type InterventionHooks = (rows: BatchRows) => readonly HookSpec[];

/** Sequences per forward pass, and who hears of each finished batch (a progress bar over the rows). */
export interface Batching {
  readonly size: number;
  readonly onBatch?: (rows: number) => void;
}

/** Runs `fn` over consecutive batches of at most `batching` (its size) sequences, one batch after another. */
export async function forEachBatch(
  count: number,
  batching: Batching | number,
  fn: (rows: BatchRows) => Promise<void> | void,
): Promise<void> {
  const { size, onBatch } = typeof batching === "number" ? { size: batching, onBatch: undefined } : batching;
  if (!Number.isInteger(size) || size < 1) {
    throw new ReadoutsError("CONFIG_INVALID", `batch size must be a positive integer, got ${size}`, {
      field: "batchSize",
      expected: "an integer ≥ 1",
      got: size,
    });
  }
  for (let start = 0; start < count; start += size) {
    const rows = Array.from({ length: Math.min(size, count - start) }, (_, i) => start + i);
    await fn(rows);
    onBatch?.(rows.length);
  }
}

/**
 * softmax(logits)[markerId] of each row of the host logits [..., vocab], in f64 on the host (no kernel: it works
 * whatever backend is current).
 */
export function markerProbabilities(logits: Tensor, markerId: number): number[] {
  const V = logits.shape[logits.shape.length - 1]!;
  const rows = logits.size / V;
  const x = toFloat32Array(logits);
  return Array.from({ length: rows }, (_, r) => {
    let max = -Infinity;
    for (let v = r * V; v < (r + 1) * V; v++) max = Math.max(max, x[v]!);
    let z = 0;
    for (let v = r * V; v < (r + 1) * V; v++) z += Math.exp(x[v]! - max);
    return Math.exp(x[r * V + markerId]! - max) / z;
  });
}

const FINAL_NORM = "ln_final.hook_normalized";

/** The final-norm output at the last column of a call: [rows, dModel] (no unembedding yet). */
async function lastNormed(
  model: Model,
  input: TokenInput,
  hooks: readonly HookSpec[],
  kvCache?: KvCache,
): Promise<Float32Array> {
  const { cache } = await model.withHooks(hooks, () =>
    model.runWithCache(input, {
      names: [FINAL_NORM],
      positions: [-1],
      logits: "none",
      ...(kvCache ? { kvCache } : {}),
    }),
  );
  return toFloat32Array(cache.get(FINAL_NORM));
}

/**
 * The unembedding of every run of a batch at once — [runs · rows, dModel] through the family's unembedding (lm_head,
 * any final soft-cap) in one GEMM, so the vocab matrix is read once per batch, not once per run — then P(marker) per
 * row. → [runs][rows]
 */
async function runProbabilities(model: Model, normed: readonly Float32Array[], markerId: number): Promise<number[][]> {
  const d = model.config.dModel;
  const stacked = concat(normed);
  // lm_head lives on the model's device: the GEMM runs there and only the logits come back. The family's
  // unembedNormed is lm_head plus any final soft-cap (Gemma), exactly the forward pass's tail after the final norm.
  const normedRows = toDevice(new Tensor("f32", [stacked.length / d, d], stacked));
  const logits = model.family.unembedNormed(model.config, model.weights, normedRows);
  const p = markerProbabilities(await toHost(logits), markerId);
  const rows = normed[0]!.length / d;
  return normed.map((_, k) => p.slice(k * rows, (k + 1) * rows));
}

/**
 * P(marker) at t* − 1 for every sequence, clean and under each intervention acting at t* − 1 only (one-token steps
 * from a cached prefix, see the file comment). `sequences[i]` = tokens 0 … t* − 1. → { clean [N], under [K][N] }
 */
export async function emitStepProbabilities(
  model: Model,
  sequences: readonly (readonly number[])[],
  markerId: number,
  interventions: readonly InterventionHooks[],
  batching: Batching | number,
): Promise<{ clean: number[]; under: number[][] }> {
  return probabilitiesByBatch(model, sequences.length, markerId, interventions, batching, async (rows) => {
    const prefixes = rows.map((r) => sequences[r]!.slice(0, -1));
    const short = prefixes.findIndex((p) => p.length === 0);
    if (short >= 0) {
      throw new ReadoutsError("INPUT_INVALID", `sequence ${rows[short]} has no token before its emitting position`, {
        expected: "t* ≥ 2",
      });
    }
    const width = Math.max(...prefixes.map((p) => p.length));
    const kv = model.createKvCache(rows.length, width + 1);
    await model.runWithCache(leftPad(prefixes), { names: [], logits: "none", kvCache: kv });
    const step = rows.map((r) => [sequences[r]!.at(-1)!]);
    return async (hooks) => {
      const normed = await lastNormed(model, step, hooks, kv);
      kv.truncate(width);
      return normed;
    };
  });
}

/**
 * P(marker) at t* − 1 under interventions that act at other positions too (full passes over 0 … t* − 1, left-padded,
 * so hooks see every row's real tokens at its columns [width − n, width)). → { clean [N], under [K][N] }
 */
export async function fullPassProbabilities(
  model: Model,
  sequences: readonly (readonly number[])[],
  markerId: number,
  interventions: readonly InterventionHooks[],
  batching: Batching | number,
): Promise<{ clean: number[]; under: number[][] }> {
  return probabilitiesByBatch(model, sequences.length, markerId, interventions, batching, (rows) => {
    const batch = leftPad(rows.map((r) => sequences[r]!));
    return (hooks) => lastNormed(model, batch, hooks);
  });
}

/** One run of a batch under the given hooks: its final-norm rows [rows, dModel]. */
type RunUnder = (hooks: readonly HookSpec[]) => Promise<Float32Array>;

/**
 * Per batch, the clean run and one run per intervention — `prepare(rows)` returns how one run's final-norm rows
 * are made under given hooks — unembedded together (runProbabilities). → { clean [N], under [K][N] }
 */
async function probabilitiesByBatch(
  model: Model,
  count: number,
  markerId: number,
  interventions: readonly InterventionHooks[],
  batching: Batching | number,
  prepare: (rows: BatchRows) => RunUnder | Promise<RunUnder>,
): Promise<{ clean: number[]; under: number[][] }> {
  const clean: number[] = [];
  const under: number[][] = interventions.map(() => []);
  await forEachBatch(count, batching, async (rows) => {
    const normedUnder = await prepare(rows);
    // One run after another: runs share the batch's KV cache (emitStepProbabilities truncates it after each).
    const normed = [await normedUnder([])];
    for (const hooksFor of interventions) normed.push(await normedUnder(hooksFor(rows)));
    const [cleanRows, ...underRows] = await runProbabilities(model, normed, markerId);
    clean.push(...cleanRows!);
    for (const [k, p] of underRows.entries()) under[k]!.push(...p);
  });
  return { clean, under };
}

/**
 * The named hooks at t* − 1 (each sequence's last position) for every sequence: name → [N, …hook dims without
 * batch and pos]. One pass per batch, stopped after the deepest named hook.
 */
export async function emitPositionCache(
  model: Model,
  sequences: readonly (readonly number[])[],
  names: readonly string[],
  batching: Batching | number,
): Promise<Map<string, Float32Array>> {
  const parts = new Map<string, Float32Array[]>(names.map((n) => [n, []]));
  await forEachBatch(sequences.length, batching, async (rows) => {
    const batch = leftPad(rows.map((r) => sequences[r]!));
    const { cache } = await model.runWithCache(batch, { names, positions: [-1], logits: "none" });
    for (const name of names) parts.get(name)!.push(toFloat32Array(cache.get(name)));
  });
  return new Map([...parts].map(([name, chunks]) => [name, concat(chunks)]));
}

function concat(chunks: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
