/**
 * The Llama decoder (Llama 2 / 3 / 3.1 / 3.2, Mistral-style configs) as Hugging Face computes it, written out
 * kernel by kernel so every intermediate is a hook point; Qwen3 runs the same forward with its per-head q/k norms.
 * Weights stay in their stored dtype; every activation is f32.
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
import {
  add,
  copy,
  gatherRows,
  gemm,
  release,
  rmsNorm,
  ropeInPlace,
  siluGate,
  Tensor,
  toDevice,
} from "@difflens/tensor";
import type { ForwardBatch, LogitsMode } from "../../forward-batch.ts";
import type { HookRunner } from "../../hooks/hook-registry.ts";
import type { KvCache } from "../../kv-cache.ts";
import type { DecoderConfig } from "../model-family.ts";
import { groupedAttention, paddingMask } from "./grouped-attention.ts";
import type { LlamaLayerWeights, LlamaWeights } from "./llama-weights.ts";
import { type RopeScaling, ropeInvFreq } from "./rope-scaling.ts";

/** What the forward reads of a Llama-like config. */
export interface LlamaLikeConfig extends DecoderConfig {
  readonly ropeTheta: number;
  readonly ropeScaling: RopeScaling | null;
}

export async function llamaForward(
  c: LlamaLikeConfig,
  w: LlamaWeights,
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
  const mask = paddingMask(input, kv);
  const invFreq = ropeInvFreq(c.ropeTheta, c.dHead, c.ropeScaling, maxPosition(input) + 1);
  for (let L = 0; L < c.nLayers; L++)
    resid = await block(c, w.layers[L]!, L, resid, input, { mask, invFreq }, hooks, kv);
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
    const out = llamaUnembedNormed(c, w, last).reshape([B, 1, c.vocabSize]); // [B, 1, vocab]
    hooks.release(last);
    return out;
  }
  const out = llamaUnembedNormed(c, w, normed).reshape([B, S, c.vocabSize]); // [B, S, vocab]
  hooks.release(normed);
  return out;
}

/** Final-norm rows [rows, d] → logits [rows, vocab]: lm_head alone (no final soft-cap). */
export function llamaUnembedNormed(_c: DecoderConfig, w: LlamaWeights, normed: Tensor): Tensor {
  return gemm(normed, w.lmHead, { transB: true });
}

/** Residual rows [rows, d] → logits [rows, vocab]: the final RMSNorm, then lm_head (the logit lens). */
export function llamaUnembed(c: DecoderConfig, w: LlamaWeights, resid: Tensor): Tensor {
  const normed = rmsNorm(resid, w.finalNorm, c.rmsNormEps); // [rows, d]
  const logits = llamaUnembedNormed(c, w, normed);
  release(normed);
  return logits;
}

function maxPosition(input: ForwardBatch): number {
  let max = 0;
  for (const p of input.positionIds) if (p > max) max = p;
  return max;
}

interface CallConstants {
  readonly mask: ReturnType<typeof paddingMask>;
  /** The scaled RoPE frequencies of this call, or undefined for plain RoPE. */
  readonly invFreq: Float32Array | undefined;
}

async function block(
  c: LlamaLikeConfig,
  w: LlamaLayerWeights,
  L: number,
  residIn: Tensor,
  input: ForwardBatch,
  call: CallConstants,
  hooks: HookRunner,
  kv: KvCache | undefined,
): Promise<Tensor> {
  const { batch: B, seq: S } = input;
  const d = c.dModel;
  const p = `blocks.${L}.`;
  const resid = await hooks.run(`${p}hook_resid_pre`, residIn, [B, S, d]); // [T, d]
  const x = await hooks.run(`${p}ln1.hook_normalized`, rmsNorm(resid, w.inputNorm, c.rmsNormEps), [B, S, d]);
  const attnOut = await hooks.run(`${p}hook_attn_out`, await attention(c, w, L, x, input, call, hooks, kv), [B, S, d]);
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

/** q/k/v projections, Qwen3's q/k norms when the weights have them, RoPE; then grouped attention. [T, dModel] */
async function attention(
  c: LlamaLikeConfig,
  w: LlamaLayerWeights,
  L: number,
  x: Tensor,
  input: ForwardBatch,
  call: CallConstants,
  hooks: HookRunner,
  kv: KvCache | undefined,
): Promise<Tensor> {
  const { batch: B, seq: S } = input;
  const T = B * S;
  const { nHeads: H, nKvHeads: KV, dHead: hd } = c;
  const p = `blocks.${L}.attn.`;
  let q = await hooks.run(`${p}hook_q`, gemm(x, w.qProj, { transB: true }), [B, S, H, hd]); // [T, H·hd]
  let k = await hooks.run(`${p}hook_k`, gemm(x, w.kProj, { transB: true }), [B, S, KV, hd]); // [T, KV·hd]
  const v = await hooks.run(`${p}hook_v`, gemm(x, w.vProj, { transB: true }), [B, S, KV, hd]);
  if (w.qNorm && w.kNorm) {
    const qNormed = rmsNorm(q.reshape([T * H, hd]), w.qNorm, c.rmsNormEps).reshape([T, H * hd]);
    const kNormed = rmsNorm(k.reshape([T * KV, hd]), w.kNorm, c.rmsNormEps).reshape([T, KV * hd]);
    hooks.release(q, k);
    q = await hooks.run(`${p}hook_q_normed`, qNormed, [B, S, H, hd]);
    k = await hooks.run(`${p}hook_k_normed`, kNormed, [B, S, KV, hd]);
  }
  // RoPE works in place, and q/k may be a hook's tensor or a cached copy: rotate our own copies.
  const rope = { invFreq: call.invFreq };
  const qRot = await hooks.run(
    `${p}hook_rot_q`,
    ropeInPlace(copy(q).reshape([T, H, hd]), input.positionIds, c.ropeTheta, rope),
    [B, S, H, hd],
  );
  const kRot = await hooks.run(
    `${p}hook_rot_k`,
    ropeInPlace(copy(k).reshape([T, KV, hd]), input.positionIds, c.ropeTheta, rope),
    [B, S, KV, hd],
  );
  hooks.release(q, k);
  return groupedAttention(
    c,
    w.oProj,
    L,
    qRot.reshape([T, H * hd]),
    kRot.reshape([T, KV * hd]),
    v,
    input,
    call.mask,
    hooks,
    kv,
  );
}
