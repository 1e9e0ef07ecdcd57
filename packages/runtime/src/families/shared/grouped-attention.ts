/**
 * Causal grouped-query self-attention as every family computes it (Qwen2, Llama, Qwen3, Gemma 2, Gemma 3), kernel by
 * kernel with the `blocks.L.attn.*` hooks; what differs between families is data (`AttentionVariant`), not code:
 *
 *   q, k, v = x·Wqᵀ (+ bq), x·Wkᵀ (+ bk), x·Wvᵀ (+ bv)            biases: Qwen2
 *   q, k = rms(q; q_norm), rms(k; k_norm) per head                  q/k norms: Qwen3 (w), Gemma 3 (1 + w)
 *   q, k = rope(q), rope(k)                                         θ, or host inverse frequencies (scaling, layer)
 *   s = q·kᵀ · scoreScale                                           1/√dHead; Gemma: query_pre_attn_scalar^−½
 *   s = cap·tanh(s / cap)                                           Gemma 2 soft-cap (before the mask, as HF)
 *   mask: key j visible to query i iff j ≤ i (and i − j < window)  sliding layers; padding masks keys and queries
 *   out = o_proj(softmax(s)·v)                                      head h reads kv head ⌊h / (nHeads/nKvHeads)⌋
 *
 * Hooks: hook_q/k/v (raw projections, biases included), hook_q_normed/k_normed (when the layer has q/k norms),
 * hook_rot_q/rot_k, hook_attn_scores (masked, −∞), hook_pattern, hook_z, hook_result (per-head o_proj outputs,
 * computed only when hooked). The KV cache (when given) receives the rotated keys and the values.
 */
import {
  type AttentionMask,
  add,
  batchedGemm,
  copy,
  gemm,
  maskScores,
  rmsNorm,
  ropeInPlace,
  softmax,
  sum,
  swapAxes12,
  type Tensor,
  tanhSoftcap,
} from "@difflens/tensor";
import type { ForwardBatch } from "../../forward-batch.ts";
import type { HookRunner } from "../../hooks/hook-registry.ts";
import type { KvCache } from "../../kv-cache.ts";
import type { DecoderConfig } from "../model-family.ts";

/** One block's attention weights, in their stored dtype (biases f32). */
export interface AttentionWeights {
  readonly qProj: Tensor; // [nHeads·dHead, dModel]
  readonly kProj: Tensor; // [nKvHeads·dHead, dModel]
  readonly vProj: Tensor; // [nKvHeads·dHead, dModel]
  readonly oProj: Tensor; // [dModel, nHeads·dHead]
  /** Qwen2 only. */
  readonly qBias?: Tensor; // [nHeads·dHead]
  readonly kBias?: Tensor; // [nKvHeads·dHead]
  readonly vBias?: Tensor; // [nKvHeads·dHead]
  /** Qwen3 / Gemma 3: per-head RMSNorm weights of q and k before RoPE (applied iff present). */
  readonly qNorm?: Tensor; // [dHead]
  readonly kNorm?: Tensor; // [dHead]
}

/** What one layer's attention does that another family's (or layer's) does not. */
export interface AttentionVariant {
  /** The factor of q·kᵀ: 1/√dHead, or Gemma's query_pre_attn_scalar^−½. */
  readonly scoreScale: number;
  /** RoPE base θ; unused when `invFreq` is given. */
  readonly ropeTheta: number;
  /** Host-computed inverse frequencies [dHead / 2] (RoPE scaling), or undefined for the kernel's θ^(−2i/d). */
  readonly invFreq: Float32Array | undefined;
  /** The q/k norms' weight offset: y = x/rms · (offset + w) (Gemma 1, else 0). */
  readonly normWeightOffset: number;
  /** Attention-logit soft-cap (Gemma 2), or null. */
  readonly softcap: number | null;
  /** Sliding window in keys (i − j < window), or undefined for full causal attention. */
  readonly window: number | undefined;
}

/**
 * What the scores need masked beyond the (sliding) causal softmax: null when nothing is padded in this call or the
 * cache, else the query / key masks for `maskScores` (host arrays, built once per call).
 */
export function paddingMask(input: ForwardBatch, kv: KvCache | undefined): AttentionMask | null {
  const past = kv?.length ?? 0;
  if (!input.padded && !(past > 0 && kv!.hasPads())) return null;
  const keyMask = kv ? kv.keyMaskWith(input.attentionMask, input.seq) : input.attentionMask;
  return { queryMask: input.attentionMask, keyMask, past };
}

/** x [T, dModel] (the block's normed input) → attention output [T, dModel]; `L` names the hooks and the cache layer. */
export async function groupedAttention(
  c: DecoderConfig,
  w: AttentionWeights,
  variant: AttentionVariant,
  L: number,
  x: Tensor,
  input: ForwardBatch,
  mask: AttentionMask | null,
  hooks: HookRunner,
  kv: KvCache | undefined,
): Promise<Tensor> {
  const { batch: B, seq: S } = input;
  const T = B * S;
  const { nHeads: H, nKvHeads: KV, dHead: hd } = c;
  const p = `blocks.${L}.attn.`;
  const linear = (weight: Tensor, bias: Tensor | undefined): Tensor => {
    const xw = gemm(x, weight, { transB: true });
    if (!bias) return xw;
    const out = add(xw, bias);
    hooks.release(xw);
    return out;
  };
  let q = await hooks.run(`${p}hook_q`, linear(w.qProj, w.qBias), [B, S, H, hd]); // [T, H·hd]
  let k = await hooks.run(`${p}hook_k`, linear(w.kProj, w.kBias), [B, S, KV, hd]); // [T, KV·hd]
  const v = await hooks.run(`${p}hook_v`, linear(w.vProj, w.vBias), [B, S, KV, hd]);
  if (w.qNorm && w.kNorm) {
    const norm = { weightOffset: variant.normWeightOffset };
    const qNormed = rmsNorm(q.reshape([T * H, hd]), w.qNorm, c.rmsNormEps, norm).reshape([T, H * hd]);
    const kNormed = rmsNorm(k.reshape([T * KV, hd]), w.kNorm, c.rmsNormEps, norm).reshape([T, KV * hd]);
    hooks.release(q, k);
    q = await hooks.run(`${p}hook_q_normed`, qNormed, [B, S, H, hd]);
    k = await hooks.run(`${p}hook_k_normed`, kNormed, [B, S, KV, hd]);
  }
  // RoPE works in place, and q/k may be a hook's tensor or a cached copy: rotate our own copies.
  const rope = (t: Tensor, heads: number): Tensor =>
    ropeInPlace(copy(t).reshape([T, heads, hd]), input.positionIds, variant.ropeTheta, { invFreq: variant.invFreq });
  const qRot = await hooks.run(`${p}hook_rot_q`, rope(q, H), [B, S, H, hd]);
  const kRot = await hooks.run(`${p}hook_rot_k`, rope(k, KV), [B, S, KV, hd]);
  hooks.release(q, k);
  const z = await attend(c, variant, L, qRot, kRot, v, input, mask, hooks, kv); // [B, S, H, hd]
  let out: Tensor; // [T, d]
  if (hooks.wants(`${p}hook_result`)) {
    const result = perHeadResult(c, w.oProj, z, T, hooks);
    const hooked = await hooks.run(`${p}hook_result`, result, [B, S, H, c.dModel]);
    out = sum(hooked.reshape([T, H, c.dModel]), 1);
    hooks.release(result, hooked);
  } else {
    out = gemm(z.reshape([T, H * hd]), w.oProj, { transB: true });
  }
  hooks.release(z);
  return out;
}

/**
 * Rotated queries [T, H, hd], rotated keys and values [T, KV·hd] (all released here) → the hooked z [B, S, H, hd]:
 * scores, soft-cap, mask, softmax and the pattern-weighted values, one batched GEMM per (row, kv head).
 */
async function attend(
  c: DecoderConfig,
  variant: AttentionVariant,
  L: number,
  qRot: Tensor,
  kRot: Tensor,
  v: Tensor,
  input: ForwardBatch,
  mask: AttentionMask | null,
  hooks: HookRunner,
  kv: KvCache | undefined,
): Promise<Tensor> {
  const { batch: B, seq: S } = input;
  const { nHeads: H, nKvHeads: KV, dHead: hd } = c;
  const group = H / KV;
  const p = `blocks.${L}.attn.`;
  const { window } = variant;
  const past = kv?.length ?? 0;
  const keys = past + S;
  // [B, H, S, hd] = [B·KV, group·S, hd]: the query heads sharing a kv head are adjacent, so one GEMM per kv head
  const qHeads = swapAxes12(qRot.reshape([B, S, H, hd])).reshape([B * KV, group * S, hd]);
  hooks.release(qRot);
  let kHeads: Tensor; // [B·KV, ≥ keys, hd]: the cache's first `keys` rows of each (row, kv head), or this call's keys
  let vHeads: Tensor;
  if (kv) {
    kv.write(L, kRot, v, S);
    kHeads = kv.keys[L]!.reshape([B * KV, kv.capacity, hd]);
    vHeads = kv.values[L]!.reshape([B * KV, kv.capacity, hd]);
  } else {
    kHeads = swapAxes12(kRot.reshape([B, S, KV, hd])).reshape([B * KV, S, hd]);
    vHeads = swapAxes12(v.reshape([B, S, KV, hd])).reshape([B * KV, S, hd]);
  }
  hooks.release(kRot, v);
  const alpha = variant.scoreScale;
  let scores = batchedGemm(qHeads, kHeads, { transB: true, alpha, bRows: keys }); // [B·KV, group·S, keys]
  hooks.release(qHeads, ...(kv ? [] : [kHeads])); // the cache stays
  if (variant.softcap !== null) {
    const capped = tanhSoftcap(scores, variant.softcap); // before the mask, as HF
    hooks.release(scores);
    scores = capped;
  }
  const scoresShape = [B, H, S, keys];
  const explicitMask = mask !== null || hooks.wants(`${p}hook_attn_scores`);
  if (explicitMask) {
    const base = mask ?? { queryMask: input.attentionMask, keyMask: new Uint8Array(B * keys).fill(1), past };
    maskScores(scores.reshape(scoresShape), { ...base, window });
  }
  scores = await hooks.run(`${p}hook_attn_scores`, scores, scoresShape);
  const flat = scores.reshape([B * H * S, keys]);
  let pattern = explicitMask ? softmax(flat) : softmax(flat, { causal: { queries: S, offset: past, window } });
  hooks.release(scores);
  pattern = await hooks.run(`${p}hook_pattern`, pattern, scoresShape); // f32 softmax per head

  const patternHeads = pattern.reshape([B * KV, group * S, keys]);
  const z = batchedGemm(patternHeads, vHeads, { bRows: keys }); // [B·KV, group·S, hd] = [B, H, S, hd]
  hooks.release(pattern, ...(kv ? [] : [vHeads]));
  const zTokens = await hooks.run(`${p}hook_z`, swapAxes12(z.reshape([B, H, S, hd])), [B, S, H, hd]); // [B, S, H, hd]
  hooks.release(z);
  return zTokens;
}

/**
 * Per-head o_proj outputs [T, H, dModel]: head h's slice of z through its columns of o_proj alone, as one batched
 * GEMM over heads: [H, T, hd] · [H, dModel, hd]ᵀ.
 */
function perHeadResult(c: DecoderConfig, oProj: Tensor, z: Tensor, T: number, hooks: HookRunner): Tensor {
  const { nHeads: H, dHead: hd, dModel: d } = c;
  const zHeads = swapAxes12(z.reshape([1, T, H, hd])).reshape([H, T, hd]);
  const oF32 = copy(oProj); // [d, H·hd]
  const oHeads = swapAxes12(oF32.reshape([1, d, H, hd])).reshape([H, d, hd]); // o_proj by head
  const perHead = batchedGemm(zHeads, oHeads, { transB: true }); // [H, T, d]
  const result = swapAxes12(perHead.reshape([1, H, T, d])).reshape([T, H, d]);
  hooks.release(zHeads, oF32, oHeads, perHead);
  return result;
}
