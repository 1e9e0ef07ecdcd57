/**
 * PEFT LoRA adapters: read (`adapter_config.json` + `adapter_model.safetensors`), merge into a model as
 * W + s·B·A with s = alpha/r (alpha/√r with rsLoRA; per-module rank_pattern/alpha_pattern), and write.
 * Keys: `base_model.model.<module>.lora_A.weight` [r, in] and `…lora_B.weight` [out, r] (an adapter name such
 * as `.default` before `.weight` is accepted when reading).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeJsonAtomic } from "@difflens/common";
import {
  cast,
  type DType,
  gemm,
  readSafetensors,
  release,
  Tensor,
  toDevice,
  toFloat32Array,
  toHost,
  writeSafetensors,
} from "@difflens/tensor";
import { LoraError } from "../errors.ts";
import type { DecoderConfig, DecoderWeights } from "../families/model-family.ts";
import { Model } from "../model.ts";
import { mapSource } from "../tensor-source.ts";
import { fmtShape } from "../tensor-utils.ts";

/** The adapter_config.json fields the merge uses. */
export interface LoraConfig {
  /** Default rank. */
  readonly r: number;
  /** Default alpha. */
  readonly loraAlpha: number;
  /** Module names (a module matches when its name equals one or ends with "." + one) or one regex (full match). */
  readonly targetModules: readonly string[] | string;
  /** Scale alpha/√r instead of alpha/r. */
  readonly useRslora: boolean;
  /** Per-module rank overrides: key matches a module name by `(.*\.)?key$`. */
  readonly rankPattern: Readonly<Record<string, number>>;
  /** Per-module alpha overrides, matched like rankPattern. */
  readonly alphaPattern: Readonly<Record<string, number>>;
  /** The base model the adapter was trained on (informational). */
  readonly baseModel: string | null;
}

export interface LoraModule {
  readonly a: Tensor; // [r, in]
  readonly b: Tensor; // [out, r]
  readonly rank: number;
  readonly alpha: number;
  /** alpha/r or alpha/√r. */
  readonly scale: number;
}

export interface LoraAdapter {
  readonly config: LoraConfig;
  /** Module name (e.g. model.layers.0.self_attn.q_proj) → its pair. */
  readonly modules: ReadonlyMap<string, LoraModule>;
  readonly source: string;
}

function patternValue(patterns: Readonly<Record<string, number>>, module: string, fallback: number): number {
  for (const [key, value] of Object.entries(patterns))
    if (new RegExp(`^(.*\\.)?(?:${key})$`).test(module)) return value;
  return fallback;
}

export function moduleTargeted(module: string, targets: readonly string[] | string): boolean {
  if (typeof targets === "string") return new RegExp(`^(?:${targets})$`).test(module);
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

/** Rank, alpha and scale of a module under a config. */
export function loraScaling(config: LoraConfig, module: string): { rank: number; alpha: number; scale: number } {
  const rank = patternValue(config.rankPattern, module, config.r);
  const alpha = patternValue(config.alphaPattern, module, config.loraAlpha);
  return { rank, alpha, scale: config.useRslora ? alpha / Math.sqrt(rank) : alpha / rank };
}

/** Validates adapter_config.json (PEFT names) into a LoraConfig. Unsupported variants are errors, not ignored. */
export function loraConfigFromPeft(json: Record<string, unknown>, file = "adapter_config.json"): LoraConfig {
  const fail = (field: string, msg: string): never => {
    throw new LoraError("LORA_CONFIG", `${file}: ${msg}`, { file, field, got: json[field] });
  };
  if (json.peft_type !== undefined && json.peft_type !== "LORA")
    fail("peft_type", `peft_type ${JSON.stringify(json.peft_type)} is not LORA`);
  if (!Number.isInteger(json.r) || (json.r as number) <= 0)
    fail("r", `"r" must be a positive integer, got ${JSON.stringify(json.r)}`);
  const alpha = json.lora_alpha ?? json.r;
  if (typeof alpha !== "number" || !(alpha > 0)) fail("lora_alpha", `"lora_alpha" must be a positive number`);
  const targets = json.target_modules;
  if (
    !(
      typeof targets === "string" ||
      (Array.isArray(targets) && targets.length > 0 && targets.every((t) => typeof t === "string"))
    )
  ) {
    fail("target_modules", `"target_modules" must be a non-empty list of module names or a regex string`);
  }
  if (json.use_dora === true) fail("use_dora", "DoRA adapters (use_dora: true) are not supported");
  if (json.bias !== undefined && json.bias !== "none")
    fail("bias", `bias "${String(json.bias)}" is not supported (only "none")`);
  if (json.fan_in_fan_out === true)
    fail("fan_in_fan_out", "fan_in_fan_out: true is for Conv1D models (GPT-2), not these decoders");
  if (Array.isArray(json.modules_to_save) && json.modules_to_save.length > 0)
    fail("modules_to_save", `modules_to_save ${JSON.stringify(json.modules_to_save)} is not supported`);
  const patterns = (field: string): Record<string, number> => {
    const v = json[field] ?? {};
    if (typeof v !== "object" || v === null || Object.values(v).some((x) => typeof x !== "number"))
      fail(field, `"${field}" must map module names to numbers`);
    return { ...(v as Record<string, number>) };
  };
  return Object.freeze({
    r: json.r as number,
    loraAlpha: alpha as number,
    targetModules: Array.isArray(targets) ? Object.freeze([...(targets as string[])]) : (targets as string),
    useRslora: json.use_rslora === true,
    rankPattern: Object.freeze(patterns("rank_pattern")),
    alphaPattern: Object.freeze(patterns("alpha_pattern")),
    baseModel: typeof json.base_model_name_or_path === "string" ? json.base_model_name_or_path : null,
  });
}

const KEY = /^base_model\.model\.(.+)\.lora_([AB])(?:\.[\w-]+)?\.weight$/;

/** Reads a PEFT LoRA folder; checks that A/B pairs are complete and their ranks agree with the config. */
export async function loadLoraAdapter(dir: string): Promise<LoraAdapter> {
  const cfgFile = path.join(dir, "adapter_config.json");
  if (!fs.existsSync(cfgFile))
    throw new LoraError("LORA_CONFIG", `${dir}: no adapter_config.json (not a PEFT adapter folder)`, { file: cfgFile });
  const config = loraConfigFromPeft(JSON.parse(fs.readFileSync(cfgFile, "utf8")) as Record<string, unknown>, cfgFile);
  const weightsFile = path.join(dir, "adapter_model.safetensors");
  if (!fs.existsSync(weightsFile))
    throw new LoraError(
      "LORA_CONFIG",
      `${dir}: no adapter_model.safetensors${fs.existsSync(path.join(dir, "adapter_model.bin")) ? " (adapter_model.bin, a pickle, is not read: convert it to safetensors)" : ""}`,
      { file: weightsFile },
    );
  const { tensors } = await readSafetensors(weightsFile);
  const pairs = new Map<string, { a?: Tensor; b?: Tensor }>();
  for (const [name, t] of Object.entries(tensors)) {
    const m = KEY.exec(name);
    if (!m)
      throw new LoraError(
        "LORA_CONFIG",
        `${weightsFile}: unexpected tensor "${name}" (expected base_model.model.<module>.lora_A|lora_B.weight; embedding LoRA and extra modules are not supported)`,
        { file: weightsFile, tensor: name },
      );
    const entry = pairs.get(m[1]!) ?? {};
    if (m[2] === "A") entry.a = t;
    else entry.b = t;
    pairs.set(m[1]!, entry);
  }
  const modules = new Map<string, LoraModule>();
  for (const [module, { a, b }] of pairs) {
    if (!a || !b)
      throw new LoraError(
        "LORA_SHAPE",
        `${weightsFile}: module ${module} has lora_${a ? "A" : "B"} but no lora_${a ? "B" : "A"}`,
        { file: weightsFile, tensor: module },
      );
    const { rank, alpha, scale } = loraScaling(config, module);
    if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[0] !== rank || b.shape[1] !== rank) {
      throw new LoraError(
        "LORA_SHAPE",
        `${weightsFile}: ${module}: lora_A ${fmtShape(a.shape)} / lora_B ${fmtShape(b.shape)} do not have rank ${rank} from adapter_config (r / rank_pattern)`,
        { file: weightsFile, tensor: module, expected: rank, got: [a.shape, b.shape] },
      );
    }
    modules.set(module, { a, b, rank, alpha, scale });
  }
  return { config, modules, source: dir };
}

/** Linear modules of a model by name (model.layers.L.self_attn.q_proj …: its family's `linearModules`) with their weight. */
function linearModules<C extends DecoderConfig, W extends DecoderWeights>(model: Model<C, W>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const suffixes = model.family.linearModules;
  const layer = /^model\.layers\.\d+\.(.+)\.weight$/;
  for (const [name, t] of model.family.weightEntries(model.config, model.hostWeights)) {
    const m = layer.exec(name);
    if (m && suffixes.includes(m[1]!)) out.set(name.slice(0, -".weight".length), t);
  }
  return out;
}

/**
 * Merges an adapter: W' = W + s·B·A computed in f32 (one matrix at a time, on the current backend's device), cast
 * back to W's stored dtype and kept on the host (`hostWeights`); the new Model uploads them like any model. Unchanged
 * weights are shared. Target modules or adapter modules the model lacks are errors listing the modules that exist;
 * every check runs before any compute.
 */
export async function mergeLora<C extends DecoderConfig, W extends DecoderWeights>(
  model: Model<C, W>,
  adapter: LoraAdapter,
): Promise<Model<C, W>> {
  const linear = linearModules(model);
  const suffixes = [...new Set([...linear.keys()].map((m) => m.split(".").pop()!))];
  if (Array.isArray(adapter.config.targetModules)) {
    for (const t of adapter.config.targetModules as string[]) {
      if (![...linear.keys()].some((m) => moduleTargeted(m, [t]))) {
        throw new LoraError(
          "LORA_TARGET_MISSING",
          `${adapter.source}: target module "${t}" does not exist in this ${model.config.architecture} model; its linear modules are ${suffixes.join(", ")} (e.g. model.layers.0.self_attn.q_proj)`,
          { got: t, expected: suffixes },
        );
      }
    }
  }
  const entries = model.family.weightEntries(model.config, model.hostWeights);
  const merges: Array<[string, Tensor, LoraModule]> = [];
  for (const [module, lora] of adapter.modules) {
    const w = linear.get(module);
    if (!w) {
      throw new LoraError(
        "LORA_TARGET_MISSING",
        `${adapter.source}: adapter module "${module}" does not exist in this ${model.config.architecture} model (an adapter for another architecture?); its linear modules are ${suffixes.join(", ")} in model.layers.0..${model.config.nLayers - 1}`,
        { got: module, expected: suffixes },
      );
    }
    const [out, inDim] = w.shape as [number, number];
    if (lora.a.shape[1] !== inDim || lora.b.shape[0] !== out) {
      throw new LoraError(
        "LORA_SHAPE",
        `${adapter.source}: ${module}: B·A is [${lora.b.shape[0]}, ${lora.a.shape[1]}], the weight is ${fmtShape(w.shape)}`,
        { tensor: module, expected: w.shape, got: [lora.b.shape[0], lora.a.shape[1]] },
      );
    }
    merges.push([module, w, lora]);
  }
  for (const [module, w, lora] of merges) {
    const b = toDevice(new Tensor("f32", lora.b.shape, Float32Array.from(toFloat32Array(lora.b))));
    const a = toDevice(lora.a);
    const merged = toDevice(new Tensor("f32", w.shape, Float32Array.from(toFloat32Array(w)))); // [out, in]
    gemm(b, a, { alpha: lora.scale, beta: 1, out: merged });
    const stored = w.dtype === "f32" ? merged : cast(merged, w.dtype as DType);
    entries.set(`${module}.weight`, await toHost(stored));
    for (const t of new Set([b, a, merged, stored])) if (t !== lora.a) release(t); // our device copies (host: no-op)
  }
  const weights = model.family.bindWeights(
    model.config,
    mapSource(entries, `${model.folder ?? "model"} + LoRA ${adapter.source}`),
  );
  return new Model({
    config: model.config,
    family: model.family,
    weights,
    dtype: model.dtype,
    generation: model.generation,
    folder: model.folder,
  });
}

/** What `writeLoraAdapter` writes: PEFT config fields (defaults filled) and A/B per module name. */
export interface LoraAdapterSpec {
  readonly r: number;
  readonly loraAlpha: number;
  readonly targetModules: readonly string[];
  readonly useRslora?: boolean;
  readonly rankPattern?: Readonly<Record<string, number>>;
  readonly alphaPattern?: Readonly<Record<string, number>>;
  readonly baseModel?: string | null;
  /** module (e.g. model.layers.3.mlp.down_proj) → A [r, in], B [out, r]. */
  readonly modules: Readonly<Record<string, { a: Tensor; b: Tensor }>>;
}

/** Writes a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) that PEFT and loadLoraAdapter read. */
export async function writeLoraAdapter(dir: string, spec: LoraAdapterSpec): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const tensors: Record<string, Tensor> = {};
  for (const [module, { a, b }] of Object.entries(spec.modules)) {
    tensors[`base_model.model.${module}.lora_A.weight`] = a;
    tensors[`base_model.model.${module}.lora_B.weight`] = b;
  }
  await writeSafetensors(path.join(dir, "adapter_model.safetensors"), tensors, { format: "pt" });
  writeJsonAtomic(path.join(dir, "adapter_config.json"), {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    base_model_name_or_path: spec.baseModel ?? null,
    r: spec.r,
    lora_alpha: spec.loraAlpha,
    target_modules: [...spec.targetModules],
    use_rslora: spec.useRslora ?? false,
    rank_pattern: spec.rankPattern ?? {},
    alpha_pattern: spec.alphaPattern ?? {},
    lora_dropout: 0,
    bias: "none",
    fan_in_fan_out: false,
    use_dora: false,
    modules_to_save: null,
    layers_to_transform: null,
    inference_mode: true,
  });
}
