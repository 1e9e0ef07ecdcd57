import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { sha256File } from "@difflens/common";
import { Tensor, toFloat32Array } from "@difflens/tensor";
import { SaeError } from "../errors.ts";
import { type InputNormalization, Sae, type SaeActivation, type SaeWeights } from "../sae.ts";
import { readSafetensors, writeSafetensors } from "../safetensors-io.ts";
import { readTorchStateDict, type TorchTensor } from "./torch-load.ts";
import { writeTorchStateDict } from "./torch-save.ts";

/** The folder layouts we read. */
export type SaeFormat = "difflens" | "sparsify" | "saelens" | "dictionary_learning";

/** The file that holds each format's weights (what a lineage entry's sha256 is taken of). */
export const SAE_WEIGHTS_FILE: Readonly<Record<SaeFormat, string>> = Object.freeze({
  difflens: "sae.safetensors",
  sparsify: "sae.safetensors",
  saelens: "sae_weights.safetensors",
  dictionary_learning: "ae.pt",
});

export interface LoadSaeOptions {
  /** dictionary_learning BatchTopK: encode with its learned threshold (default, as the library does at inference) or with per-row top-k. */
  batchTopKUseThreshold?: boolean;
}

function readJson(file: string): Record<string, unknown> {
  try {
    const v = JSON.parse(readFileSync(file, "utf8"));
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v;
  } catch (err) {
    throw new SaeError("FORMAT_INVALID", `${file}: not a JSON object (${(err as Error).message})`, { file });
  }
}

/** Which format a folder holds, from its files and config; a clear error for anything else. */
/** sha256 of an SAE folder's weights file (`SAE_WEIGHTS_FILE` of its detected format): its identity in a lineage. */
export function saeWeightsSha256(dir: string): string {
  return sha256File(path.join(dir, SAE_WEIGHTS_FILE[detectSaeFormat(dir)]));
}

export function detectSaeFormat(dir: string): SaeFormat {
  const has = (f: string) => existsSync(path.join(dir, f));
  if (has("cfg.json") && has("sae.safetensors"))
    return readJson(path.join(dir, "cfg.json")).difflens ? "difflens" : "sparsify";
  if (has("cfg.json") && has("sae_weights.safetensors")) return "saelens";
  if (has("ae.pt")) return "dictionary_learning";
  const files = existsSync(dir) ? readFileSyncDir(dir) : [];
  throw new SaeError(
    "FORMAT_UNKNOWN",
    `${dir}: no SAE format recognised (found: ${files.join(", ") || "nothing"}); expected cfg.json + sae.safetensors (sparsify/difflens), cfg.json + sae_weights.safetensors (SAELens) or ae.pt (+ config.json) (dictionary_learning)`,
    { file: dir },
  );
}

function readFileSyncDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Loads an SAE folder of any supported format as an inference Sae. */
export async function loadSae(dir: string, opts: LoadSaeOptions = {}): Promise<Sae> {
  const format = detectSaeFormat(dir);
  if (format === "saelens") return loadSaeLens(dir);
  if (format === "dictionary_learning") return loadDictionaryLearning(dir, opts);
  return loadSparsify(dir);
}

async function tensorsOf(file: string): Promise<Record<string, Tensor>> {
  try {
    return (await readSafetensors(file)).tensors;
  } catch (err) {
    throw new SaeError("FORMAT_INVALID", `${file}: unreadable safetensors (${(err as Error).message})`, { file });
  }
}

function take(tensors: Record<string, Tensor>, name: string, shape: number[], file: string): Float32Array {
  const t = tensors[name];
  if (!t)
    throw new SaeError(
      "FORMAT_INVALID",
      `${file}: tensor "${name}" missing (has: ${Object.keys(tensors).join(", ")})`,
      { file, field: name },
    );
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new SaeError(
      "SHAPE_MISMATCH",
      `${file}: "${name}" has shape [${t.shape.join(", ")}], the config says [${shape.join(", ")}]`,
      { file, field: name, expected: shape, got: t.shape },
    );
  }
  return toFloat32Array(t).slice();
}

/** a [rows, cols] → [cols, rows], in 64 × 64 tiles (a 3584 × 131072 decoder in seconds, not minutes). */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  const TILE = 64;
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(cols, c0 + TILE);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = a[r * cols + c]!;
    }
  }
  return out;
}

function posInt(cfg: Record<string, unknown>, key: string, file: string): number {
  const v = cfg[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
    throw new SaeError("FORMAT_INVALID", `${file}: "${key}" must be a non-negative integer, got ${JSON.stringify(v)}`, {
      file,
      field: key,
    });
  return v;
}

// ---- sparsify (and our own folders, which extend it) ----

export async function loadSparsify(dir: string): Promise<Sae> {
  const cfgFile = path.join(dir, "cfg.json"),
    wFile = path.join(dir, "sae.safetensors");
  const cfg = readJson(cfgFile);
  const dIn = posInt(cfg, "d_in", cfgFile);
  const dSae = posInt(cfg, "num_latents", cfgFile) || dIn * posInt(cfg, "expansion_factor", cfgFile);
  const k = posInt(cfg, "k", cfgFile);
  const activation = cfg.activation ?? "topk";
  if (activation !== "topk")
    throw new SaeError(
      "UNSUPPORTED_ARCHITECTURE",
      `${cfgFile}: activation "${String(activation)}" is not supported for sparsify folders (topk only)`,
      { file: cfgFile, field: "activation" },
    );
  if (cfg.transcode === true || cfg.skip_connection === true)
    throw new SaeError(
      "UNSUPPORTED_ARCHITECTURE",
      `${cfgFile}: transcoders / skip connections are not SAEs we can splice (transcode=${cfg.transcode}, skip_connection=${cfg.skip_connection})`,
      { file: cfgFile },
    );
  const t = await tensorsOf(wFile);
  const weights: SaeWeights = {
    wEnc: take(t, "encoder.weight", [dSae, dIn], wFile),
    bEnc: take(t, "encoder.bias", [dSae], wFile),
    wDec: take(t, "W_dec", [dSae, dIn], wFile),
    bDec: take(t, "b_dec", [dIn], wFile),
  };
  const block = cfg.difflens as { hookName?: string | null } | undefined;
  return new Sae({ dIn, dSae, activation: { kind: "topk", k }, hookName: block?.hookName ?? null }, weights);
}

/** Writes a TopK SAE as a sparsify hookpoint folder (cfg.json + sae.safetensors). */
export async function writeSparsify(dir: string, sae: Sae): Promise<void> {
  if (sae.activation.kind !== "topk")
    throw new SaeError(
      "UNSUPPORTED_ARCHITECTURE",
      `sparsify folders hold TopK SAEs; this one is ${sae.activation.kind}`,
    );
  await fsp.mkdir(dir, { recursive: true });
  const { dIn, dSae } = sae,
    w = sae.weights;
  await writeSafetensors(
    path.join(dir, "sae.safetensors"),
    {
      "encoder.weight": new Tensor("f32", [dSae, dIn], w.wEnc),
      "encoder.bias": new Tensor("f32", [dSae], w.bEnc),
      W_dec: new Tensor("f32", [dSae, dIn], w.wDec),
      b_dec: new Tensor("f32", [dIn], w.bDec),
    },
    { format: "pt" },
  );
  const cfg = {
    activation: "topk",
    expansion_factor: Math.max(1, Math.round(dSae / dIn)),
    normalize_decoder: true,
    num_latents: dSae,
    k: sae.activation.k,
    multi_topk: false,
    skip_connection: false,
    transcode: false,
    d_in: dIn,
  };
  await fsp.writeFile(path.join(dir, "cfg.json"), JSON.stringify(cfg));
}

// ---- SAELens ----

export async function loadSaeLens(dir: string): Promise<Sae> {
  const cfgFile = path.join(dir, "cfg.json"),
    wFile = path.join(dir, "sae_weights.safetensors");
  const cfg = readJson(cfgFile);
  const dIn = posInt(cfg, "d_in", cfgFile),
    dSae = posInt(cfg, "d_sae", cfgFile);
  const meta = (cfg.metadata ?? {}) as Record<string, unknown>;
  // Pre-6 configs: activation_fn_str (+ activation_fn_kwargs.k); v6: architecture (+ k).
  const kwargs = (cfg.activation_fn_kwargs ?? {}) as Record<string, unknown>;
  let arch = String(cfg.architecture ?? "standard");
  const actFn = String(cfg.activation_fn ?? cfg.activation_fn_str ?? "relu");
  const k = typeof cfg.k === "number" ? cfg.k : typeof kwargs.k === "number" ? kwargs.k : undefined;
  if (actFn === "topk" && k !== undefined) arch = "topk";
  const t = await tensorsOf(wFile);
  const wEnc = transpose(take(t, "W_enc", [dIn, dSae], wFile), dIn, dSae);
  const weights: SaeWeights = {
    wEnc,
    bEnc: take(t, "b_enc", [dSae], wFile),
    wDec: take(t, "W_dec", [dSae, dIn], wFile),
    bDec: take(t, "b_dec", [dIn], wFile),
  };
  let activation: SaeActivation;
  if (arch === "topk") {
    if (k === undefined)
      throw new SaeError("FORMAT_INVALID", `${cfgFile}: topk architecture without k`, { file: cfgFile, field: "k" });
    activation = { kind: "topk", k };
    if (cfg.rescale_acts_by_decoder_norm === true) foldDecoderNorms(weights, dIn, dSae);
  } else if (arch === "standard" && actFn === "relu") activation = { kind: "relu" };
  else if (arch === "jumprelu") activation = { kind: "jumprelu", threshold: take(t, "threshold", [dSae], wFile) };
  else
    throw new SaeError(
      "UNSUPPORTED_ARCHITECTURE",
      `${cfgFile}: SAELens architecture "${arch}" with activation "${actFn}" is not supported (topk, standard relu, jumprelu)`,
      { file: cfgFile, field: "architecture", got: arch },
    );
  const norm = String(cfg.normalize_activations ?? "none");
  // SAELens folds expected_average_only_in into the weights when it saves, so it is a no-op here.
  const normMap: Record<string, InputNormalization> = {
    none: "none",
    expected_average_only_in: "none",
    layer_norm: "layer_norm",
    constant_norm_rescale: "constant_norm_rescale",
  };
  if (!(norm in normMap))
    throw new SaeError("UNSUPPORTED_ARCHITECTURE", `${cfgFile}: normalize_activations "${norm}" is not supported`, {
      file: cfgFile,
      field: "normalize_activations",
    });
  const hookName = (cfg.hook_name ?? meta.hook_name ?? null) as string | null;
  return new Sae(
    {
      dIn,
      dSae,
      activation,
      applyBDecToInput: cfg.apply_b_dec_to_input !== false,
      inputNormalization: normMap[norm]!,
      hookName,
    },
    weights,
  );
}

/** SAELens v6 TopK with rescale_acts_by_decoder_norm: fold ‖Wdec_i‖ into the encoder and unit-normalise the decoder (same function). */
function foldDecoderNorms(w: SaeWeights, dIn: number, dSae: number): void {
  for (let j = 0; j < dSae; j++) {
    let ss = 0;
    for (let i = 0; i < dIn; i++) ss += w.wDec[j * dIn + i]! ** 2;
    const n = Math.sqrt(ss);
    if (n === 0) continue;
    for (let i = 0; i < dIn; i++) {
      w.wEnc[j * dIn + i]! *= n;
      w.wDec[j * dIn + i]! /= n;
    }
    w.bEnc[j]! *= n;
  }
}

/** Writes a TopK SAE as a SAELens v6 folder that SAELens loads (cfg.json + sae_weights.safetensors). */
export async function writeSaeLens(
  dir: string,
  sae: Sae,
  meta: { hookName?: string; modelName?: string } = {},
): Promise<void> {
  if (sae.activation.kind !== "topk")
    throw new SaeError("UNSUPPORTED_ARCHITECTURE", `writeSaeLens writes TopK SAEs; this one is ${sae.activation.kind}`);
  await fsp.mkdir(dir, { recursive: true });
  const { dIn, dSae } = sae,
    w = sae.weights;
  await writeSafetensors(
    path.join(dir, "sae_weights.safetensors"),
    {
      W_enc: new Tensor("f32", [dIn, dSae], transpose(w.wEnc, dSae, dIn)),
      b_enc: new Tensor("f32", [dSae], w.bEnc),
      W_dec: new Tensor("f32", [dSae, dIn], w.wDec),
      b_dec: new Tensor("f32", [dIn], w.bDec),
    },
    { format: "pt" },
  );
  const cfg = {
    architecture: "topk",
    d_in: dIn,
    d_sae: dSae,
    dtype: "float32",
    device: "cpu",
    apply_b_dec_to_input: sae.applyBDecToInput,
    normalize_activations: "none",
    reshape_activations: "none",
    k: sae.activation.k,
    rescale_acts_by_decoder_norm: false,
    metadata: {
      sae_lens_version: "6.18.0",
      hook_name: meta.hookName ?? sae.hookName ?? "",
      model_name: meta.modelName ?? "",
    },
  };
  await fsp.writeFile(path.join(dir, "cfg.json"), JSON.stringify(cfg));
}

// ---- dictionary_learning ----

export async function loadDictionaryLearning(dir: string, opts: LoadSaeOptions = {}): Promise<Sae> {
  const ptFile = path.join(dir, "ae.pt"),
    cfgFile = path.join(dir, "config.json");
  const cfg = existsSync(cfgFile) ? readJson(cfgFile) : {};
  const trainer = (cfg.trainer ?? {}) as Record<string, unknown>;
  const sd = readTorchStateDict(ptFile);
  const get = (name: string): TorchTensor => {
    const t = sd.get(name);
    if (!t)
      throw new SaeError(
        "FORMAT_INVALID",
        `${ptFile}: state dict has no "${name}" (has: ${[...sd.keys()].join(", ")})`,
        { file: ptFile, field: name },
      );
    return t;
  };
  const enc = get("encoder.weight");
  if (enc.shape.length !== 2)
    throw new SaeError(
      "SHAPE_MISMATCH",
      `${ptFile}: encoder.weight has shape [${enc.shape.join(", ")}], expected [dict_size, activation_dim]`,
      { file: ptFile },
    );
  const [dSae, dIn] = enc.shape as [number, number];
  for (const [key, want] of [
    ["activation_dim", dIn],
    ["dict_size", dSae],
  ] as const) {
    if (typeof trainer[key] === "number" && trainer[key] !== want) {
      throw new SaeError(
        "SHAPE_MISMATCH",
        `${cfgFile}: trainer.${key}=${trainer[key]} disagrees with ae.pt (encoder.weight [${dSae}, ${dIn}])`,
        { file: cfgFile, field: `trainer.${key}`, expected: want, got: trainer[key] },
      );
    }
  }
  const f32 = (name: string, shape: number[]): Float32Array => {
    const t = get(name);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw new SaeError(
        "SHAPE_MISMATCH",
        `${ptFile}: "${name}" has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]`,
        { file: ptFile, field: name },
      );
    return t.values instanceof Float32Array ? t.values : Float32Array.from(t.values);
  };
  const weights: SaeWeights = {
    wEnc: f32("encoder.weight", [dSae, dIn]),
    bEnc: f32("encoder.bias", [dSae]),
    wDec: transpose(f32("decoder.weight", [dIn, dSae]), dIn, dSae),
    bDec: f32("b_dec", [dIn]),
  };
  const dictClass = String(trainer.dict_class ?? (sd.has("threshold") ? "BatchTopKSAE" : "AutoEncoderTopK"));
  const kFromFile = sd.get("k")?.values[0];
  const k = kFromFile ?? (typeof trainer.k === "number" ? trainer.k : undefined);
  if (k === undefined)
    throw new SaeError("FORMAT_INVALID", `${dir}: no k in ae.pt or config.json`, { file: ptFile, field: "k" });
  if (typeof trainer.k === "number" && kFromFile !== undefined && trainer.k !== kFromFile)
    throw new SaeError("SHAPE_MISMATCH", `${dir}: k=${kFromFile} in ae.pt but trainer.k=${trainer.k} in config.json`, {
      file: cfgFile,
      field: "k",
    });
  let activation: SaeActivation;
  if (dictClass === "BatchTopKSAE") {
    const threshold = sd.get("threshold")?.values[0];
    const useThreshold = (opts.batchTopKUseThreshold ?? true) && threshold !== undefined && threshold >= 0;
    activation = { kind: "batchtopk", k, threshold: threshold ?? -1, useThreshold };
  } else if (dictClass === "AutoEncoderTopK") activation = { kind: "topk", k };
  else
    throw new SaeError(
      "UNSUPPORTED_ARCHITECTURE",
      `${cfgFile}: dict_class "${dictClass}" is not supported (AutoEncoderTopK, BatchTopKSAE)`,
      { file: cfgFile, field: "dict_class" },
    );
  return new Sae({ dIn, dSae, activation, hookName: null }, weights);
}

/**
 * Writes a BatchTopK (or TopK) SAE as a dictionary_learning folder that the library loads: ae.pt (its state dict:
 * encoder.weight [dSae, dIn], encoder.bias, decoder.weight [dIn, dSae], b_dec, k, and threshold for BatchTopK) and
 * config.json (trainer.dict_class, activation_dim, dict_size, k).
 */
export async function writeDictionaryLearning(dir: string, sae: Sae): Promise<void> {
  const act = sae.activation;
  if (act.kind !== "batchtopk" && act.kind !== "topk")
    throw new SaeError(
      "UNSUPPORTED_ARCHITECTURE",
      `dictionary_learning folders hold (Batch)TopK SAEs; this one is ${act.kind}`,
    );
  if (sae.inputNormalization !== "none" || !sae.applyBDecToInput)
    throw new SaeError("UNSUPPORTED_ARCHITECTURE", "dictionary_learning SAEs subtract b_dec and normalise nothing");
  await fsp.mkdir(dir, { recursive: true });
  const { dIn, dSae } = sae;
  const w = sae.weights;
  const f32 = (shape: number[], data: Float32Array) => ({ dtype: "f32" as const, shape, data });
  const tensors: [string, Parameters<typeof writeTorchStateDict>[1][number][1]][] = [
    ["encoder.weight", f32([dSae, dIn], w.wEnc)],
    ["encoder.bias", f32([dSae], w.bEnc)],
    ["decoder.weight", f32([dIn, dSae], transpose(w.wDec, dSae, dIn))],
    ["b_dec", f32([dIn], w.bDec)],
    ["k", { dtype: "i64", shape: [], data: BigInt64Array.of(BigInt(act.k)) }],
  ];
  if (act.kind === "batchtopk") tensors.push(["threshold", f32([], Float32Array.of(act.threshold))]);
  writeTorchStateDict(path.join(dir, "ae.pt"), tensors);
  const dictClass = act.kind === "batchtopk" ? "BatchTopKSAE" : "AutoEncoderTopK";
  const trainer = { dict_class: dictClass, activation_dim: dIn, dict_size: dSae, k: act.k };
  await fsp.writeFile(path.join(dir, "config.json"), JSON.stringify({ trainer }, null, 2));
}
