import { Tensor, toFloat32Array, type ActivationSource } from "@difflens/tensor";
import { prepareBatch } from "../batch.ts";
import { HookError } from "../errors.ts";
import { parseHookName } from "../hooks/hook-table.ts";
import type { Model } from "../model.ts";

/** One batch of token windows as plain arrays. */
export interface HarvestBatch {
  /** [batch][seq] token ids. */
  readonly ids: readonly (readonly number[])[];
  /** [batch][seq] 1 = real token, 0 = padding (attention masks padding; padding is dropped). Default all 1. */
  readonly attentionMask?: readonly (readonly number[])[];
  /** [batch][seq] 0 = drop this position from the output although attended (e.g. BOS). Default all 1. */
  readonly keepMask?: readonly (readonly number[])[];
}

/**
 * Turns token batches into activation batches at one hook: each batch runs only up to the hook (`runToHook`,
 * nothing past it is computed), masked positions are dropped, and the rows come out as f32 [kept, width]
 * (width = the hook's per-position size, e.g. dModel for resid hooks). Feeds SAE training as an ActivationSource.
 */
export function harvest(model: Model, hook: string, tokenBatches: Iterable<HarvestBatch> | AsyncIterable<HarvestBatch>): ActivationSource {
  const parsed = parseHookName(hook, model.config);
  if (parsed.site.dims[1] !== "pos") {
    throw new HookError("BAD_ARGUMENT", `harvest: "${hook}" is not laid out [batch, pos, …]; harvest a per-position hook (resid, attn_out, mlp_out, hook_z, …)`, { got: hook });
  }
  const width = model.hookShape(hook, 1, 1).slice(2).reduce((a, b) => a * b, 1);
  return {
    dIn: width,
    async *[Symbol.asyncIterator]() {
      for await (const tb of tokenBatches as AsyncIterable<HarvestBatch>) {
        const batch = prepareBatch(model.config, tb.attentionMask ? { ids: tb.ids, attentionMask: tb.attentionMask } : { ids: tb.ids });
        const act = toFloat32Array(model.runToHookPrepared(batch, hook)); // [B, S, width]
        const { batch: B, seq: S } = batch;
        let kept = 0;
        const keepRow = (b: number, s: number): boolean => batch.attentionMask[b * S + s] === 1 && (tb.keepMask?.[b]?.[s] ?? 1) !== 0;
        for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) if (keepRow(b, s)) kept++;
        const out = new Float32Array(kept * width);
        let r = 0;
        for (let b = 0; b < B; b++) {
          for (let s = 0; s < S; s++) {
            if (!keepRow(b, s)) continue;
            out.set(act.subarray((b * S + s) * width, (b * S + s + 1) * width), r * width);
            r++;
          }
        }
        if (kept > 0) yield new Tensor("f32", [kept, width], out);
      }
    },
  };
}
