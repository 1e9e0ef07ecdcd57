/**
 * The embedded toy of `sae-conditions` and `steer`: a small Qwen2-architecture model from a seed (the real Qwen
 * tokenizer and Qwen2.5's chat template); the model-default condition's system prompt planted, as a PEFT LoRA, to
 * write a known direction u at later positions (toy-model.ts); one SAE per readout layer whose dictionary holds u
 * (toy-sae.ts). Files, under `<dir>/v<CONDITIONS_TOY_VERSION>/seed-<seed>/`:
 *   base/          HF folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json with the template)
 *   adapter/       PEFT LoRA folder: base + adapter = the planted model
 *   sae/resid_post_layer_<L>/trainer_0/  dictionary_learning BatchTopK folder (ae.pt + config.json), reading
 *                  blocks.L.hook_resid_post
 *   toy.json       this description (u, the latents, the plant's norm)
 * The seed folder is built under a temp name and renamed, so one that exists is complete and is reused.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { qwenTokenizerFile, writeToyAdapter, writeToyModelFolder } from "@difflens/app-kit";
import { bundledChatTemplate } from "@difflens/chat";
import { writeJsonAtomic } from "@difflens/common";
import { loadModel } from "@difflens/runtime";
import { writeDictionaryLearning } from "@difflens/sae";
import { Rng } from "@difflens/tensor";
import { loadTokenizer, type Tokenizer } from "@difflens/tokenizer";
import {
  CONDITIONS_TOY_CONDITIONS,
  CONDITIONS_TOY_LAYERS,
  calibrationActivations,
  conditionsToyBaseWeights,
  conditionsToyConfig,
  conditionsToyDirections,
  conditionsToyPlant,
  PLANT_SCALE,
} from "./toy-model.ts";
import { buildToySae } from "./toy-sae.ts";

/** Bumped whenever the toy's recipe changes, so cached folders of an older toy are not reused. */
export const CONDITIONS_TOY_VERSION = 4;

export interface ConditionsToy {
  /** HF-style model folder of the unplanted base (config.json, model.safetensors, tokenizer files). */
  readonly modelDir: string;
  /** PEFT adapter folder (adapter_config.json + adapter_model.safetensors): base + adapter = the planted model. */
  readonly adapterDir: string;
  /** One SAE folder per layer (a format @difflens/sae reads), keyed by layer index. */
  readonly saeDirs: Readonly<Record<number, string>>;
  readonly layers: readonly number[];
  /** The hook every SAE reads, with `{layer}` for the layer index. */
  readonly hook: string;
  /** Condition labels as the config writes them, e.g. "model-default", "custom:You are a helpful assistant.". */
  readonly conditions: readonly string[];
  /** The label of the condition whose system prompt carries the plant. */
  readonly plantedCondition: string;
  /** The latent whose decoder direction is u, the same index in every layer's SAE. */
  readonly uLatent: number;
  /** Ten latents whose decoder directions are orthogonal to u (Track A's negative control). */
  readonly orthogonalLatents: readonly number[];
  /** The planted direction u [dModel], unit norm. */
  readonly u: Float32Array;
  /** The plant's norm where head 0 attends only to the marker (= PLANT_SCALE × the median residual norm after layer 1). */
  readonly plantNorm: number;
  readonly seed: number;
}

export interface ConditionsToyOptions {
  readonly seed: number;
  readonly log?: (line: string) => void;
}

const HOOK = "blocks.{layer}.hook_resid_post";
const hookAt = (layer: number) => HOOK.replace("{layer}", String(layer));
/** dictionary_learning's layout, as the seed's SAEs come. */
const saeDir = (seedDir: string, layer: number) => path.join(seedDir, "sae", `resid_post_layer_${layer}`, "trainer_0");

/** Writes the toy's files under `dir` (idempotent for the same seed) and describes them. */
export async function writeConditionsToy(dir: string, options: ConditionsToyOptions): Promise<ConditionsToy> {
  const { seed } = options;
  if (!Number.isInteger(seed) || seed < 0)
    throw new Error(`writeConditionsToy: seed must be an integer ≥ 0, got ${seed}`);
  const seedDir = path.join(path.resolve(dir), `v${CONDITIONS_TOY_VERSION}`, `seed-${seed}`);
  const record = path.join(seedDir, "toy.json");
  if (!fs.existsSync(record)) {
    options.log?.(`toy: writing the conditions toy (seed ${seed}) to ${seedDir}`);
    const tmp = `${seedDir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    await buildToy(tmp, seed);
    fs.rmSync(seedDir, { recursive: true, force: true });
    fs.renameSync(tmp, seedDir);
  }
  return describe(seedDir, JSON.parse(fs.readFileSync(record, "utf8")) as ToyRecord);
}

interface ToyRecord {
  readonly seed: number;
  readonly uLatent: number;
  readonly orthogonalLatents: number[];
  readonly u: number[];
  readonly plantNorm: number;
}

async function buildToy(dir: string, seed: number): Promise<void> {
  const config = conditionsToyConfig();
  const base = conditionsToyBaseWeights(seed);
  const baseDir = path.join(dir, "base");
  await writeToyModelFolder(baseDir, { config, weights: base, chatTemplate: "qwen2.5-instruct" });
  // Calibrate on the base model: the plant's norm and each layer's dictionary come from its activations.
  const model = await loadModel(baseDir, { mmap: false });
  const tokenizer = qwenTokenizer();
  const hooks = CONDITIONS_TOY_LAYERS.map(hookAt);
  const acts = await calibrationActivations(model, tokenizer, bundledChatTemplate("qwen2.5-instruct"), hooks);
  model.close();
  const plantNorm = PLANT_SCALE * medianRowNorm(acts.get(hooks[0]!)!, config.dModel);
  await writeToyAdapter(path.join(dir, "adapter"), conditionsToyPlant(seed, base, plantNorm), "../base");
  const u = conditionsToyDirections(seed).planted;
  // One shuffle for all layers, so the u latent and the orthogonal set have the same indices everywhere.
  let latents: { uLatent: number; orthogonalLatents: readonly number[] } | null = null;
  for (const layer of CONDITIONS_TOY_LAYERS) {
    const toy = buildToySae(acts.get(hookAt(layer))!, u, new Rng(seed).fork("toy-sae"), hookAt(layer));
    latents ??= toy;
    await writeDictionaryLearning(saeDir(dir, layer), toy.sae);
  }
  const out: ToyRecord = {
    seed,
    uLatent: latents!.uLatent,
    orthogonalLatents: [...latents!.orthogonalLatents],
    u: Array.from(u),
    plantNorm,
  };
  writeJsonAtomic(path.join(dir, "toy.json"), out);
}

function describe(seedDir: string, rec: ToyRecord): ConditionsToy {
  return Object.freeze({
    modelDir: path.join(seedDir, "base"),
    adapterDir: path.join(seedDir, "adapter"),
    saeDirs: Object.freeze(Object.fromEntries(CONDITIONS_TOY_LAYERS.map((l) => [l, saeDir(seedDir, l)]))),
    layers: CONDITIONS_TOY_LAYERS,
    hook: HOOK,
    conditions: CONDITIONS_TOY_CONDITIONS,
    plantedCondition: CONDITIONS_TOY_CONDITIONS[0]!,
    uLatent: rec.uLatent,
    orthogonalLatents: Object.freeze(rec.orthogonalLatents),
    u: Float32Array.from(rec.u),
    plantNorm: rec.plantNorm,
    seed: rec.seed,
  });
}

let cachedTokenizer: Tokenizer | null = null;
/** The real Qwen tokenizer every toy folder carries, parsed once per process (it takes about a second). */
export function qwenTokenizer(): Tokenizer {
  cachedTokenizer ??= loadTokenizer(path.dirname(qwenTokenizerFile()));
  return cachedTokenizer;
}

function medianRowNorm(acts: Float32Array, d: number): number {
  const norms: number[] = [];
  for (let r = 0; r < acts.length / d; r++) norms.push(Math.hypot(...acts.subarray(r * d, (r + 1) * d)));
  norms.sort((a, b) => a - b);
  return norms[norms.length >> 1]!;
}
