/**
 * The Gemma 2 / Gemma 3 (text) decoder as Hugging Face computes it (Gemma2ForCausalLM, Gemma3ForCausalLM), kernel by
 * kernel so every intermediate is a hook point (gemma-hook-sites.ts). Weights stay in their stored dtype; every
 * activation is f32.
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
import {
  type AttentionMask,
  add,
  batchedGemm,
  copy,
  gatherRows,
  geluTanhGate,
  gemm,
  maskScores,
  release,
  rmsNorm,
  ropeInPlace,
  scale,
  softmax,
  sum,
  swapAxes12,
  Tensor,
  tanhSoftcap,
  toDevice,
} from "@difflens/tensor";
import type { ForwardBatch, LogitsMode } from "../../forward-batch.ts";
import type { HookRunner } from "../../hooks/hook-registry.ts";
import type { KvCache } from "../../kv-cache.ts";
import type { GemmaConfig } from "./gemma-config.ts";
import type { GemmaLayerWeights, GemmaWeights } from "./gemma-weights.ts";

const GEMMA_NORM = { weightOffset: 1 } as const;

export async function gemmaForward(
  c: GemmaConfig,
  w: GemmaWeights,
  input: ForwardBatch,
  hooks: HookRunner,
  kv: KvCache | undefined,
  logits: LogitsMode,
): Promise<Tensor | undefined> {
  const { batch: B, seq: S } = input;
  const T = B * S;
  const d = c.dModel;
  kv?.ensureRoom(S);
  const ids = toDevice(new Tensor("i32", [T], input.ids));
  const rows = gatherRows(w.embedTokens, ids); // [T, d]
  hooks.release(ids);
  let resid = scale(rows, Math.fround(Math.sqrt(d))); // [T, d]
  hooks.release(rows);
  resid = await hooks.run("hook_embed", resid, [B, S, d]);
  const mask = attentionMask(input, kv);
  for (let L = 0; L < c.nLayers; L++) resid = await block(c, w.layers[L]!, L, resid, input, mask, hooks, kv);
  kv?.commit(S, input.attentionMask, input.positionIds);
  if (logits === "none" && !hooks.wants("ln_final.hook_normalized")) return undefined;
  let normed = rmsNorm(resid, w.finalNorm, c.rmsNormEps, GEMMA_NORM); // [T, d]
  hooks.release(resid);
  normed = await hooks.run("ln_final.hook_normalized", normed, [B, S, d]);
  if (logits === "none") return undefined;
  if (logits === "last") {
    const lastRows = toDevice(
      new Tensor(
        "i32",
        [B],
        Int32Array.from({ length: B }, (_, b) => (b + 1) * S - 1),
      ),
    );
    const last = gatherRows(normed, lastRows); // [B, d]
    hooks.release(normed, lastRows);
    const out = gemmaUnembedNormed(c, w, last).reshape([B, 1, c.vocabSize]); // [B, 1, vocab]
    hooks.release(last);
    return out;
  }
  const out = gemmaUnembedNormed(c, w, normed).reshape([B, S, c.vocabSize]); // [B, S, vocab]
  hooks.release(normed);
  return out;
}

/** Final-norm rows [rows, d] → logits [rows, vocab]: lm_head, then the final soft-cap when configured. */
export function gemmaUnembedNormed(c: GemmaConfig, w: GemmaWeights, normed: Tensor): Tensor {
  const logits = gemm(normed, w.lmHead, { transB: true }); // [rows, vocab]
  if (c.finalLogitSoftcap === null) return logits;
  const capped = tanhSoftcap(logits, c.finalLogitSoftcap);
  release(logits);
  return capped;
}

/** Residual rows [rows, d] → logits [rows, vocab]: final RMSNorm × (1 + w), lm_head, soft-cap (the logit lens). */
export function gemmaUnembed(c: GemmaConfig, w: GemmaWeights, resid: Tensor): Tensor {
  const normed = rmsNorm(resid, w.finalNorm, c.rmsNormEps, GEMMA_NORM); // [rows, d]
  const logits = gemmaUnembedNormed(c, w, normed);
  release(normed);
  return logits;
}

async function block(
  c: GemmaConfig,
  w: GemmaLayerWeights,
  L: number,
  residIn: Tensor,
  input: ForwardBatch,
  mask: AttentionMask | null,
  hooks: HookRunner,
  kv: KvCache | undefined,
): Promise<Tensor> {
  const { batch: B, seq: S } = input;
  const d = c.dModel;
  const p = `blocks.${L}.`;
  const eps = c.rmsNormEps;
  const resid = await hooks.run(`${p}hook_resid_pre`, residIn, [B, S, d]); // [T, d]
  const x = await hooks.run(`${p}ln1.hook_normalized`, rmsNorm(resid, w.inputNorm, eps, GEMMA_NORM), [B, S, d]);
  const attnRaw = await hooks.run(`${p}hook_attn_out_pre_norm`, await attention(c, w, L, x, input, mask, hooks, kv), [
    B,
    S,
    d,
  ]);
  const attnOut = await hooks.run(`${p}hook_attn_out`, rmsNorm(attnRaw, w.postAttnNorm, eps, GEMMA_NORM), [B, S, d]);
  const mid = await hooks.run(`${p}hook_resid_mid`, add(resid, attnOut), [B, S, d]);
  hooks.release(residIn, resid, x, attnRaw, attnOut); // intermediates no hook saw go back to the device pool now
  const x2 = await hooks.run(`${p}ln2.hook_normalized`, rmsNorm(mid, w.preMlpNorm, eps, GEMMA_NORM), [B, S, d]);
  const gate = await hooks.run(`${p}mlp.hook_pre`, gemm(x2, w.gateProj, { transB: true }), [B, S, c.dMlp]); // [T, dMlp]
  const up = await hooks.run(`${p}mlp.hook_pre_linear`, gemm(x2, w.upProj, { transB: true }), [B, S, c.dMlp]);
  const act = await hooks.run(`${p}mlp.hook_post`, geluTanhGate(gate, up), [B, S, c.dMlp]);
  hooks.release(x2, gate, up);
  const mlpRaw = await hooks.run(`${p}hook_mlp_out_pre_norm`, gemm(act, w.downProj, { transB: true }), [B, S, d]);
  hooks.release(act);
  const mlpOut = await hooks.run(`${p}hook_mlp_out`, rmsNorm(mlpRaw, w.postMlpNorm, eps, GEMMA_NORM), [B, S, d]);
  const out = await hooks.run(`${p}hook_resid_post`, add(mid, mlpOut), [B, S, d]);
  hooks.release(mid, mlpRaw, mlpOut);
  return out;
}

/**
 * What the scores need masked beyond the (sliding) causal softmax: null when nothing is padded in this call or the
 * cache, else the query / key masks for `maskScores` (host arrays, built once per call).
 */
function attentionMask(input: ForwardBatch, kv: KvCache | undefined): AttentionMask | null {
  const past = kv?.length ?? 0;
  if (!input.padded && !(past > 0 && kv!.hasPads())) return null;
  const keyMask = kv ? kv.keyMaskWith(input.attentionMask, input.seq) : input.attentionMask;
  return { queryMask: input.attentionMask, keyMask, past };
}

/** Rotates q or k [T, heads, hd] in place with the layer's RoPE: local base on sliding layers, else global (÷ factor). */
function rope(c: GemmaConfig, sliding: boolean, x: Tensor, positions: Int32Array): Tensor {
  if (sliding) return ropeInPlace(x, positions, c.ropeLocalTheta);
  if (c.ropeLinearFactor === null) return ropeInPlace(x, positions, c.ropeTheta);
  return ropeInPlace(x, positions, c.ropeTheta, { invFreq: linearInvFreq(c) });
}

const INV_FREQ = new WeakMap<GemmaConfig, Float32Array>();

/** θ^(−2i/dHead) / factor, i < dHead/2: linear RoPE scaling (one array per config, so a device keeps its upload). */
function linearInvFreq(c: GemmaConfig): Float32Array {
  let invFreq = INV_FREQ.get(c);
  if (!invFreq) {
    invFreq = Float32Array.from(
      { length: c.dHead / 2 },
      (_, i) => 1 / c.ropeTheta ** ((2 * i) / c.dHead) / c.ropeLinearFactor!,
    );
    INV_FREQ.set(c, invFreq);
  }
  return invFreq;
}

/** Per-head RMSNorm × (1 + w) of q or k [T, heads·hd] (Gemma 3), or the tensor itself when the layer has none. */
function headNorm(c: GemmaConfig, x: Tensor, weight: Tensor | undefined, heads: number): Tensor {
  if (!weight) return x;
  const T = x.shape[0]!;
  return rmsNorm(x.reshape([T * heads, c.dHead]), weight, c.rmsNormEps, GEMMA_NORM).reshape([T, heads * c.dHead]);
}

/** Grouped-query attention with Gemma's scaling, soft-cap and window. Returns o_proj's output [T, dModel]. */
async function attention(
  c: GemmaConfig,
  w: GemmaLayerWeights,
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
  const group = H / KV;
  const p = `blocks.${L}.attn.`;
  const sliding = c.layerTypes[L] === "sliding_attention";
  const window = sliding ? c.slidingWindow : undefined;
  const q = await hooks.run(`${p}hook_q`, gemm(x, w.qProj, { transB: true }), [B, S, H, hd]); // [T, H·hd]
  const k = await hooks.run(`${p}hook_k`, gemm(x, w.kProj, { transB: true }), [B, S, KV, hd]); // [T, KV·hd]
  const v = await hooks.run(`${p}hook_v`, gemm(x, w.vProj, { transB: true }), [B, S, KV, hd]);
  let qIn = q;
  let kIn = k;
  if (w.qNorm && w.kNorm) {
    qIn = await hooks.run(`${p}hook_q_normed`, headNorm(c, q, w.qNorm, H), [B, S, H, hd]);
    kIn = await hooks.run(`${p}hook_k_normed`, headNorm(c, k, w.kNorm, KV), [B, S, KV, hd]);
    hooks.release(q, k);
  }
  // RoPE works in place, and q/k may be a hook's tensor or a cached copy: rotate our own copies.
  const qRot = await hooks.run(`${p}hook_rot_q`, rope(c, sliding, copy(qIn).reshape([T, H, hd]), input.positionIds), [
    B,
    S,
    H,
    hd,
  ]);
  const kRot = await hooks.run(`${p}hook_rot_k`, rope(c, sliding, copy(kIn).reshape([T, KV, hd]), input.positionIds), [
    B,
    S,
    KV,
    hd,
  ]);
  hooks.release(qIn, kIn);

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
  const alpha = 1 / Math.sqrt(c.queryPreAttnScalar);
  let scores = batchedGemm(qHeads, kHeads, { transB: true, alpha, bRows: keys }); // [B·KV, group·S, keys]
  hooks.release(qHeads, ...(kv ? [] : [kHeads])); // the cache stays
  if (c.attnLogitSoftcap !== null) {
    const capped = tanhSoftcap(scores, c.attnLogitSoftcap); // before the mask, as HF
    hooks.release(scores);
    scores = capped;
  }
  const scoresShape = [B, H, S, keys];
  const explicitMask = mask !== null || hooks.wants(`${p}hook_attn_scores`);
  if (explicitMask) {
    const base = mask ?? { queryMask: input.attentionMask, keyMask: allKeys(B, keys), past };
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
  let out: Tensor; // [T, d]
  if (hooks.wants(`${p}hook_result`)) {
    const result = perHeadResult(c, w, zTokens, T, hooks);
    const hooked = await hooks.run(`${p}hook_result`, result, [B, S, H, c.dModel]);
    out = sum(hooked.reshape([T, H, c.dModel]), 1);
    hooks.release(result, hooked);
  } else {
    out = gemm(zTokens.reshape([T, H * hd]), w.oProj, { transB: true });
  }
  hooks.release(zTokens);
  return out;
}

/** Every key real (the mask a hooked score tensor gets when nothing is padded: causal only). // [batch·keys] */
function allKeys(B: number, keys: number): Uint8Array {
  return new Uint8Array(B * keys).fill(1);
}

/** Per-head o_proj outputs [T, H, dModel]: [H, T, hd] · [H, dModel, hd]ᵀ as one batched GEMM over heads. */
function perHeadResult(c: GemmaConfig, w: GemmaLayerWeights, z: Tensor, T: number, hooks: HookRunner): Tensor {
  const { nHeads: H, dHead: hd, dModel: d } = c;
  const zHeads = swapAxes12(z.reshape([1, T, H, hd])).reshape([H, T, hd]);
  const oF32 = copy(w.oProj); // [d, H·hd]
  const oHeads = swapAxes12(oF32.reshape([1, d, H, hd])).reshape([H, d, hd]); // o_proj by head
  const perHead = batchedGemm(zHeads, oHeads, { transB: true }); // [H, T, d]
  const result = swapAxes12(perHead.reshape([1, H, T, d])).reshape([T, H, d]);
  hooks.release(zHeads, oF32, oHeads, perHead);
  return result;
}
