/**
 * The Qwen2 decoder (Qwen1.5, Qwen2, Qwen2.5) as Hugging Face computes it, written out kernel by kernel so every
 * intermediate is a hook point (the names in hooks/hook-sites.ts, DECODER_HOOK_SITES). Weights stay in their stored dtype; every
 * activation is f32 (the mixed-dtype GEMM widens bf16 weights per tile).
 *
 *   x = embed[ids]
 *   per block:  h = x + o_proj(attention(rope(q_proj(rms1(x))+bq), rope(k_proj(rms1(x))+bk), v_proj(rms1(x))+bv))
 *               x = h + down_proj(silu(gate_proj(rms2(h))) · up_proj(rms2(h)))
 *   logits = lm_head(rms_final(x))
 *
 * Activations are [tokens, width] matrices with tokens = batch·seq (row-major [batch, seq, …]); hooks see them
 * reshaped to the table's shapes without copies.
 *
 * Device-neutral: every step is a kernel of the current backend (the model's device), including the layout work
 * (copies, axis swaps, masks, KV writes); only small index tensors are uploaded per call, and nothing is read
 * back — the caller reads the results.
 */
import {
  type AttentionMask,
  add,
  batchedGemm,
  copy,
  gatherRows,
  gemm,
  maskScores,
  release,
  rmsNorm,
  ropeInPlace,
  siluGate,
  softmax,
  sum,
  swapAxes12,
  Tensor,
  toDevice,
} from "@difflens/tensor";
import type { ForwardBatch, LogitsMode } from "../../forward-batch.ts";
import type { HookRunner } from "../../hooks/hook-registry.ts";
import type { KvCache } from "../../kv-cache.ts";
import type { Qwen2Config } from "./qwen2-config.ts";
import type { Qwen2LayerWeights, Qwen2Weights } from "./qwen2-weights.ts";

export async function qwen2Forward(
  c: Qwen2Config,
  w: Qwen2Weights,
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
  let resid = gatherRows(w.embedTokens, ids); // [T, d]
  hooks.release(ids);
  resid = await hooks.run("hook_embed", resid, [B, S, d]);
  const mask = attentionMask(input, kv);
  for (let L = 0; L < c.nLayers; L++) resid = await block(c, w.layers[L]!, L, resid, input, mask, hooks, kv);
  kv?.commit(S, input.attentionMask, input.positionIds);
  if (logits === "none" && !hooks.wants("ln_final.hook_normalized")) return undefined;
  let normed = rmsNorm(resid, w.finalNorm, c.rmsNormEps); // [T, d]
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
    const out = qwen2UnembedNormed(c, w, last).reshape([B, 1, c.vocabSize]); // [B, 1, vocab]
    hooks.release(last);
    return out;
  }
  const out = qwen2UnembedNormed(c, w, normed).reshape([B, S, c.vocabSize]); // [B, S, vocab]
  hooks.release(normed);
  return out;
}

/** Final-norm rows [rows, d] → logits [rows, vocab]: lm_head alone (Qwen2 has no final soft-cap). */
export function qwen2UnembedNormed(_c: Qwen2Config, w: Qwen2Weights, normed: Tensor): Tensor {
  return gemm(normed, w.lmHead, { transB: true });
}

/** Residual rows [rows, d] → logits [rows, vocab]: the final RMSNorm, then lm_head (the logit lens). */
export function qwen2Unembed(c: Qwen2Config, w: Qwen2Weights, resid: Tensor): Tensor {
  const normed = rmsNorm(resid, w.finalNorm, c.rmsNormEps); // [rows, d]
  const logits = qwen2UnembedNormed(c, w, normed);
  release(normed);
  return logits;
}

async function block(
  c: Qwen2Config,
  w: Qwen2LayerWeights,
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
  const resid = await hooks.run(`${p}hook_resid_pre`, residIn, [B, S, d]); // [T, d]
  const x = await hooks.run(`${p}ln1.hook_normalized`, rmsNorm(resid, w.inputNorm, c.rmsNormEps), [B, S, d]);
  const attnOut = await hooks.run(`${p}hook_attn_out`, await attention(c, w, L, x, input, mask, hooks, kv), [B, S, d]);
  const mid = await hooks.run(`${p}hook_resid_mid`, add(resid, attnOut), [B, S, d]);
  hooks.release(residIn, resid, x, attnOut); // intermediates no hook saw go back to the device pool now
  const x2 = await hooks.run(`${p}ln2.hook_normalized`, rmsNorm(mid, w.postNorm, c.rmsNormEps), [B, S, d]);
  const gate = await hooks.run(`${p}mlp.hook_pre`, gemm(x2, w.gateProj, { transB: true }), [B, S, c.dMlp]); // [T, dMlp]
  const up = await hooks.run(`${p}mlp.hook_pre_linear`, gemm(x2, w.upProj, { transB: true }), [B, S, c.dMlp]);
  const act = await hooks.run(`${p}mlp.hook_post`, siluGate(gate, up), [B, S, c.dMlp]);
  hooks.release(x2, gate, up);
  const mlpOut = await hooks.run(`${p}hook_mlp_out`, gemm(act, w.downProj, { transB: true }), [B, S, d]);
  hooks.release(act);
  const out = await hooks.run(`${p}hook_resid_post`, add(mid, mlpOut), [B, S, d]);
  hooks.release(mid, mlpOut);
  return out;
}

/**
 * What the scores need masked: null when the causal softmax alone is exact (no padding in this call or the cache),
 * else the query / key masks for `maskScores` (host arrays, built once per call).
 */
function attentionMask(input: ForwardBatch, kv: KvCache | undefined): AttentionMask | null {
  const past = kv?.length ?? 0;
  if (!input.padded && !(past > 0 && kv!.hasPads())) return null;
  const keyMask = kv ? kv.keyMaskWith(input.attentionMask, input.seq) : input.attentionMask;
  return { queryMask: input.attentionMask, keyMask, past };
}

/** Grouped-query attention: query head h reads key/value head ⌊h / (nHeads/nKvHeads)⌋. Returns [T, dModel]. */
async function attention(
  c: Qwen2Config,
  w: Qwen2LayerWeights,
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
  const linear = (weight: Tensor, bias: Tensor): Tensor => {
    const xw = gemm(x, weight, { transB: true });
    const out = add(xw, bias);
    hooks.release(xw);
    return out;
  };
  const q = await hooks.run(`${p}hook_q`, linear(w.qProj, w.qBias), [B, S, H, hd]); // [T, H·hd]
  const k = await hooks.run(`${p}hook_k`, linear(w.kProj, w.kBias), [B, S, KV, hd]); // [T, KV·hd]
  const v = await hooks.run(`${p}hook_v`, linear(w.vProj, w.vBias), [B, S, KV, hd]);
  // RoPE works in place, and q/k may be a hook's tensor or a cached copy: rotate our own copies.
  const qRot = await hooks.run(
    `${p}hook_rot_q`,
    ropeInPlace(copy(q).reshape([T, H, hd]), input.positionIds, c.ropeTheta),
    [B, S, H, hd],
  );
  const kRot = await hooks.run(
    `${p}hook_rot_k`,
    ropeInPlace(copy(k).reshape([T, KV, hd]), input.positionIds, c.ropeTheta),
    [B, S, KV, hd],
  );
  hooks.release(q, k);

  const past = kv?.length ?? 0;
  const keys = past + S;
  // [B, H, S, hd] = [B·KV, group·S, hd]: the query heads sharing a kv head are adjacent, so one GEMM per kv head
  const qHeads = swapAxes12(qRot.reshape([B, S, H, hd])).reshape([B * KV, group * S, hd]);
  hooks.release(qRot);
  const alpha = 1 / Math.sqrt(hd);
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
  let scores = batchedGemm(qHeads, kHeads, { transB: true, alpha, bRows: keys }); // [B·KV, group·S, keys]
  hooks.release(qHeads, ...(kv ? [] : [kHeads])); // the cache stays
  const scoresShape = [B, H, S, keys];
  const explicitMask = mask !== null || hooks.wants(`${p}hook_attn_scores`);
  if (explicitMask)
    maskScores(
      scores.reshape(scoresShape),
      mask ?? { queryMask: input.attentionMask, keyMask: allKeys(B, keys), past },
    );
  scores = await hooks.run(`${p}hook_attn_scores`, scores, scoresShape);
  const flat = scores.reshape([B * H * S, keys]);
  let pattern = explicitMask ? softmax(flat) : softmax(flat, { causal: { queries: S, offset: past } });
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

/**
 * Per-head o_proj outputs [T, H, dModel]: head h's slice of z through its columns of o_proj alone, as one batched
 * GEMM over heads: [H, T, hd] · [H, dModel, hd]ᵀ.
 */
function perHeadResult(c: Qwen2Config, w: Qwen2LayerWeights, z: Tensor, T: number, hooks: HookRunner): Tensor {
  const { nHeads: H, dHead: hd, dModel: d } = c;
  const zHeads = swapAxes12(z.reshape([1, T, H, hd])).reshape([H, T, hd]);
  const oF32 = copy(w.oProj); // [d, H·hd]
  const oHeads = swapAxes12(oF32.reshape([1, d, H, hd])).reshape([H, d, hd]); // o_proj by head
  const perHead = batchedGemm(zHeads, oHeads, { transB: true }); // [H, T, d]
  const result = swapAxes12(perHead.reshape([1, H, T, d])).reshape([T, H, d]);
  hooks.release(zHeads, oF32, oHeads, perHead);
  return result;
}
