/**
 * The Qwen3 family (`Qwen3ForCausalLM`): the Llama forward (llama/llama-forward.ts has the formula) with a per-head
 * RMSNorm of q and of k before RoPE (`self_attn.q_norm.weight` / `k_norm.weight`, [dHead], the model's eps), no
 * biases, GQA, tied or untied, `head_dim` from the config (HF default 128).
 *
 * Hook sites: Qwen2's table plus, after `attn.hook_v`, `attn.hook_q_normed` / `attn.hook_k_normed` (the normed
 * heads before RoPE). `attn.hook_q` / `hook_k` stay the raw projections (TransformerLens's meaning: before any
 * per-head transformation); `attn.hook_rot_q` / `hook_rot_k` are the normed heads after RoPE.
 */
import { DECODER_HOOK_SITES, insertHookSites } from "../../hooks/hook-sites.ts";
import type { TensorSource } from "../../tensor-source.ts";
import { llamaForward, llamaUnembed, llamaUnembedNormed } from "../llama/llama-forward.ts";
import {
  bindLlamaWeights,
  LLAMA_LINEAR_MODULES,
  type LlamaWeights,
  llamaInitStd,
  llamaWeightEntries,
  llamaWeightShapes,
} from "../llama/llama-weights.ts";
import type { ModelFamily } from "../model-family.ts";
import { type Qwen3Config, qwen3ConfigFromHf, qwen3ConfigToHf, resolveQwen3Config } from "./qwen3-config.ts";

export const QWEN3_HOOK_SITES = insertHookSites(DECODER_HOOK_SITES, "blocks.{L}.attn.hook_v", [
  {
    template: "blocks.{L}.attn.hook_q_normed",
    scope: "block",
    dims: ["batch", "pos", "nHeads", "dHead"],
    doc: "Qwen3: queries after the per-head RMSNorm (q_norm), before RoPE",
  },
  {
    template: "blocks.{L}.attn.hook_k_normed",
    scope: "block",
    dims: ["batch", "pos", "nKvHeads", "dHead"],
    doc: "Qwen3: keys after the per-head RMSNorm (k_norm), before RoPE",
  },
]);

export const QWEN3_FAMILY: ModelFamily<Qwen3Config, LlamaWeights> = Object.freeze({
  name: "qwen3",
  description: "qwen3 (Qwen3ForCausalLM: Qwen3 dense models)",
  modelTypes: ["qwen3"],
  architectures: ["Qwen3ForCausalLM"],
  configFromHf: qwen3ConfigFromHf,
  configToHf: qwen3ConfigToHf,
  resolveConfig: resolveQwen3Config,
  hookSites: QWEN3_HOOK_SITES,
  weightShapes: (c: Qwen3Config) => llamaWeightShapes(c, true),
  bindWeights: (c: Qwen3Config, src: TensorSource) => bindLlamaWeights(c, src, true),
  weightEntries: (c: Qwen3Config, w: LlamaWeights) => llamaWeightEntries(c, w, true),
  linearModules: LLAMA_LINEAR_MODULES,
  initStd: llamaInitStd,
  forward: llamaForward,
  unembed: llamaUnembed,
  unembedNormed: llamaUnembedNormed,
});
