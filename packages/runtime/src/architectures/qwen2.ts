/**
 * The Qwen2 decoder (Qwen1.5, Qwen2, Qwen2.5) as Hugging Face computes it, written out kernel by kernel so every
 * intermediate is a hook point (the names in hooks/hook-table.ts). Weights stay in their stored dtype; every
 * activation is f32 (the mixed-dtype GEMM widens bf16 weights per tile).
 *
 *   x = embed[ids]
 *   per block:  h = x + o_proj(attention(rope(q_proj(rms1(x))+bq), rope(k_proj(rms1(x))+bk), v_proj(rms1(x))+bv))
 *               x = h + down_proj(silu(gate_proj(rms2(h))) · up_proj(rms2(h)))
 *   logits = lm_head(rms_final(x))
 *
 * Activations are [tokens, width] matrices with tokens = batch·seq (row-major [batch, seq, …]); hooks see them
 * reshaped to the table's shapes without copies.
 */
import {
  add,
  batchedGemm,
  gatherRows,
  gemm,
  rmsNorm,
  ropeInPlace,
  siluGate,
  softmax,
  sum,
  Tensor,
} from "@difflens/tensor";
import type { Qwen2Config } from "../config/qwen2-config.ts";
import type { HookRunner } from "../hooks/hook-registry.ts";
import type { KvCache } from "../kv-cache.ts";
import { cloneF32, f32, swapAxes12 } from "../tensor-utils.ts";
import type { Qwen2LayerWeights, Qwen2Weights } from "./qwen2-weights.ts";

/** A prepared call: ids, mask and position ids, each [batch·seq]. */
export interface ForwardBatch {
  readonly ids: Int32Array;
  readonly batch: number;
  readonly seq: number;
  readonly attentionMask: Uint8Array;
  readonly positionIds: Int32Array;
  /** Any padding in this call (then attention masks pad keys explicitly). */
  readonly padded: boolean;
}

/** "all": [batch, seq, vocab]; "last": [batch, 1, vocab] (the last position of each row); "none": stop after the blocks. */
export type LogitsMode = "all" | "last" | "none";

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
  let resid = gatherRows(w.embedTokens, new Tensor("i32", [T], input.ids)); // [T, d]
  resid = await hooks.run("hook_embed", resid, [B, S, d]);
  for (let L = 0; L < c.nLayers; L++) resid = await block(c, w.layers[L]!, L, resid, input, hooks, kv);
  kv?.commit(S, input.attentionMask, input.positionIds);
  if (logits === "none" && !hooks.wants("ln_final.hook_normalized")) return undefined;
  let normed = rmsNorm(resid, w.finalNorm, c.rmsNormEps); // [T, d]
  normed = await hooks.run("ln_final.hook_normalized", normed, [B, S, d]);
  if (logits === "none") return undefined;
  if (logits === "last") {
    const last = f32([B, d]);
    for (let b = 0; b < B; b++)
      last.data.set((normed.data as Float32Array).subarray(((b + 1) * S - 1) * d, (b + 1) * S * d), b * d);
    return gemm(last, w.lmHead, { transB: true }).reshape([B, 1, c.vocabSize]); // [B, 1, vocab]
  }
  return gemm(normed, w.lmHead, { transB: true }).reshape([B, S, c.vocabSize]); // [B, S, vocab]
}

async function block(
  c: Qwen2Config,
  w: Qwen2LayerWeights,
  L: number,
  residIn: Tensor,
  input: ForwardBatch,
  hooks: HookRunner,
  kv: KvCache | undefined,
): Promise<Tensor> {
  const { batch: B, seq: S } = input;
  const d = c.dModel;
  const p = `blocks.${L}.`;
  const resid = await hooks.run(`${p}hook_resid_pre`, residIn, [B, S, d]); // [T, d]
  const x = await hooks.run(`${p}ln1.hook_normalized`, rmsNorm(resid, w.inputNorm, c.rmsNormEps), [B, S, d]);
  const attnOut = await hooks.run(`${p}hook_attn_out`, await attention(c, w, L, x, input, hooks, kv), [B, S, d]);
  const mid = await hooks.run(`${p}hook_resid_mid`, add(resid, attnOut), [B, S, d]);
  const x2 = await hooks.run(`${p}ln2.hook_normalized`, rmsNorm(mid, w.postNorm, c.rmsNormEps), [B, S, d]);
  const gate = await hooks.run(`${p}mlp.hook_pre`, gemm(x2, w.gateProj, { transB: true }), [B, S, c.dMlp]); // [T, dMlp]
  const up = await hooks.run(`${p}mlp.hook_pre_linear`, gemm(x2, w.upProj, { transB: true }), [B, S, c.dMlp]);
  const act = await hooks.run(`${p}mlp.hook_post`, siluGate(gate, up), [B, S, c.dMlp]);
  const mlpOut = await hooks.run(`${p}hook_mlp_out`, gemm(act, w.downProj, { transB: true }), [B, S, d]);
  return await hooks.run(`${p}hook_resid_post`, add(mid, mlpOut), [B, S, d]);
}

/** Grouped-query attention: query head h reads key/value head ⌊h / (nHeads/nKvHeads)⌋. Returns [T, dModel]. */
async function attention(
  c: Qwen2Config,
  w: Qwen2LayerWeights,
  L: number,
  x: Tensor,
  input: ForwardBatch,
  hooks: HookRunner,
  kv: KvCache | undefined,
): Promise<Tensor> {
  const { batch: B, seq: S } = input;
  const T = B * S;
  const { nHeads: H, nKvHeads: KV, dHead: hd } = c;
  const group = H / KV;
  const p = `blocks.${L}.attn.`;
  const q = await hooks.run(`${p}hook_q`, add(gemm(x, w.qProj, { transB: true }), w.qBias), [B, S, H, hd]); // [T, H·hd]
  const k = await hooks.run(`${p}hook_k`, add(gemm(x, w.kProj, { transB: true }), w.kBias), [B, S, KV, hd]); // [T, KV·hd]
  const v = await hooks.run(`${p}hook_v`, add(gemm(x, w.vProj, { transB: true }), w.vBias), [B, S, KV, hd]);
  // RoPE works in place, and q/k may be a hook's tensor or a cached copy: rotate our own copies.
  const qRot = await hooks.run(
    `${p}hook_rot_q`,
    ropeInPlace(cloneF32(q).reshape([T, H, hd]), input.positionIds, c.ropeTheta),
    [B, S, H, hd],
  );
  const kRot = await hooks.run(
    `${p}hook_rot_k`,
    ropeInPlace(cloneF32(k).reshape([T, KV, hd]), input.positionIds, c.ropeTheta),
    [B, S, KV, hd],
  );

  const past = kv?.length ?? 0;
  const keys = past + S;
  // [B, H, S, hd] = [B·KV, group·S, hd]: the query heads sharing a kv head are adjacent, so one GEMM per kv head
  const qHeads = swapAxes12(qRot.reshape([B, S, H, hd])).reshape([B * KV, group * S, hd]);
  const alpha = 1 / Math.sqrt(hd);
  let scores: Tensor; // [B·KV, group·S, keys] = [B, H, S, keys]
  let vHeads: Tensor | undefined;
  if (kv) {
    kv.write(L, kRot, v, S);
    scores = f32([B * KV, group * S, keys]);
    for (let bk = 0; bk < B * KV; bk++) {
      const cached = kv.view(L, Math.floor(bk / KV), bk % KV, keys);
      gemm(rowBlock(qHeads, bk), cached.k, { transB: true, alpha, out: rowBlock(scores, bk) });
    }
  } else {
    const kHeads = swapAxes12(kRot.reshape([B, S, KV, hd])).reshape([B * KV, S, hd]);
    vHeads = swapAxes12(v.reshape([B, S, KV, hd])).reshape([B * KV, S, hd]);
    scores = batchedGemm(qHeads, kHeads, { transB: true, alpha });
  }
  const explicitMask = input.padded || (past > 0 && kvHasPads(kv!, B)) || hooks.wants(`${p}hook_attn_scores`);
  if (explicitMask) maskScores(scores.data as Float32Array, input, H, keys, past, kv);
  scores = await hooks.run(`${p}hook_attn_scores`, scores, [B, H, S, keys]);
  const flat = scores.reshape([B * H * S, keys]);
  let pattern = explicitMask ? softmax(flat) : softmax(flat, { causal: { queries: S, offset: past } });
  pattern = await hooks.run(`${p}hook_pattern`, pattern, [B, H, S, keys]); // f32 softmax per head

  let z: Tensor; // [B·KV, group·S, hd] = [B, H, S, hd]
  const patternHeads = pattern.reshape([B * KV, group * S, keys]);
  if (kv) {
    z = f32([B * KV, group * S, hd]);
    for (let bk = 0; bk < B * KV; bk++) {
      const cached = kv.view(L, Math.floor(bk / KV), bk % KV, keys);
      gemm(rowBlock(patternHeads, bk), cached.v, { out: rowBlock(z, bk) });
    }
  } else {
    z = batchedGemm(patternHeads, vHeads!);
  }
  const zTokens = await hooks.run(`${p}hook_z`, swapAxes12(z.reshape([B, H, S, hd])), [B, S, H, hd]); // [B, S, H, hd]
  const zFlat = zTokens.reshape([T, H * hd]);
  if (!hooks.wants(`${p}hook_result`)) return gemm(zFlat, w.oProj, { transB: true }); // [T, d]
  const result = perHeadResult(c, w, zFlat, T);
  const hooked = await hooks.run(`${p}hook_result`, result, [B, S, H, c.dModel]);
  return sum(hooked.reshape([T, H, c.dModel]), 1);
}

/** The b-th [rows, cols] matrix of a [batch, rows, cols] f32 tensor, as a view. */
function rowBlock(t: Tensor, b: number): Tensor<"f32"> {
  const [, rows, cols] = t.shape as [number, number, number];
  return new Tensor("f32", [rows, cols], (t.data as Float32Array).subarray(b * rows * cols, (b + 1) * rows * cols));
}

function kvHasPads(kv: KvCache, B: number): boolean {
  for (let b = 0; b < B; b++)
    for (let j = 0; j < kv.length; j++) if (kv.keyMask[b * kv.capacity + j] === 0) return true;
  return false;
}

/**
 * -Infinity where a query may not look: keys after it (causal) and, for real queries, padding keys. A padding
 * query keeps its causal keys so its row never becomes all -Infinity (its output is never read).
 */
function maskScores(
  s: Float32Array,
  input: ForwardBatch,
  H: number,
  keys: number,
  past: number,
  kv: KvCache | undefined,
): void {
  const { batch: B, seq: S } = input;
  for (let b = 0; b < B; b++) {
    const padKeys: number[] = [];
    for (let j = 0; j < keys; j++) {
      const real = j < past ? kv!.keyMask[b * kv!.capacity + j] : input.attentionMask[b * S + j - past];
      if (!real) padKeys.push(j);
    }
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < S; i++) {
        const row = ((b * H + h) * S + i) * keys;
        const queryPos = past + i;
        s.fill(-Infinity, row + queryPos + 1, row + keys);
        if (!input.attentionMask[b * S + i]) continue;
        for (const j of padKeys) {
          if (j > queryPos) break;
          s[row + j] = -Infinity;
        }
      }
    }
  }
}

/** Per-head o_proj outputs [T, H, dModel]: head h's slice of z through o_proj alone (others zeroed). */
function perHeadResult(c: Qwen2Config, w: Qwen2LayerWeights, zFlat: Tensor, T: number): Tensor {
  const { nHeads: H, dHead: hd, dModel: d } = c;
  const out = f32([T, H, d]);
  const src = zFlat.data as Float32Array;
  const masked = f32([T, H * hd]);
  for (let h = 0; h < H; h++) {
    masked.data.fill(0);
    for (let t = 0; t < T; t++) {
      const from = t * H * hd + h * hd;
      masked.data.set(src.subarray(from, from + hd), from);
    }
    const part = gemm(masked, w.oProj, { transB: true }).data as Float32Array; // [T, d]
    for (let t = 0; t < T; t++) out.data.set(part.subarray(t * d, (t + 1) * d), (t * H + h) * d);
  }
  return out;
}
