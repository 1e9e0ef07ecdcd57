/**
 * The Qwen2 decoder (Qwen1.5, Qwen2, Qwen2.5) as Hugging Face computes it, as a recipe of the shared decoder
 * (../shared/decoder-forward.ts, ../shared/grouped-attention.ts: every intermediate a hook point of
 * DECODER_HOOK_SITES). Weights stay in their stored dtype; every activation is f32.
 *
 *   x = embed[ids]
 *   per block:  h = x + o_proj(attention(rope(q_proj(rms1(x))+bq), rope(k_proj(rms1(x))+bk), v_proj(rms1(x))+bv))
 *               x = h + down_proj(silu(gate_proj(rms2(h))) · up_proj(rms2(h)))
 *   logits = lm_head(rms_final(x))
 *
 *   attention: scores q·kᵀ/√dHead, causal, GQA (head h reads kv head ⌊h / (nHeads/nKvHeads)⌋), plain RoPE θ.
 */
import { siluGate, type Tensor } from "@difflens/tensor";
import type { ForwardBatch, LogitsMode } from "../../forward-batch.ts";
import type { HookRunner } from "../../hooks/hook-registry.ts";
import type { KvCache } from "../../kv-cache.ts";
import { type DecoderRecipe, decoderForward, decoderUnembed, unembedNormed } from "../shared/decoder-forward.ts";
import type { AttentionVariant } from "../shared/grouped-attention.ts";
import type { Qwen2Config } from "./qwen2-config.ts";
import type { Qwen2Weights } from "./qwen2-weights.ts";

const QWEN2_DECODER: DecoderRecipe<Qwen2Config, Qwen2Weights> = Object.freeze({
  normWeightOffset: 0,
  embedScale: () => null,
  mlpGate: siluGate,
  blockParts: (w: Qwen2Weights, L: number) => {
    const l = w.layers[L]!;
    return { preAttn: l.inputNorm, preMlp: l.postNorm, gateProj: l.gateProj, upProj: l.upProj, downProj: l.downProj };
  },
  attentionWeights: (w: Qwen2Weights, L: number) => w.layers[L]!,
  attentionVariants: (c: Qwen2Config) => {
    const variant: AttentionVariant = {
      scoreScale: 1 / Math.sqrt(c.dHead),
      ropeTheta: c.ropeTheta,
      invFreq: undefined,
      normWeightOffset: 0,
      softcap: null,
      window: undefined,
    };
    return () => variant;
  },
  unembedNormed: (_c: Qwen2Config, w: Qwen2Weights, normed: Tensor) => unembedNormed(w, normed),
});

export function qwen2Forward(
  c: Qwen2Config,
  w: Qwen2Weights,
  input: ForwardBatch,
  hooks: HookRunner,
  kv: KvCache | undefined,
  logits: LogitsMode,
): Promise<Tensor | undefined> {
  return decoderForward(QWEN2_DECODER, c, w, input, hooks, kv, logits);
}

/** Final-norm rows [rows, d] → logits [rows, vocab]: lm_head alone (Qwen2 has no final soft-cap). */
export function qwen2UnembedNormed(c: Qwen2Config, w: Qwen2Weights, normed: Tensor): Tensor {
  return QWEN2_DECODER.unembedNormed(c, w, normed);
}

/** Residual rows [rows, d] → logits [rows, vocab]: the final RMSNorm, then lm_head (the logit lens). */
export function qwen2Unembed(c: Qwen2Config, w: Qwen2Weights, resid: Tensor): Tensor {
  return decoderUnembed(QWEN2_DECODER, c, w, resid);
}
