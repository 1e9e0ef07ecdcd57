/**
 * Every input checked before anything is computed or written: the prompt and score files, the model folder (headers
 * only), each layer against the model's depth, each SAE folder (present, a known format, d_in = the hook's width,
 * Track A's latents inside d_sae). A problem is one INPUT_INVALID line naming the file or field and what was
 * expected (exit status 2).
 */
import * as fs from "node:fs";
import { checkModelFolder, hookWidth, type ModelRef } from "@difflens/app-kit";
import { isDifflensError } from "@difflens/common";
import type { DecoderConfig } from "@difflens/runtime";
import { readSaeShape, type SaeShape } from "@difflens/sae";
import { ReadoutsError } from "../errors.ts";
import type { SaeConditionsConfig } from "./config.ts";
import { type Prompt, readPrompts, readScores } from "./prompt-files.ts";

export interface CheckedInputs {
  readonly prompts: readonly Prompt[];
  /** Behaviour score per prompt (prompt order), or null without a behaviour section. */
  readonly scores: Float64Array | null;
  readonly modelConfig: DecoderConfig;
  /** The folder the model loads from. */
  readonly modelFolder: string;
  /** Hook name per layer. */
  readonly hooks: Readonly<Record<number, string>>;
  readonly saeShapes: Readonly<Record<number, SaeShape>>;
  /** Width of the hooks' activations (d_model for the residual stream). */
  readonly width: number;
  /** Bytes of the model's weights as stored. */
  readonly weightBytes: number;
}

export async function checkInputs(config: SaeConditionsConfig): Promise<CheckedInputs> {
  const prompts = readPrompts(config.prompts);
  const scores = config.behaviour ? scoresInOrder(config.behaviour.scores, prompts) : null;
  const model = await wrap("model", describe(config.model), () => checkModelFolder(config.model));
  const nLayers = model.config.nLayers;
  const hooks: Record<number, string> = {};
  const saeShapes: Record<number, SaeShape> = {};
  let width = 0;
  for (const layer of config.layers) {
    if (layer >= nLayers)
      throw new ReadoutsError(
        "INPUT_INVALID",
        `layers: layer ${layer} is beyond the model (${model.folder} has ${nLayers} layers); expected 0–${nLayers - 1}`,
        { file: model.folder, field: "layers", expected: `0–${nLayers - 1}`, got: layer },
      );
    const hook = config.hook.replaceAll("{layer}", String(layer));
    width = await wrap("hook", model.folder, () => hookWidth(model.config, hook));
    hooks[layer] = hook;
    const dir = config.saes[layer]!;
    if (!fs.existsSync(dir))
      throw new ReadoutsError(
        "INPUT_INVALID",
        `saes.${layer}: ${dir}: no such folder; expected an SAE folder for ${hook}`,
        {
          file: dir,
          field: `saes.${layer}`,
        },
      );
    const shape = await wrap(`saes.${layer}`, dir, () => readSaeShape(dir));
    if (shape.dIn !== width)
      throw new ReadoutsError(
        "INPUT_INVALID",
        `saes.${layer}: ${dir} reads d_in = ${shape.dIn}; expected ${width}, the width of ${hook} in ${model.folder}`,
        { file: dir, field: `saes.${layer}`, expected: width, got: shape.dIn },
      );
    const gap = config.behaviour?.latents;
    const lists: Array<[string, readonly number[]]> = [
      [`trackA.latents.${layer}`, config.trackA?.latents[layer] ?? []],
      ["behaviour.latents", Array.isArray(gap) ? gap : []],
    ];
    for (const [field, list] of lists) {
      const beyond = list.find((i) => i >= shape.dSae);
      if (beyond !== undefined)
        throw new ReadoutsError(
          "INPUT_INVALID",
          `${field}: latent ${beyond} is beyond the SAE ${dir} (d_sae ${shape.dSae}); expected 0–${shape.dSae - 1}`,
          { file: dir, field, expected: `< ${shape.dSae}`, got: beyond },
        );
    }
    saeShapes[layer] = shape;
  }
  return {
    prompts,
    scores,
    modelConfig: model.config,
    modelFolder: model.folder,
    hooks,
    saeShapes,
    width,
    weightBytes: model.weightBytes,
  };
}

/** The scores of the prompts, in prompt order; every prompt needs one. */
function scoresInOrder(file: string, prompts: readonly Prompt[]): Float64Array {
  const scores = readScores(file);
  const missing = prompts.filter((p) => !scores.has(p.id));
  if (missing.length > 0)
    throw new ReadoutsError(
      "INPUT_INVALID",
      `${file}: no score for prompt id(s) ${missing
        .slice(0, 5)
        .map((p) => JSON.stringify(p.id))
        .join(", ")}${missing.length > 5 ? ", …" : ""}; expected one score per prompt (field behaviour.scores)`,
      { file, field: "behaviour.scores", expected: "a score for every prompt id" },
    );
  return Float64Array.from(prompts, (p) => scores.get(p.id)!);
}

function describe(ref: ModelRef): string {
  return ref.adapter === null ? ref.path : `${ref.path} + ${ref.adapter}`;
}

/** Runs `check`; an error from a package becomes one INPUT_INVALID line naming the field and the file. */
export async function wrap<T>(field: string, file: string, check: () => T | Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (e) {
    if (e instanceof ReadoutsError) throw e;
    const message = (e as Error).message ?? String(e);
    const named = message.includes(file) ? message : `${file}: ${message}`;
    // The package's `fix` is left out: a bad input is reported in one line.
    const { fix: _fix, ...facts } = isDifflensError(e) ? e.facts : {};
    const at = typeof facts.file === "string" ? facts.file : file;
    throw new ReadoutsError("INPUT_INVALID", `${field}: ${named}`, { ...facts, file: at, field }, { cause: e });
  }
}
