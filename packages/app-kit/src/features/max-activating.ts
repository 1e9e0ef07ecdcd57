/**
 * Max-activating contexts of chosen SAE latents (Neuronpedia-like): windows of a dataset run through a model to the
 * SAE's hook and encoded; per latent the windows with the highest activation (one example per window), each kept as
 * the tokens around the maximum with the latent's activation at every shown token. The scan keeps every window's
 * sparse codes (rows × k values), so the shown activations are read from them — no second forward pass.
 */
import { harvest, type Model } from "@difflens/runtime";
import type { Sae, SparseCodes } from "@difflens/sae";
import { padTokenRows, type TokenBatch, type Tokenizer } from "@difflens/tokenizer";

/** A token window: real tokens first, then padding. */
export interface ContextWindow {
  /** [contextSize] token ids. */
  readonly ids: Int32Array;
  /** [contextSize] 1 = a position that counts (e.g. one an SAE trained on), 0 = skipped (padding, specials). */
  readonly mask: Uint8Array;
  /** Real (attended) tokens at the start of the window. */
  readonly length: number;
}

export interface ActivationExample {
  /** Index of the window in the scanned list. */
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
  /** Fraction of scanned (counting) tokens where the latent is active. */
  readonly density: number;
  readonly maxValue: number;
  /** Highest first. */
  readonly examples: readonly ActivationExample[];
}

export interface MaxActivatingOptions {
  readonly model: Model;
  readonly sae: Sae;
  readonly hook: string;
  readonly tokenizer: Tokenizer;
  readonly windows: readonly ContextWindow[];
  readonly latents: readonly number[];
  /** Examples per latent. */
  readonly contexts: number;
  /** Tokens shown either side of the maximum. */
  readonly radius: number;
  readonly windowsPerForward: number;
}

export async function maxActivatingContexts(opts: MaxActivatingOptions): Promise<LatentExamples[]> {
  const { sae, latents, windows } = opts;
  const slot = new Map(latents.map((l, i) => [l, i]));
  // Per latent: the best value in each window (over its counting positions) and where.
  const best = latents.map(() => new Map<number, { value: number; pos: number }>());
  const active = new Float64Array(latents.length);
  // Per window: the codes of its batch and the row of its first token.
  const windowCodes: { codes: SparseCodes; firstRow: number }[] = [];
  let scanned = 0;
  let windowIndex = 0;
  for await (const rows of harvest(opts.model, opts.hook, windowBatches(windows, opts.windowsPerForward))) {
    // One row per real token, windows in order.
    const codes = sae.encode(rows);
    let r = 0;
    while (r < rows.shape[0]!) {
      const w = windows[windowIndex]!;
      windowCodes.push({ codes, firstRow: r });
      for (let pos = 0; pos < w.length; pos++, r++) {
        if (w.mask[pos] === 0) continue;
        scanned++;
        for (let p = codes.indptr[r]!; p < codes.indptr[r + 1]!; p++) {
          const s = slot.get(codes.indices[p]!);
          if (s === undefined) continue;
          const v = codes.values[p]!;
          active[s]!++;
          const current = best[s]!.get(windowIndex);
          if (!current || v > current.value) best[s]!.set(windowIndex, { value: v, pos });
        }
      }
      windowIndex++;
    }
  }
  const decoded = new Map<number, Promise<string>>();
  const decode = (id: number) => {
    if (!decoded.has(id)) decoded.set(id, opts.tokenizer.decode([id]));
    return decoded.get(id)!;
  };
  const out: LatentExamples[] = [];
  for (let s = 0; s < latents.length; s++) {
    const top = [...best[s]!.entries()].sort((a, b) => b[1].value - a[1].value || a[0] - b[0]).slice(0, opts.contexts);
    const examples: ActivationExample[] = [];
    for (const [wi, { value, pos }] of top) {
      const w = windows[wi]!;
      const from = Math.max(0, pos - opts.radius);
      const to = Math.min(w.length, pos + opts.radius + 1);
      const ids = Array.from(w.ids.subarray(from, to));
      const values = latentValues(windowCodes[wi]!, latents[s]!, from, to);
      const tokens = await Promise.all(ids.map(decode));
      examples.push({ window: wi, tokens, tokenIds: ids, values, maxValue: value, maxPosition: pos - from });
    }
    const density = scanned > 0 ? active[s]! / scanned : 0;
    out.push({ latent: latents[s]!, density, maxValue: examples[0]?.maxValue ?? 0, examples });
  }
  return out;
}

/** Windows stacked `perForward` at a time, cut to the longest real length; padding is unattended and dropped. */
function* windowBatches(windows: readonly ContextWindow[], perForward: number): Generator<TokenBatch> {
  for (let i = 0; i < windows.length; i += perForward) {
    const rows = windows.slice(i, i + perForward).map((w) => w.ids.subarray(0, w.length));
    yield padTokenRows(rows, { padding: "right", padTokenId: 0 });
  }
}

/** The latent's activation at every position [from, to) of one window, read from the scan's codes (rounded to 1e-4). */
function latentValues(
  window: { codes: SparseCodes; firstRow: number },
  latent: number,
  from: number,
  to: number,
): number[] {
  const { codes, firstRow } = window;
  const values: number[] = [];
  for (let r = firstRow + from; r < firstRow + to; r++) {
    let v = 0;
    for (let p = codes.indptr[r]!; p < codes.indptr[r + 1]!; p++) {
      if (codes.indices[p] === latent) v = codes.values[p]!;
    }
    values.push(Math.round(v * 1e4) / 1e4);
  }
  return values;
}
