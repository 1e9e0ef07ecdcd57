/**
 * Causal grouped-query attention from rotated queries/keys and values to the attention output [T, dModel], with
 * the hooks from `attn.hook_attn_scores` to `attn.hook_result`: the part every Llama-like family (Llama, Qwen3)
 * shares once its q/k are prepared. Query head h reads key/value head ⌊h / (nHeads/nKvHeads)⌋; scores are scaled by
 * 1/√dHead; the KV cache (when given) receives the rotated keys and the values.
 */
import {
  type AttentionMask,
  batchedGemm,
  copy,
  gemm,
  maskScores,
  softmax,
  sum,
  swapAxes12,
  type Tensor,
} from "@difflens/tensor";
import type { ForwardBatch } from "../../forward-batch.ts";
import type { HookRunner } from "../../hooks/hook-registry.ts";
import type { KvCache } from "../../kv-cache.ts";
import type { DecoderConfig } from "../model-family.ts";

/**
 * What the scores need masked: null when the causal softmax alone is exact (no padding in this call or the cache),
 * else the query / key masks for `maskScores` (host arrays, built once per call).
 */
export function paddingMask(input: ForwardBatch, kv: KvCache | undefined): AttentionMask | null {
  const past = kv?.length ?? 0;
  if (!input.padded && !(past > 0 && kv!.hasPads())) return null;
  const keyMask = kv ? kv.keyMaskWith(input.attentionMask, input.seq) : input.attentionMask;
  return { queryMask: input.attentionMask, keyMask, past };
}

/**
 * qRot [T, H·hd], kRot and v [T, KV·hd] (all released here) → attention output [T, dModel] through o_proj
 * [dModel, H·hd]. `L` names the hooks (`blocks.L.attn.…`) and the cache layer.
 */
export async function groupedAttention(
  c: DecoderConfig,
  oProj: Tensor,
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
  const T = B * S;
  const { nHeads: H, nKvHeads: KV, dHead: hd } = c;
  const group = H / KV;
  const p = `blocks.${L}.attn.`;
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
  const alpha = 1 / Math.sqrt(hd);
  let scores = batchedGemm(qHeads, kHeads, { transB: true, alpha, bRows: keys }); // [B·KV, group·S, keys]
  hooks.release(qHeads, ...(kv ? [] : [kHeads])); // the cache stays
  const scoresShape = [B, H, S, keys];
  const explicitMask = mask !== null || hooks.wants(`${p}hook_attn_scores`);
  if (explicitMask)
    maskScores(
      scores.reshape(scoresShape),
      mask ?? { queryMask: input.attentionMask, keyMask: new Uint8Array(B * keys).fill(1), past },
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
    const result = perHeadResult(c, oProj, zTokens, T, hooks);
    const hooked = await hooks.run(`${p}hook_result`, result, [B, S, H, c.dModel]);
    out = sum(hooked.reshape([T, H, c.dModel]), 1);
    hooks.release(result, hooked);
  } else {
    out = gemm(zTokens.reshape([T, H * hd]), oProj, { transB: true });
  }
  hooks.release(zTokens);
  return out;
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
