/**
 * `steer` without a config: the embedded conditions toy with a known answer. The planted model (base + the LoRA
 * that writes u after the planted condition's system prompt) generates under that condition with the u latent
 * clamped to 0; the reference is the unplanted base. Clamping u away must bring the planted model back towards the
 * base: KL(base ‖ planted + clamp) ≤ ½ KL(base ‖ planted) (minKlDrop 0.5).
 *
 * Where: the plant writes u in layer 0, so the clamp acts at blocks.0.hook_resid_post (= layer 1's input), through
 * an SAE built there exactly as the toy builds its readout SAEs (same recipe, same latent order). The readout SAEs
 * sit after layers 1–3, where layer 1 has already reacted to u: clamping there removes u but not that reaction
 * (measured, seed 0: KL drop 0.36 at layer 1, 0.25 at layers 2 and 3; 0.95 when u is projected out before layer 1).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { bundledChatTemplate } from "@difflens/chat";
import { loadModel } from "@difflens/runtime";
import { writeDictionaryLearning } from "@difflens/sae";
import { Rng } from "@difflens/tensor";
import { loadTokenizer } from "@difflens/tokenizer";
import { type ConditionsToy, writeConditionsToy } from "../toy/conditions-toy.ts";
import { calibrationActivations } from "../toy/toy-model.ts";
import { buildToySae } from "../toy/toy-sae.ts";
import { resolveSteerConfig, type SteerConfig } from "./steer-config.ts";

/** A few neutral prompts (the toy's model is random: what matters is the text's length and template). */
export const TOY_PROMPTS: readonly string[] = [
  "Describe how a river changes from its source to the sea.",
  "List three ways to keep a small garden watered during a dry summer.",
  "What is the difference between weather and climate?",
  "Explain how a bicycle's gears make climbing a hill easier.",
];

/** The hook right after the layer that writes u (layer 0's head 0), before any later layer reads it. */
export const TOY_PLANT_HOOK = "blocks.0.hook_resid_post";

/**
 * The toy's SAE at TOY_PLANT_HOOK, made once beside the toy's files (`<seed>/steer/sae-layer-0`): the readout SAEs'
 * recipe on the base model's activations there. Returns its folder and its u latent.
 */
export async function ensurePlantHookSae(toy: ConditionsToy): Promise<{ folder: string; uLatent: number }> {
  const folder = path.join(path.dirname(toy.modelDir), "steer", "sae-layer-0");
  const record = path.join(folder, "u-latent.json");
  if (!fs.existsSync(record)) {
    const model = await loadModel(toy.modelDir, { mmap: false });
    const acts = await calibrationActivations(
      model,
      loadTokenizer(toy.modelDir),
      bundledChatTemplate("qwen2.5-instruct"),
      [TOY_PLANT_HOOK],
    );
    model.close();
    const built = buildToySae(acts.get(TOY_PLANT_HOOK)!, toy.u, new Rng(toy.seed).fork("toy-sae"), TOY_PLANT_HOOK);
    const tmp = `${folder}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    await writeDictionaryLearning(tmp, built.sae);
    fs.writeFileSync(path.join(tmp, "u-latent.json"), JSON.stringify({ uLatent: built.uLatent, hook: TOY_PLANT_HOOK }));
    fs.rmSync(folder, { recursive: true, force: true });
    fs.renameSync(tmp, folder);
  }
  return { folder, uLatent: (JSON.parse(fs.readFileSync(record, "utf8")) as { uLatent: number }).uLatent };
}

export function toySteerConfig(
  toy: ConditionsToy,
  sae: { folder: string; uLatent: number },
  overrides: { maxNewTokens?: number } = {},
): SteerConfig {
  return resolveSteerConfig(
    {
      model: { path: toy.modelDir, adapter: toy.adapterDir },
      reference: toy.modelDir,
      condition: toy.plantedCondition,
      prompts: TOY_PROMPTS,
      saes: Object.fromEntries(Object.entries(toy.saeDirs)),
      interventions: [{ kind: "clamp", sae: sae.folder, hook: TOY_PLANT_HOOK, latent: sae.uLatent, value: 0 }],
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
): Promise<{ toy: ConditionsToy; sae: { folder: string; uLatent: number }; config: SteerConfig }> {
  const toy = await writeConditionsToy(cacheDir, { seed });
  const sae = await ensurePlantHookSae(toy);
  return { toy, sae, config: toySteerConfig(toy, sae, overrides) };
}
