import type { ActivationSource } from "@difflens/tensor";
import { prepareBatch, type TokenInput, toTokenBatch } from "../batch.ts";
import { HookError } from "../errors.ts";
import { parseHookName } from "../hooks/hook-table.ts";
import { type PerRowPositions, realColumns, resolvePerRow } from "../hooks/positions.ts";
import type { Model } from "../model.ts";

/** Tokens with the positions to read in each item (its own coordinates: 0 = first real token, −1 = last). */
export interface PositionedTokens {
  readonly tokens: TokenInput;
  readonly positions: PerRowPositions;
}

/** One harvest batch: tokens (a `TokenBatch` or any runtime input form), optionally with per-row positions. */
export type HarvestInput = TokenInput | PositionedTokens;

function isPositioned(x: HarvestInput): x is PositionedTokens {
  return typeof x === "object" && x !== null && !Array.isArray(x) && "tokens" in x && "positions" in x;
}

/**
 * Turns token batches into activation batches at one hook: each batch runs only up to the hook (`runToHook`,
 * nothing past it is computed) and its rows come out as f32 [kept, width] (width = the hook's per-position size,
 * e.g. dModel for resid hooks), in row order. Kept: every real token whose keepMask is not 0 — or, for
 * `{ tokens, positions: { perRow } }`, exactly the asked positions of each row, in the order asked (masks ignored).
 * Feeds SAE training as an ActivationSource.
 */
export function harvest(
  model: Model,
  hook: string,
  tokenBatches: Iterable<HarvestInput> | AsyncIterable<HarvestInput>,
): ActivationSource {
  const parsed = parseHookName(hook, model.config);
  if (parsed.site.dims[1] !== "pos") {
    throw new HookError(
      "BAD_ARGUMENT",
      `harvest: "${hook}" is not laid out [batch, pos, …]; harvest a per-position hook (resid, attn_out, mlp_out, hook_z, …)`,
      { got: hook },
    );
  }
  const width = model
    .hookShape(hook, 1, 1)
    .slice(2)
    .reduce((a, b) => a * b, 1);
  return {
    dIn: width,
    async *[Symbol.asyncIterator]() {
      for await (const input of tokenBatches as AsyncIterable<HarvestInput>) {
        const tokens = toTokenBatch(isPositioned(input) ? input.tokens : input);
        const batch = prepareBatch(model.config, tokens);
        const { batch: B, seq: S } = batch;
        const rows = isPositioned(input)
          ? resolvePerRow(input.positions, realColumns(batch.attentionMask, B, S), "harvest").columns
          : keptColumns(batch.attentionMask, tokens.keepMask, B, S);
        const kept = rows.reduce((n, cols) => n + cols.length, 0);
        if (kept === 0) continue; // nothing to keep: skip the forward pass too
        const flat = Int32Array.from(rows.flatMap((cols, b) => cols.map((s) => b * S + s))); // [kept]
        yield await model.runToHookPrepared(batch, hook, flat); // [kept, width], gathered where the model runs
      }
    },
  };
}

/** Per row, the columns of real tokens not dropped by the keep mask. // [batch][kept_row] */
function keptColumns(attentionMask: Uint8Array, keepMask: Uint8Array | undefined, B: number, S: number): number[][] {
  return Array.from({ length: B }, (_, b) => {
    const cols: number[] = [];
    for (let s = 0; s < S; s++) if (attentionMask[b * S + s] === 1 && (keepMask?.[b * S + s] ?? 1) !== 0) cols.push(s);
    return cols;
  });
}
