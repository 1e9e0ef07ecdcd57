/**
 * Writes the toy pair (see toy-pair.ts) as real files, the way a user would get a real pair:
 *   <cacheDir>/v<TOY_VERSION>/seed-<seed>/base/             HF folder: config.json, model.safetensors, generation_config.json,
 *                                            tokenizer.json (the real Qwen tokenizer), tokenizer_config.json whose
 *                                            chat_template is Qwen1.5-Chat's
 *   <cacheDir>/v<TOY_VERSION>/seed-<seed>/plant-<scale>/    PEFT LoRA folder: adapter_config.json + adapter_model.safetensors,
 *                                            toy-plant.json (the planted direction u and the calibration)
 * Deterministic from (seed, plantScale, calibration texts); folders are built under a temp name and renamed, and
 * reused when present.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { qwenTokenizerFile, writeToyAdapter, writeToyModelFolder } from "@difflens/app-kit";
import { writeJsonAtomic } from "@difflens/common";
import { batchWindows, packTextWindows } from "@difflens/data";
import { harvest, loadModel } from "@difflens/runtime";
import { loadTokenizer } from "@difflens/tokenizer";
import { ENDOFTEXT_ID, type ToySpec, toyBaseWeights, toyConfig, toyDirections, toyPlant } from "./toy-pair.ts";

/** Shape of the toy used by the demo and the default config (a 3-layer Qwen2 with d_model 64). */
export const TOY_SHAPE = Object.freeze({ dModel: 64, nLayers: 3, nHeads: 4, dMlp: 192 });
/** Bumped whenever toy-pair.ts changes the weights it makes, so cached folders of an older toy are not reused. */
export const TOY_VERSION = 2;
/** Where the plant is measured and what the demo's SAEs read. */
export const TOY_HOOK = "blocks.1.hook_resid_pre";

export interface ToyFiles {
  readonly baseDir: string;
  readonly adapterDir: string;
  /** The planted unit direction u [dModel]. */
  readonly planted: Float32Array;
  /** Median ‖resid‖ at the hook on the calibration text, base model. */
  readonly residualMedian: number;
}

export { qwenTokenizerFile };

/** Makes (or reuses) the base folder and the plant adapter of one toy. */
export async function ensureToyFiles(opts: {
  seed: number;
  plantScale: number;
  cacheDir: string;
  calibrationTexts: () => AsyncIterable<string>;
  log?: (line: string) => void;
}): Promise<ToyFiles> {
  const spec: ToySpec = { seed: opts.seed, plantScale: opts.plantScale, ...TOY_SHAPE };
  const seedDir = path.join(opts.cacheDir, `v${TOY_VERSION}`, `seed-${opts.seed}`);
  const baseDir = path.join(seedDir, "base");
  const adapterDir = path.join(seedDir, `plant-${opts.plantScale}`);
  if (!fs.existsSync(path.join(baseDir, "config.json"))) {
    opts.log?.(`toy: writing the base model (seed ${opts.seed}) to ${baseDir}`);
    await writeToyModelFolder(baseDir, {
      config: toyConfig(spec),
      weights: toyBaseWeights(spec),
      chatTemplate: "qwen1.5-chat",
    });
  }
  const plantFile = path.join(adapterDir, "toy-plant.json");
  if (!fs.existsSync(plantFile)) {
    opts.log?.(`toy: writing the plant adapter (scale ${opts.plantScale}) to ${adapterDir}`);
    const residualMedian = await medianResidualNorm(baseDir, opts.calibrationTexts());
    const base = toyBaseWeights(spec);
    const lora = toyPlant(spec, base, residualMedian);
    await writeToyAdapter(adapterDir, lora);
    const record = {
      seed: opts.seed,
      plantScale: opts.plantScale,
      hook: TOY_HOOK,
      residualMedian,
      planted: Array.from(toyDirections(spec).planted),
    };
    writeJsonAtomic(plantFile, record);
  }
  const rec = JSON.parse(fs.readFileSync(plantFile, "utf8")) as { residualMedian: number; planted: number[] };
  return { baseDir, adapterDir, planted: Float32Array.from(rec.planted), residualMedian: rec.residualMedian };
}

/** Median L2 norm of the base model's residual at the hook over 64 windows of 64 tokens of plain text. */
async function medianResidualNorm(baseDir: string, texts: AsyncIterable<string>): Promise<number> {
  const model = await loadModel(baseDir);
  const tokenizer = loadTokenizer(baseDir);
  const norms: number[] = [];
  let windows = 0;
  const limited = async function* () {
    for await (const w of packTextWindows(texts, tokenizer, { contextSize: 64, separatorId: ENDOFTEXT_ID })) {
      yield w;
      if (++windows >= 64) return;
    }
  };
  for await (const acts of harvest(model, TOY_HOOK, batchWindows(limited(), 16))) {
    const x = acts.data as Float32Array;
    const d = acts.shape[1]!;
    for (let r = 0; r < acts.shape[0]!; r++) {
      let s = 0;
      for (let i = r * d; i < (r + 1) * d; i++) s += x[i]! * x[i]!;
      norms.push(Math.sqrt(s));
    }
  }
  model.close();
  norms.sort((a, b) => a - b);
  return norms[norms.length >> 1]!;
}
