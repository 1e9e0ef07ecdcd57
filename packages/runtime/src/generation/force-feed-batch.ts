import { gatherRows, release, Tensor, toDevice, toHost } from "@difflens/tensor";
import { padTokenRows } from "@difflens/tokenizer";
import { HookError, InputError } from "../errors.ts";
import { ActivationCache } from "../hooks/activation-cache.ts";
import { parseHookName } from "../hooks/hook-table.ts";
import { isPerRow, type PerRowPositions, type Positions, resolvePerRow } from "../hooks/positions.ts";
import type { Model } from "../model.ts";

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
  /**
   * Keep only these positions of each item's own sequence (prompt + continuation; negative counts from its end):
   * one list for every item, or `{ perRow }` with a list per item.
   */
  readonly positions?: Positions;
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
 * The logits are computed only at the continuation-predicting positions (the family's `unembedNormed` — lm_head and
 * any final soft-cap — over the final-norm output there),
 * so memory is Σ continuation × vocab rather than items × width × vocab. All inputs are checked before any compute.
 */
export async function forceFeedBatch(
  model: Model,
  items: readonly ForceFeedItem[],
  opts: ForceFeedBatchOptions = {},
): Promise<ForceFeedBatchResult> {
  const c = model.config;
  const V = c.vocabSize;
  if (!Array.isArray(items) || items.length === 0) throw new InputError("EMPTY_INPUT", "forceFeedBatch: no items");
  items.forEach((it, i) => {
    if (it.prompt.length === 0)
      throw new InputError("EMPTY_INPUT", `forceFeedBatch: the prompt of item ${i} is empty`, { item: i });
    if (it.continuation.length === 0)
      throw new InputError("EMPTY_INPUT", `forceFeedBatch: the continuation of item ${i} is empty`, { item: i });
    const seq = [...it.prompt, ...it.continuation];
    seq.forEach((id, p) => {
      if (!Number.isInteger(id) || id < 0 || id >= V) {
        const part = p < it.prompt.length ? `prompt[${p}]` : `continuation[${p - it.prompt.length}]`;
        throw new InputError(
          "TOKEN_OUT_OF_RANGE",
          `forceFeedBatch: token id ${id} at item ${i} ${part} is outside the vocabulary [0, ${V})`,
          { item: i, position: p, got: id, expected: `< ${V}` },
        );
      }
    });
    if (seq.length > c.maxPositions) {
      throw new InputError(
        "SEQUENCE_TOO_LONG",
        `forceFeedBatch: item ${i} has ${seq.length} tokens (prompt ${it.prompt.length} + continuation ${it.continuation.length}), beyond max_position_embeddings ${c.maxPositions}`,
        { item: i, expected: c.maxPositions, got: seq.length },
      );
    }
  });
  if (opts.names && opts.filter) throw new HookError("BAD_ARGUMENT", "forceFeedBatch: give names or filter, not both");
  const names = opts.names ? new Set(opts.names.map((n) => parseHookName(n, c).name)) : undefined;
  const wanted = names ? (n: string) => names.has(n) : (opts.filter ?? (() => false));
  const lengths = items.map((it) => it.prompt.length + it.continuation.length);
  const itemTokens = lengths.map((n) => Array.from({ length: n }, (_, i) => i));
  const asked = opts.positions;
  const perRow: PerRowPositions = isPerRow(asked) ? asked : { perRow: itemTokens.map((all) => asked ?? all) };
  const itemPositions = resolvePerRow(perRow, itemTokens, "forceFeedBatch").items;

  const sequences = items.map((it) => [...it.prompt, ...it.continuation]);
  const tokens = padTokenRows(sequences, { padding: "left", padTokenId: 0 });
  const width = tokens.seqLen;
  const d = c.dModel;
  const totalSteps = items.reduce((s, it) => s + it.continuation.length, 0);
  // the final-norm rows that predict continuation tokens, gathered on the model's device: [Σ steps] row indices
  const stepRows = new Int32Array(totalSteps);
  let r = 0;
  items.forEach((it, b) => {
    // the logits at real position prompt−1+i predicted continuation[i]
    const first = b * width + tokens.firstColumn[b]! + it.prompt.length - 1;
    for (let i = 0; i < it.continuation.length; i++) stepRows[r++] = first + i;
  });
  let rows: Tensor | undefined; // [Σ steps, dModel]
  const keepSteps = (t: Tensor): void => {
    rows = gatherRows(t.reshape([items.length * width, d]), toDevice(new Tensor("i32", [totalSteps], stepRows)));
  };
  const { cache } = await model.withHooks([{ name: FINAL_NORM, fn: keepSteps }], () =>
    model.runWithCache(tokens, { filter: wanted, positions: { perRow: itemPositions }, logits: "none" }),
  );
  const onDevice = model.family.unembedNormed(c, model.weights, rows!); // [Σ steps, vocab] (lm_head, any soft-cap)
  const logits = (await toHost(onDevice)).data as Float32Array;
  release(onDevice);

  let at = 0;
  const results = items.map((it, b): ForceFeedItemResult => {
    const steps = it.continuation.length;
    const stepLogits = new Tensor("f32", [steps, V], logits.slice(at * V, (at + steps) * V));
    at += steps;
    const store = new Map(cache.names().map((name) => [name, cache.item(b, name)]));
    const itemCache = new ActivationCache(store, asked ? itemPositions[b]! : null);
    return { stepLogits, cache: itemCache, offset: tokens.firstColumn[b]! };
  });
  return { items: results, width };
}
