/**
 * The Qwen2 family (Qwen1.5, Qwen2, Qwen2.5: `Qwen2ForCausalLM`): its config reader, weight map and forward pass
 * (qwen2-forward.ts has the formula) behind the ModelFamily seam. Quirks: q/k/v biases, no sliding window (a
 * config with a window shorter than its context is refused), plain RoPE (rope_scaling refused).
 */
import { DECODER_HOOK_SITES } from "../../hooks/hook-sites.ts";
import type { ModelFamily } from "../model-family.ts";
import { type Qwen2Config, qwen2ConfigFromHf, qwen2ConfigToHf, resolveQwen2Config } from "./qwen2-config.ts";
import { qwen2Forward, qwen2Unembed, qwen2UnembedNormed } from "./qwen2-forward.ts";
import { bindQwen2Weights, type Qwen2Weights, qwen2WeightEntries, qwen2WeightShapes } from "./qwen2-weights.ts";

/**
 * Init scales (std of each tensor), chosen so activations look like a trained model's through 2–8+ layers:
 * projections read unit-RMS inputs with std 1/√fanIn (q, k, v, gate, up ≈ unit scale, attention neither
 * uniform nor one-hot), output projections (o, down) are shrunk by √(2/nLayers) so the residual stream grows
 * to O(1) without exploding, the embedding is small (3/√dModel, so tied logits have std ≈ 3), norms are
 * 1 + N(0, 0.1) and q/k/v biases N(0, 0.3) so a wrongly applied norm weight or bias shows up in tests.
 */
export function qwen2InitStd(name: string, shape: readonly number[], c: Qwen2Config): { std: number; mean: number } {
  const fanIn = shape[shape.length - 1]!;
  const outScale = Math.sqrt(2 / c.nLayers);
  if (name.endsWith("layernorm.weight") || name === "model.norm.weight") return { std: 0.1, mean: 1 };
  if (name.endsWith(".bias")) return { std: 0.3, mean: 0 };
  if (name === "model.embed_tokens.weight" || name === "lm_head.weight")
    return { std: 3 / Math.sqrt(c.dModel), mean: 0 };
  if (name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight"))
    return { std: outScale / Math.sqrt(fanIn), mean: 0 };
  return { std: 1 / Math.sqrt(fanIn), mean: 0 };
}

export const QWEN2_FAMILY = Object.freeze<ModelFamily<Qwen2Config, Qwen2Weights>>({
  name: "qwen2",
  description: "qwen2 (Qwen2ForCausalLM: Qwen1.5, Qwen2, Qwen2.5)",
  modelTypes: ["qwen2"],
  architectures: ["Qwen2ForCausalLM"],
  configFromHf: (json, file) => qwen2ConfigFromHf(json, file),
  configToHf: (c) => qwen2ConfigToHf(c),
  resolveConfig: (input) => resolveQwen2Config(input),
  hookSites: DECODER_HOOK_SITES,
  weightShapes: qwen2WeightShapes,
  bindWeights: bindQwen2Weights,
  weightEntries: qwen2WeightEntries,
  linearModules: [
    "self_attn.q_proj",
    "self_attn.k_proj",
    "self_attn.v_proj",
    "self_attn.o_proj",
    "mlp.gate_proj",
    "mlp.up_proj",
    "mlp.down_proj",
  ],
  initStd: qwen2InitStd,
  forward: qwen2Forward,
  unembed: qwen2Unembed,
  unembedNormed: qwen2UnembedNormed,
});
