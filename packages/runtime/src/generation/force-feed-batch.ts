import { gemm, Tensor } from "@difflens/tensor";
import { leftPad } from "../batch.ts";
import { HookError, InputError } from "../errors.ts";
import { ActivationCache } from "../hooks/activation-cache.ts";
import { parseHookName } from "../hooks/hook-table.ts";
import type { Model } from "../model.ts";
import { takeAlongAxis } from "../tensor-utils.ts";

/** One force-feed item: the prompt the generation started from and the tokens it produced. */
export interface ForceFeedItem {
  readonly prompt: readonly number[];
  readonly continuation: readonly number[];
}

export interface ForceFeedBatchOptions {
  /** Hook names to keep (validated before compute; unknown names suggest the nearest). */
  readonly names?: readonly string[];
  /** Or: keep hooks whose name passes. */
  readonly filter?: (name: string) => boolean;
  /** Keep only these positions of each item's own sequence (prompt + continuation; negative counts from its end). */
  readonly positions?: readonly number[];
}

export interface ForceFeedItemResult {
  /** [continuation.length, vocab]: step i holds the logits that predicted continuation[i]. */
  readonly stepLogits: Tensor;
  /**
   * The kept hooks in the layout `forceFeed` gives for this item alone: [1, n, …] over the item's real positions
   * 0..n−1 (n = prompt + continuation; or the asked `positions`), and `keyPos` axes cut to the item's n real keys.
   */
  readonly cache: ActivationCache;
  /** Padded index of the item's first token: item positions [offset, width) in the batch hooks see. */
  readonly offset: number;
}

export interface ForceFeedBatchResult {
  /** One result per item, in input order. */
  readonly items: ForceFeedItemResult[];
  /** Padded length of the batch (the longest prompt + continuation). */
  readonly width: number;
}

const FINAL_NORM = "ln_final.hook_normalized";

/**
 * Batched force-feed: runs every item's prompt + continuation in one left-padded forward pass (HF position ids, pad
 * keys masked) and returns, per item, exactly what `forceFeed` returns for that item alone (within float rounding).
 *
 * Layout: item b is row b of a [items, width] batch, its n_b tokens at padded positions [width − n_b, width) (pads
 * first, id 0, attention mask 0). Hooks attached to the model (`withHooks`) run on that padded batch and can map
 * back through `ctx.attentionMask` / `ctx.positionIds`; the returned caches are already cut to real positions.
 *
 * The logits are computed only at the continuation-predicting positions (lm_head over the final-norm output there),
 * so memory is Σ continuation × vocab rather than items × width × vocab. All inputs are checked before any compute.
 */
export function forceFeedBatch(model: Model, items: readonly ForceFeedItem[], opts: ForceFeedBatchOptions = {}): ForceFeedBatchResult {
  const c = model.config;
  const V = c.vocabSize;
  if (!Array.isArray(items) || items.length === 0) throw new InputError("EMPTY_INPUT", "forceFeedBatch: no items");
  items.forEach((it, i) => {
    if (it.prompt.length === 0) throw new InputError("EMPTY_INPUT", `forceFeedBatch: the prompt of item ${i} is empty`, { item: i });
    if (it.continuation.length === 0) throw new InputError("EMPTY_INPUT", `forceFeedBatch: the continuation of item ${i} is empty`, { item: i });
    const seq = [...it.prompt, ...it.continuation];
    seq.forEach((id, p) => {
      if (!Number.isInteger(id) || id < 0 || id >= V) {
        const part = p < it.prompt.length ? `prompt[${p}]` : `continuation[${p - it.prompt.length}]`;
        throw new InputError("TOKEN_OUT_OF_RANGE", `forceFeedBatch: token id ${id} at item ${i} ${part} is outside the vocabulary [0, ${V})`, { item: i, position: p, got: id, expected: `< ${V}` });
      }
    });
    if (seq.length > c.maxPositions) {
      throw new InputError("SEQUENCE_TOO_LONG", `forceFeedBatch: item ${i} has ${seq.length} tokens (prompt ${it.prompt.length} + continuation ${it.continuation.length}), beyond max_position_embeddings ${c.maxPositions}`, { item: i, expected: c.maxPositions, got: seq.length });
    }
  });
  if (opts.names && opts.filter) throw new HookError("BAD_ARGUMENT", "forceFeedBatch: give names or filter, not both");
  const names = opts.names ? new Set(opts.names.map((n) => parseHookName(n, c).name)) : undefined;
  const wanted = names ? (n: string) => names.has(n) : opts.filter ?? (() => false);
  const lengths = items.map((it) => it.prompt.length + it.continuation.length);
  const itemPositions = lengths.map((n) => opts.positions?.map((p) => {
    const r = p < 0 ? n + p : p;
    if (!Number.isInteger(r) || r < 0 || r >= n) {
      throw new HookError("BAD_ARGUMENT", `forceFeedBatch: position ${p} is outside the ${n} positions of an item`, { got: p, expected: `[-${n}, ${n})` });
    }
    return r;
  }));

  const padded = leftPad(items.map((it) => [...it.prompt, ...it.continuation]), 0);
  const width = padded.ids[0]!.length;
  // The final-norm output is always captured: the step logits are lm_head over its continuation-predicting rows.
  const { cache } = model.runWithCache(padded, { filter: (n) => n === FINAL_NORM || wanted(n), logits: "none" });
  const d = c.dModel;
  const normed = cache.get(FINAL_NORM).data as Float32Array; // [items, width, dModel]
  const totalSteps = items.reduce((s, it) => s + it.continuation.length, 0);
  const rows = new Float32Array(totalSteps * d); // [Σ steps, dModel]
  let r = 0;
  items.forEach((it, b) => {
    // the logits at real position prompt−1+i predicted continuation[i]
    const first = b * width + (width - lengths[b]!) + it.prompt.length - 1;
    rows.set(normed.subarray(first * d, (first + it.continuation.length) * d), r * d);
    r += it.continuation.length;
  });
  const logits = gemm(new Tensor("f32", [totalSteps, d], rows), model.weights.lmHead, { transB: true }).data as Float32Array; // [Σ steps, vocab]

  const keptNames = cache.names().filter(wanted);
  let at = 0;
  const results = items.map((it, b): ForceFeedItemResult => {
    const steps = it.continuation.length;
    const stepLogits = new Tensor("f32", [steps, V], logits.slice(at * V, (at + steps) * V));
    at += steps;
    const offset = width - lengths[b]!;
    const realKeys = Array.from({ length: lengths[b]! }, (_, j) => offset + j);
    const queries = itemPositions[b]?.map((p) => offset + p) ?? realKeys;
    const store = new Map<string, Tensor>();
    for (const name of keptNames) {
      const dims = parseHookName(name, c).site.dims;
      let t = takeAlongAxis(cache.get(name), dims.indexOf("batch"), [b]);
      t = takeAlongAxis(t, dims.indexOf("pos"), queries);
      if (dims.includes("keyPos")) t = takeAlongAxis(t, dims.indexOf("keyPos"), realKeys);
      store.set(name, t);
    }
    return { stepLogits, cache: new ActivationCache(store, itemPositions[b] ?? null), offset };
  });
  return { items: results, width };
}
