/**
 * `steer` without a config: the embedded conditions toy with a known answer. The planted model (base + the LoRA
 * that writes u after the planted condition's system prompt) generates under that condition with the u latent
 * clamped to 0; the reference is the unplanted base. Clamping u away must bring the planted model back towards the
 * base: KL(base ‖ planted + clamp) ≤ ½ KL(base ‖ planted) (minKlDrop 0.5).
 *
 * Where: at the toy's first readout layer, with that layer's own SAE and its u latent — the SAE the sae-conditions
 * run reads. No head or MLP of the toy reads along u (only the unembedding does), so taking u out there undoes
 * most of the plant.
 */
import { type ConditionsToy, writeConditionsToy } from "../toy/conditions-toy.ts";
import { resolveSteerConfig, type SteerConfig } from "./steer-config.ts";

/** A few neutral prompts (the toy's model is random: what matters is the text's length and template). */
export const TOY_PROMPTS: readonly string[] = [
  "Describe how a river changes from its source to the sea.",
  "List three ways to keep a small garden watered during a dry summer.",
  "What is the difference between weather and climate?",
  "Explain how a bicycle's gears make climbing a hill easier.",
];

/** The SAE the toy steers with: its first readout layer's, and the u latent in it. */
export function toySteerSae(toy: ConditionsToy): { folder: string; hook: string; uLatent: number } {
  const layer = toy.layers[0]!;
  return { folder: toy.saeDirs[layer]!, hook: toy.hook.replace("{layer}", String(layer)), uLatent: toy.uLatent };
}

export function toySteerConfig(
  toy: ConditionsToy,
  sae: { folder: string; hook: string; uLatent: number },
  overrides: { maxNewTokens?: number } = {},
): SteerConfig {
  return resolveSteerConfig(
    {
      model: { path: toy.modelDir, adapter: toy.adapterDir },
      reference: toy.modelDir,
      condition: toy.plantedCondition,
      prompts: TOY_PROMPTS,
      saes: Object.fromEntries(Object.entries(toy.saeDirs)),
      interventions: [{ kind: "clamp", sae: sae.folder, hook: sae.hook, latent: sae.uLatent, value: 0 }],
      positions: "all",
      generate: { maxNewTokens: overrides.maxNewTokens ?? 12, greedy: true, seed: toy.seed },
      minKlDrop: 0.5,
      seed: toy.seed,
    },
    toy.modelDir,
  );
}

/** The toy written (or found) under `cacheDir` and its steer config. */
export async function toySteer(
  cacheDir: string,
  seed: number,
  overrides: { maxNewTokens?: number } = {},
): Promise<{ toy: ConditionsToy; sae: { folder: string; hook: string; uLatent: number }; config: SteerConfig }> {
  const toy = await writeConditionsToy(cacheDir, { seed });
  const sae = toySteerSae(toy);
  return { toy, sae, config: toySteerConfig(toy, sae, overrides) };
}
