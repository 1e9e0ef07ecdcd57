/**
 * Max-activating contexts of chosen latents: windows of a dataset run through a model to the hook, encoded by one
 * stage's SAE; per latent the windows with the highest activation (one example per window), each kept as the
 * tokens around the maximum with their activations (Neuronpedia-like: tokens, values, maxValue, maxPosition).
 */
import { Tensor } from "@difflens/tensor";
import { harvest, type Model } from "@difflens/runtime";
import type { Sae } from "@difflens/sae";
import type { Tokenizer } from "@difflens/tokenizer";
import { harvestBatches } from "../data/activation-stream.ts";
import type { StageWindow } from "../data/windows.ts";

export interface ActivationExample {
  /** Index of the window in the scanned stream. */
  readonly window: number;
  /** Token strings of the shown span (decoded one by one). */
  readonly tokens: readonly string[];
  readonly tokenIds: readonly number[];
  /** The latent's activation at each shown token. */
  readonly values: readonly number[];
  readonly maxValue: number;
  /** Position of the maximum inside `tokens`. */
  readonly maxPosition: number;
}

export interface LatentExamples {
  readonly latent: number;
  /** Fraction of scanned (trainable) tokens where the latent is active. */
  readonly density: number;
  readonly maxValue: number;
  readonly examples: readonly ActivationExample[];
}

export async function maxActivatingContexts(opts: {
  model: Model; sae: Sae; hook: string; tokenizer: Tokenizer; windows: readonly StageWindow[]; latents: readonly number[];
  contexts: number; radius: number; windowsPerForward: number;
}): Promise<LatentExamples[]> {
  const { sae, latents } = opts;
  const slot = new Map(latents.map((l, i) => [l, i]));
  // Per latent: best value per window (max over the window's trainable positions) and where.
  const best = latents.map(() => new Map<number, { value: number; pos: number }>());
  const active = new Float64Array(latents.length);
  let scanned = 0;
  const real = opts.windows.map((w) => ({ ...w, mask: Uint8Array.from(w.ids, (_, i) => (i < w.length ? 1 : 0)) }));
  let windowIndex = 0;
  for await (const rows of harvest(opts.model, opts.hook, harvestBatches(iterate(real), opts.windowsPerForward))) {
    // Rows come in window order, each window's real tokens in order.
    const codes = sae.encode(rows as Tensor);
    let r = 0;
    while (r < rows.shape[0]!) {
      const w = opts.windows[windowIndex]!;
      for (let pos = 0; pos < w.length; pos++, r++) {
        if (w.mask[pos] === 0) continue; // masked positions (specials) were never trained on
        scanned++;
        for (let p = codes.indptr[r]!; p < codes.indptr[r + 1]!; p++) {
          const s = slot.get(codes.indices[p]!);
          if (s === undefined) continue;
          const v = codes.values[p]!;
          active[s]!++;
          const cur = best[s]!.get(windowIndex);
          if (!cur || v > cur.value) best[s]!.set(windowIndex, { value: v, pos });
        }
      }
      windowIndex++;
    }
  }
  const out: LatentExamples[] = [];
  for (let s = 0; s < latents.length; s++) {
    const top = [...best[s]!.entries()].sort((a, b) => b[1].value - a[1].value || a[0] - b[0]).slice(0, opts.contexts);
    const examples: ActivationExample[] = [];
    for (const [wi, { value, pos }] of top) {
      const w = opts.windows[wi]!;
      const from = Math.max(0, pos - opts.radius), to = Math.min(w.length, pos + opts.radius + 1);
      const ids = Array.from(w.ids.subarray(from, to));
      const values = await latentValues(opts.model, sae, opts.hook, w, latents[s]!, from, to);
      const tokens = await Promise.all(ids.map((id) => opts.tokenizer.decode([id])));
      examples.push({ window: wi, tokens, tokenIds: ids, values, maxValue: value, maxPosition: pos - from });
    }
    out.push({ latent: latents[s]!, density: scanned > 0 ? active[s]! / scanned : 0, maxValue: examples[0]?.maxValue ?? 0, examples });
  }
  return out;
}

/** The latent's activation at every position [from, to) of one window (a second, small forward pass). */
async function latentValues(model: Model, sae: Sae, hook: string, w: StageWindow, latent: number, from: number, to: number): Promise<number[]> {
  const ids = [Array.from(w.ids.subarray(0, to))];
  const values: number[] = [];
  for await (const rows of harvest(model, hook, [{ ids }])) {
    const codes = sae.encode(rows);
    for (let r = from; r < to; r++) {
      let v = 0;
      for (let p = codes.indptr[r]!; p < codes.indptr[r + 1]!; p++) if (codes.indices[p] === latent) v = codes.values[p]!;
      values.push(Math.round(v * 1e4) / 1e4);
    }
  }
  return values;
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
