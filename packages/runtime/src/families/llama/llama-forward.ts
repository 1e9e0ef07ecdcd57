/**
 * The Llama decoder (Llama 2 / 3 / 3.1 / 3.2, Mistral-style configs) as Hugging Face computes it, as a recipe of the
 * shared decoder (../shared/decoder-forward.ts, ../shared/grouped-attention.ts: every intermediate a hook point);
 * Qwen3 runs the same recipe with its per-head q/k norms. Weights stay in their stored dtype; activations f32.
 *
 *   x = embed[ids]
 *   per block:  q = q_proj(rms1(x)), k = k_proj(rms1(x)), v = v_proj(rms1(x))              (no biases)
 *               Qwen3 only: q = rms_head(q) · q_norm, k = rms_head(k) · k_norm                (per head, [dHead])
 *               h = x + o_proj(attention(rope(q), rope(k), v))                                 (GQA, causal)
 *               x = h + down_proj(silu(gate_proj(rms2(h))) · up_proj(rms2(h)))
 *   logits = lm_head(rms_final(x))                                        (lm_head = embed when tied)
 *
 * Quirks: `head_dim` may differ from dModel / nHeads (Llama 3.2 3B's is not; Qwen3's often is); RoPE scaling
 * (linear, dynamic NTK, llama3) changes the inverse frequencies, computed on the host per call by rope-scaling.ts
 * and passed to `ropeInPlace` — plain RoPE passes none, so the kernel's own θ^(−2i/d) is used, as for Qwen2.
 * Dynamic NTK depends on the longest position of the call (max position id + 1).
 *
 * Hooks (TransformerLens names): Qwen2's table; Qwen3 adds `attn.hook_q_normed` / `attn.hook_k_normed` after its
 * norms (`attn.hook_q` / `hook_k` stay the raw projections, `hook_rot_q` / `hook_rot_k` are after RoPE).
 */
import { siluGate, type Tensor } from "@difflens/tensor";
import type { ForwardBatch, LogitsMode } from "../../forward-batch.ts";
import type { HookRunner } from "../../hooks/hook-registry.ts";
import type { KvCache } from "../../kv-cache.ts";
import type { DecoderConfig } from "../model-family.ts";
import { type DecoderRecipe, decoderForward, decoderUnembed, unembedNormed } from "../shared/decoder-forward.ts";
import type { AttentionVariant } from "../shared/grouped-attention.ts";
import type { LlamaWeights } from "./llama-weights.ts";
import { type RopeScaling, ropeInvFreq } from "./rope-scaling.ts";

/** What the forward reads of a Llama-like config. */
export interface LlamaLikeConfig extends DecoderConfig {
  readonly ropeTheta: number;
  readonly ropeScaling: RopeScaling | null;
}

const LLAMA_DECODER: DecoderRecipe<LlamaLikeConfig, LlamaWeights> = Object.freeze({
  normWeightOffset: 0,
  embedScale: () => null,
  mlpGate: siluGate,
  blockParts: (w: LlamaWeights, L: number) => {
    const l = w.layers[L]!;
    return { preAttn: l.inputNorm, preMlp: l.postNorm, gateProj: l.gateProj, upProj: l.upProj, downProj: l.downProj };
  },
  attentionWeights: (w: LlamaWeights, L: number) => w.layers[L]!,
  /** One variant for every layer; the scaled RoPE frequencies are the call's (dynamic NTK depends on its length). */
  attentionVariants: (c: LlamaLikeConfig, input: ForwardBatch) => {
    const variant: AttentionVariant = {
      scoreScale: 1 / Math.sqrt(c.dHead),
      ropeTheta: c.ropeTheta,
      invFreq: ropeInvFreq(c.ropeTheta, c.dHead, c.ropeScaling, maxPosition(input) + 1),
      normWeightOffset: 0,
      softcap: null,
      window: undefined,
    };
    return () => variant;
  },
  unembedNormed: (_c: LlamaLikeConfig, w: LlamaWeights, normed: Tensor) => unembedNormed(w, normed),
});

export function llamaForward(
  c: LlamaLikeConfig,
  w: LlamaWeights,
  input: ForwardBatch,
  hooks: HookRunner,
  kv: KvCache | undefined,
  logits: LogitsMode,
): Promise<Tensor | undefined> {
  return decoderForward(LLAMA_DECODER, c, w, input, hooks, kv, logits);
}

/** Final-norm rows [rows, d] → logits [rows, vocab]: lm_head alone (no final soft-cap). */
export function llamaUnembedNormed(c: LlamaLikeConfig, w: LlamaWeights, normed: Tensor): Tensor {
  return LLAMA_DECODER.unembedNormed(c, w, normed);
}

/** Residual rows [rows, d] → logits [rows, vocab]: the final RMSNorm, then lm_head (the logit lens). */
export function llamaUnembed(c: LlamaLikeConfig, w: LlamaWeights, resid: Tensor): Tensor {
  return decoderUnembed(LLAMA_DECODER, c, w, resid);
}

function maxPosition(input: ForwardBatch): number {
  let max = 0;
  for (const p of input.positionIds) if (p > max) max = p;
  return max;
}
