/**
 * The pre-norm decoder every family runs, kernel by kernel with TransformerLens's hooks; a family describes what it
 * does differently as a `DecoderRecipe` (its own folder keeps the formula):
 *
 *   x = embed[ids] (· embedScale)                                     Gemma: √dModel
 *   per block:  a = attention(rms₁(x))              (shared/grouped-attention.ts)
 *               x = x + a                    or  x = x + rms_postattn(a)        (Gemma's sandwich norms)
 *               m = down_proj(act(gate_proj(rms₂(x))) · up_proj(rms₂(x)))       act: SiLU, or tanh-GELU (Gemma)
 *               x = x + m                    or  x = x + rms_postmlp(m)
 *   logits = unembedNormed(rms_final(x))                              lm_head (+ final soft-cap)
 *
 *   rms(x; w) = x / √(mean(x²) + eps) · (normWeightOffset + w)
 *
 * Activations are [tokens, width] matrices with tokens = batch·seq (row-major [batch, seq, …]); hooks see them
 * reshaped to the table's shapes without copies. Weights stay in their stored dtype; every activation is f32.
 * Device-neutral: every step is a kernel of the current backend; only small index tensors are uploaded per call,
 * and nothing is read back — the caller reads the results.
 */
import {
  type AttentionMask,
  add,
  gatherRows,
  gemm,
  release,
  rmsNorm,
  scale,
  Tensor,
  tanhSoftcap,
  toDevice,
} from "@difflens/tensor";
import type { ForwardBatch, LogitsMode } from "../../forward-batch.ts";
import type { HookRunner } from "../../hooks/hook-registry.ts";
import type { KvCache } from "../../kv-cache.ts";
import type { DecoderConfig, DecoderWeights } from "../model-family.ts";
import { type AttentionVariant, type AttentionWeights, groupedAttention, paddingMask } from "./grouped-attention.ts";

/** One block's norms and MLP (the names are the roles, not HF's: Llama's post_attention_layernorm is `preMlp`). */
export interface BlockParts {
  readonly preAttn: Tensor; // [dModel] input_layernorm
  readonly preMlp: Tensor; // [dModel]
  /** Gemma: norms of the attention and MLP outputs before they join the residual (hook_*_out_pre_norm sites). */
  readonly postAttn?: Tensor; // [dModel]
  readonly postMlp?: Tensor; // [dModel]
  readonly gateProj: Tensor; // [dMlp, dModel]
  readonly upProj: Tensor; // [dMlp, dModel]
  readonly downProj: Tensor; // [dModel, dMlp]
}

/** What a family's decoder does differently from the shared one. */
export interface DecoderRecipe<C extends DecoderConfig, W extends DecoderWeights> {
  /** y = x/rms · (offset + w) for every RMSNorm (Gemma 1, else 0). */
  readonly normWeightOffset: number;
  /** Factor of the embedding rows (Gemma √dModel), or null for none. */
  embedScale(c: C): number | null;
  /** GLU activation: act(gate) · up (siluGate, or geluTanhGate for Gemma). */
  mlpGate(gate: Tensor, up: Tensor): Tensor;
  /** Block L's norms and MLP weights under their roles. */
  blockParts(w: W, L: number): BlockParts;
  /** Block L's attention weights. */
  attentionWeights(w: W, L: number): AttentionWeights;
  /** The per-layer attention variants of one call (called once per forward: e.g. dynamic RoPE depends on it). */
  attentionVariants(c: C, input: ForwardBatch): (L: number) => AttentionVariant;
  /** Final-norm rows [rows, d] → logits [rows, vocab]. */
  unembedNormed(c: C, w: W, normed: Tensor): Tensor;
}

export async function decoderForward<C extends DecoderConfig, W extends DecoderWeights>(
  recipe: DecoderRecipe<C, W>,
  c: C,
  w: W,
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
  const embedScale = recipe.embedScale(c);
  if (embedScale !== null) {
    const rows = resid;
    resid = scale(rows, embedScale);
    hooks.release(rows);
  }
  resid = await hooks.run("hook_embed", resid, [B, S, d]);
  const call: CallConstants = { mask: paddingMask(input, kv), variants: recipe.attentionVariants(c, input) };
  for (let L = 0; L < c.nLayers; L++) resid = await block(recipe, c, w, L, resid, input, call, hooks, kv);
  kv?.commit(S, input.attentionMask, input.positionIds);
  if (logits === "none" && !hooks.wants("ln_final.hook_normalized")) return undefined;
  let normed = rmsNorm(resid, w.finalNorm, c.rmsNormEps, { weightOffset: recipe.normWeightOffset }); // [T, d]
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
    const out = recipe.unembedNormed(c, w, last).reshape([B, 1, c.vocabSize]); // [B, 1, vocab]
    hooks.release(last);
    return out;
  }
  const out = recipe.unembedNormed(c, w, normed).reshape([B, S, c.vocabSize]); // [B, S, vocab]
  hooks.release(normed);
  return out;
}

/** Final-norm rows [rows, d] → logits [rows, vocab]: lm_head, then the final soft-cap when there is one. */
export function unembedNormed(w: DecoderWeights, normed: Tensor, finalSoftcap: number | null = null): Tensor {
  const logits = gemm(normed, w.lmHead, { transB: true }); // [rows, vocab]
  if (finalSoftcap === null) return logits;
  const capped = tanhSoftcap(logits, finalSoftcap);
  release(logits);
  return capped;
}

/** Residual rows [rows, d] → logits [rows, vocab]: the recipe's final RMSNorm, then its unembedding (logit lens). */
export function decoderUnembed<C extends DecoderConfig, W extends DecoderWeights>(
  recipe: DecoderRecipe<C, W>,
  c: C,
  w: W,
  resid: Tensor,
): Tensor {
  const normed = rmsNorm(resid, w.finalNorm, c.rmsNormEps, { weightOffset: recipe.normWeightOffset }); // [rows, d]
  const logits = recipe.unembedNormed(c, w, normed);
  release(normed);
  return logits;
}

interface CallConstants {
  readonly mask: AttentionMask | null;
  readonly variants: (L: number) => AttentionVariant;
}

async function block<C extends DecoderConfig, W extends DecoderWeights>(
  recipe: DecoderRecipe<C, W>,
  c: C,
  w: W,
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
  const parts = recipe.blockParts(w, L);
  const norm = (x: Tensor, weight: Tensor): Tensor =>
    rmsNorm(x, weight, c.rmsNormEps, { weightOffset: recipe.normWeightOffset });
  /** The hooked `hook_<site>_out`, through Gemma's post-norm (hooked `…_pre_norm` first) when the block has one. */
  const output = async (site: "attn" | "mlp", raw: Tensor, postNorm: Tensor | undefined): Promise<Tensor> => {
    if (!postNorm) return hooks.run(`${p}hook_${site}_out`, raw, [B, S, d]);
    const pre = await hooks.run(`${p}hook_${site}_out_pre_norm`, raw, [B, S, d]);
    const out = await hooks.run(`${p}hook_${site}_out`, norm(pre, postNorm), [B, S, d]);
    hooks.release(pre);
    return out;
  };
  const resid = await hooks.run(`${p}hook_resid_pre`, residIn, [B, S, d]); // [T, d]
  const x = await hooks.run(`${p}ln1.hook_normalized`, norm(resid, parts.preAttn), [B, S, d]);
  const attnRaw = await groupedAttention(
    c,
    recipe.attentionWeights(w, L),
    call.variants(L),
    L,
    x,
    input,
    call.mask,
    hooks,
    kv,
  );
  const attnOut = await output("attn", attnRaw, parts.postAttn);
  const mid = await hooks.run(`${p}hook_resid_mid`, add(resid, attnOut), [B, S, d]);
  hooks.release(residIn, resid, x, attnOut); // intermediates no hook saw go back to the device pool now
  const x2 = await hooks.run(`${p}ln2.hook_normalized`, norm(mid, parts.preMlp), [B, S, d]);
  const gate = await hooks.run(`${p}mlp.hook_pre`, gemm(x2, parts.gateProj, { transB: true }), [B, S, c.dMlp]); // [T, dMlp]
  const up = await hooks.run(`${p}mlp.hook_pre_linear`, gemm(x2, parts.upProj, { transB: true }), [B, S, c.dMlp]);
  const act = await hooks.run(`${p}mlp.hook_post`, recipe.mlpGate(gate, up), [B, S, c.dMlp]);
  hooks.release(x2, gate, up);
  const mlpRaw = gemm(act, parts.downProj, { transB: true }); // [T, d]
  hooks.release(act);
  const mlpOut = await output("mlp", mlpRaw, parts.postMlp);
  const out = await hooks.run(`${p}hook_resid_post`, add(mid, mlpOut), [B, S, d]);
  hooks.release(mid, mlpOut);
  return out;
}
