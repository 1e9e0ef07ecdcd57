/**
 * The Gemma 2 / Gemma 3 (text) decoder as Hugging Face computes it (Gemma2ForCausalLM, Gemma3ForCausalLM), as a
 * recipe of the shared decoder (../shared/decoder-forward.ts, ../shared/grouped-attention.ts: every intermediate a
 * hook point of gemma-hook-sites.ts). Weights stay in their stored dtype; every activation is f32.
 *
 *   x = embed[ids] · √dModel
 *   per block:  a = o_proj(attention(rms₁(x)));                 x = x + rms_postattn(a)
 *               m = down_proj(gelu_tanh(gate_proj(rms₂(x))) · up_proj(rms₂(x)));   x = x + rms_postmlp(m)
 *   logits = softcap(lm_head(rms_final(x)), final_logit_softcapping)
 *
 *   rms(x; w) = x / √(mean(x²) + eps) · (1 + w)        (Gemma stores the norm weight as an offset from 1)
 *   attention: q, k, v = proj(x); Gemma 3: q, k = rms(q; q_norm), rms(k; k_norm) per head (weights [dHead]);
 *              q, k = rope(q), rope(k)   Gemma 2: rope_theta on every layer; Gemma 3: rope_local_base_freq on
 *              sliding layers, rope_theta (÷ the linear rope_scaling factor) on full-attention layers;
 *              s = q·k · query_pre_attn_scalar^−½;  s = cap·tanh(s / cap) if attn_logit_softcapping;
 *              causal mask, sliding layers also i − j < sliding_window; softmax; GQA: head h reads kv head
 *              ⌊h / (nHeads/nKvHeads)⌋.
 *   softcap(y, cap) = cap·tanh(y / cap);  gelu_tanh(x) = ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
 *
 * Quirks vs HF: HF multiplies the embedding by √dModel rounded to the activation dtype (bf16 when the model runs in
 * bf16: √3584 = 59.87 becomes 60.0); we compute in f32, as HF does for a float32 model. The sliding window is a mask
 * over the full KV cache (HF's hybrid cache keeps only the window: the same attention).
 */
import { geluTanhGate, type Tensor } from "@difflens/tensor";
import type { ForwardBatch, LogitsMode } from "../../forward-batch.ts";
import type { HookRunner } from "../../hooks/hook-registry.ts";
import type { KvCache } from "../../kv-cache.ts";
import { type DecoderRecipe, decoderForward, decoderUnembed, unembedNormed } from "../shared/decoder-forward.ts";
import type { AttentionVariant } from "../shared/grouped-attention.ts";
import type { GemmaConfig } from "./gemma-config.ts";
import type { GemmaWeights } from "./gemma-weights.ts";

const GEMMA_DECODER: DecoderRecipe<GemmaConfig, GemmaWeights> = Object.freeze({
  normWeightOffset: 1,
  embedScale: (c: GemmaConfig) => Math.fround(Math.sqrt(c.dModel)),
  mlpGate: geluTanhGate,
  blockParts: (w: GemmaWeights, L: number) => {
    const l = w.layers[L]!;
    return {
      preAttn: l.inputNorm,
      postAttn: l.postAttnNorm,
      preMlp: l.preMlpNorm,
      postMlp: l.postMlpNorm,
      gateProj: l.gateProj,
      upProj: l.upProj,
      downProj: l.downProj,
    };
  },
  attentionWeights: (w: GemmaWeights, L: number) => w.layers[L]!,
  attentionVariants: (c: GemmaConfig) => {
    const [sliding, global] = gemmaAttentionVariants(c);
    return (L: number) => (c.layerTypes[L] === "sliding_attention" ? sliding : global);
  },
  unembedNormed: (c: GemmaConfig, w: GemmaWeights, normed: Tensor) => unembedNormed(w, normed, c.finalLogitSoftcap),
});

const VARIANTS = new WeakMap<GemmaConfig, readonly [AttentionVariant, AttentionVariant]>();

/**
 * [sliding, full-attention] layers' attention: the local RoPE base and the window on sliding layers; the global
 * base (÷ the linear factor, as host inverse frequencies) elsewhere. One pair per config, so a device keeps the
 * inverse frequencies' upload.
 */
function gemmaAttentionVariants(c: GemmaConfig): readonly [AttentionVariant, AttentionVariant] {
  let pair = VARIANTS.get(c);
  if (!pair) {
    const common = {
      scoreScale: 1 / Math.sqrt(c.queryPreAttnScalar),
      normWeightOffset: 1,
      softcap: c.attnLogitSoftcap,
    };
    const sliding = { ...common, ropeTheta: c.ropeLocalTheta, invFreq: undefined, window: c.slidingWindow };
    const global = { ...common, ropeTheta: c.ropeTheta, invFreq: linearInvFreq(c), window: undefined };
    pair = [sliding, global];
    VARIANTS.set(c, pair);
  }
  return pair;
}

/** θ^(−2i/dHead) / factor, i < dHead/2 (linear RoPE scaling), or undefined without scaling (the kernel's θ^(−2i/d)). */
function linearInvFreq(c: GemmaConfig): Float32Array | undefined {
  if (c.ropeLinearFactor === null) return undefined;
  return Float32Array.from(
    { length: c.dHead / 2 },
    (_, i) => 1 / c.ropeTheta ** ((2 * i) / c.dHead) / c.ropeLinearFactor!,
  );
}

export function gemmaForward(
  c: GemmaConfig,
  w: GemmaWeights,
  input: ForwardBatch,
  hooks: HookRunner,
  kv: KvCache | undefined,
  logits: LogitsMode,
): Promise<Tensor | undefined> {
  return decoderForward(GEMMA_DECODER, c, w, input, hooks, kv, logits);
}

/** Final-norm rows [rows, d] → logits [rows, vocab]: lm_head, then the final soft-cap when configured. */
export function gemmaUnembedNormed(c: GemmaConfig, w: GemmaWeights, normed: Tensor): Tensor {
  return GEMMA_DECODER.unembedNormed(c, w, normed);
}

/** Residual rows [rows, d] → logits [rows, vocab]: final RMSNorm × (1 + w), lm_head, soft-cap (the logit lens). */
export function gemmaUnembed(c: GemmaConfig, w: GemmaWeights, resid: Tensor): Tensor {
  return decoderUnembed(GEMMA_DECODER, c, w, resid);
}
