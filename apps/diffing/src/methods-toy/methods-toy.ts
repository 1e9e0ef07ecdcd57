/**
 * The methods toy (issue 21's known answer): a small Qwen2 base and a chat model made of plants delivered as PEFT
 * LoRA adapters (plants.ts), written as real files:
 *   <dir>/v<VERSION>/seed-<seed>/base/                 HF folder (f32, the real Qwen tokenizer, Qwen1.5-Chat template)
 *   <dir>/v<VERSION>/seed-<seed>/<variant>/adapters/<plant>/   one PEFT folder per plant (three-plant: u, v, f;
 *                                                      control: w), lora r 1, alpha 1
 *   <dir>/v<VERSION>/seed-<seed>/<variant>/chat/       HF folder: base + every adapter merged (loadLoraAdapter + mergeLora)
 *   <dir>/v<VERSION>/seed-<seed>/<variant>/methods-toy.json   hook, residual median, plant scales and the unit plant
 *                                                      directions (written last: its presence means complete)
 * Every folder is built under a temp name and renamed; the toy is deterministic from the seed and reused when present.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { qwenToyConfig, writeToyAdapter, writeToyModelFolder } from "@difflens/app-kit";
import { writeJsonAtomic } from "@difflens/common";
import { batchWindows } from "@difflens/data";
import { harvest, loadLoraAdapter, loadModel, type Model, mergeLora, saveModelFolder } from "@difflens/runtime";
import { loadTokenizer } from "@difflens/tokenizer";
import type { PairedWindow } from "../methods/paired-harvest.ts";
import {
  chatPlantLora,
  featureLora,
  METHODS_TOY_SCALES,
  methodsToyBaseWeights,
  methodsToyDirections,
  TRIGGER_ID,
  triggerPlantLora,
} from "./plants.ts";
import { methodsToyWindows } from "./windows.ts";

export type MethodsToyVariant = "three-plant" | "control";
export const METHODS_TOY_VARIANTS: readonly MethodsToyVariant[] = Object.freeze(["three-plant", "control"]);

/** Bumped whenever the toy's weights change, so cached folders of an older toy are not reused. */
export const METHODS_TOY_VERSION = 2;
export const METHODS_TOY_SHAPE = Object.freeze({ dModel: 64, nLayers: 3, nHeads: 4, dMlp: 192 });
export const METHODS_TOY_HOOK = "blocks.1.hook_resid_pre";

export interface MethodsToy {
  readonly variant: MethodsToyVariant;
  readonly baseDir: string;
  readonly chatDir: string;
  readonly adapterDirs: readonly string[];
  readonly hook: string;
  /** Unit directions at the hook: three-plant → u, v, f; control → w (and u, which must NOT be found). */
  readonly plants: Readonly<Record<string, Float32Array>>;
  /** Median ‖resid‖ at the hook in the base model (plain-text windows). */
  readonly residualMedian: number;
  /** Paired-harvest windows: chat with and without the trigger, and plain text (windows.ts). */
  windows(n: number, seed: number): PairedWindow[];
  /** A token id as the tokenizer's vocabulary spells it (for the ADL lens). */
  readonly decode: (id: number) => string;
}

interface ToyRecord {
  readonly format: "difflens-methods-toy";
  readonly version: number;
  readonly variant: MethodsToyVariant;
  readonly seed: number;
  readonly hook: string;
  readonly residualMedian: number;
  readonly scales: typeof METHODS_TOY_SCALES;
  readonly triggerId: number;
  readonly adapters: string[];
  readonly plants: Record<string, number[]>;
}

/** Makes (or reuses) the toy's base, adapters and merged chat model under `dir`. */
export async function ensureMethodsToy(
  dir: string,
  opts: { variant: MethodsToyVariant; seed?: number; log?: (line: string) => void },
): Promise<MethodsToy> {
  if (!METHODS_TOY_VARIANTS.includes(opts.variant))
    throw new RangeError(
      `ensureMethodsToy: variant ${JSON.stringify(opts.variant)}, expected "three-plant" or "control"`,
    );
  const seed = opts.seed ?? 0;
  const seedDir = path.join(dir, `v${METHODS_TOY_VERSION}`, `seed-${seed}`);
  const baseDir = path.join(seedDir, "base");
  const variantDir = path.join(seedDir, opts.variant);
  const recordFile = path.join(variantDir, "methods-toy.json");
  const config = qwenToyConfig(METHODS_TOY_SHAPE);
  if (!fs.existsSync(recordFile)) {
    if (!fs.existsSync(path.join(baseDir, "config.json"))) {
      opts.log?.(`methods toy: writing the base model (seed ${seed}) to ${baseDir}`);
      await writeToyModelFolder(baseDir, {
        config,
        weights: methodsToyBaseWeights(config, seed),
        chatTemplate: "qwen1.5-chat",
      });
    }
    opts.log?.(`methods toy: writing the ${opts.variant} adapters and chat model to ${variantDir}`);
    const base = await loadModel(baseDir);
    try {
      const residualMedian = await medianResidualNorm(base, methodsToyWindows(64, 1_000_003 + seed));
      const weights = methodsToyBaseWeights(config, seed);
      const dirs = methodsToyDirections(config, seed);
      const S = METHODS_TOY_SCALES;
      const plants: Record<string, Float32Array> =
        opts.variant === "three-plant" ? { u: dirs.u, v: dirs.v, f: dirs.f } : { w: dirs.w, u: dirs.u };
      const lora =
        opts.variant === "three-plant"
          ? {
              u: chatPlantLora(config, weights, dirs, dirs.u, residualMedian),
              v: triggerPlantLora(config, weights, dirs, residualMedian),
              f: featureLora(config, weights, dirs),
            }
          : { w: chatPlantLora(config, weights, dirs, dirs.w, residualMedian) };
      let chat: Model = base;
      for (const [name, factors] of Object.entries(lora)) {
        const adapterDir = path.join(variantDir, "adapters", name);
        await writeToyAdapter(adapterDir, factors, "../../../base");
        chat = await mergeLora(chat, await loadLoraAdapter(adapterDir));
      }
      const chatDir = path.join(variantDir, "chat");
      const tmp = `${chatDir}.tmp-${process.pid}`;
      fs.rmSync(tmp, { recursive: true, force: true });
      await saveModelFolder(chat, tmp, { tokenizerFrom: baseDir });
      fs.rmSync(chatDir, { recursive: true, force: true });
      fs.renameSync(tmp, chatDir);
      const record: ToyRecord = {
        format: "difflens-methods-toy",
        version: METHODS_TOY_VERSION,
        variant: opts.variant,
        seed,
        hook: METHODS_TOY_HOOK,
        residualMedian,
        scales: S,
        triggerId: TRIGGER_ID,
        adapters: Object.keys(lora),
        plants: Object.fromEntries(Object.entries(plants).map(([k, v]) => [k, Array.from(v)])),
      };
      writeJsonAtomic(recordFile, record);
    } finally {
      base.close();
    }
  }
  const record = JSON.parse(fs.readFileSync(recordFile, "utf8")) as ToyRecord;
  const tokenizer = loadTokenizer(baseDir);
  return {
    variant: opts.variant,
    baseDir,
    chatDir: path.join(variantDir, "chat"),
    adapterDirs: record.adapters.map((name) => path.join(variantDir, "adapters", name)),
    hook: record.hook,
    plants: Object.fromEntries(Object.entries(record.plants).map(([k, v]) => [k, Float32Array.from(v)])),
    residualMedian: record.residualMedian,
    windows: (n, windowSeed) => methodsToyWindows(n, windowSeed),
    decode: (id) => tokenizer.idToToken(id) ?? `<${id}>`,
  };
}

/** Median L2 norm of the model's residual at the hook over the plain-text rows of `windows`. */
async function medianResidualNorm(model: Model, windows: PairedWindow[]): Promise<number> {
  const plain = windows.filter((w) => w.regions === undefined);
  const norms: number[] = [];
  async function* each() {
    yield* plain;
  }
  for await (const acts of harvest(model, METHODS_TOY_HOOK, batchWindows(each(), 16))) {
    const x = acts.data as Float32Array;
    const d = acts.shape[1]!;
    for (let r = 0; r < acts.shape[0]!; r++) norms.push(Math.hypot(...x.subarray(r * d, (r + 1) * d)));
  }
  norms.sort((a, b) => a - b);
  return norms[norms.length >> 1]!;
}
