import { existsSync, readdirSync } from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { sha256File } from "@difflens/common";
import { Tensor, toFloat32Array } from "@difflens/tensor";
import { SaeError } from "../errors.ts";
import { type InputNormalization, Sae, type SaeActivation, type SaeWeights } from "../sae.ts";
import { readSafetensors, writeSafetensors } from "../safetensors-io.ts";
import { loadDictionaryLearning } from "./dictionary-learning.ts";
import { readJson, transpose } from "./folder-io.ts";
import { GEMMA_SCOPE_FILE, loadGemmaScope } from "./gemma-scope.ts";
import { isQwenScopeFile, loadQwenScope, qwenScopeLayerFiles } from "./qwen-scope.ts";

/**
 * The layouts we read: folders, except `qwen_scope`, which is one `layer{n}.sae.pt` file (its repo holds every
 * layer side by side).
 */
export type SaeFormat = "difflens" | "sparsify" | "saelens" | "dictionary_learning" | "gemma_scope" | "qwen_scope";

/**
 * The file that holds each format's weights (what a lineage entry's sha256 is taken of), relative to the path
 * `detectSaeFormat` was given ("" for qwen_scope: that path is the weights file).
 */
export const SAE_WEIGHTS_FILE: Readonly<Record<SaeFormat, string>> = Object.freeze({
  difflens: "sae.safetensors",
  sparsify: "sae.safetensors",
  saelens: "sae_weights.safetensors",
  dictionary_learning: "ae.pt",
  gemma_scope: GEMMA_SCOPE_FILE,
  qwen_scope: "",
});

export interface LoadSaeOptions {
  /** dictionary_learning BatchTopK: encode with its learned threshold (default, as the library does at inference) or with per-row top-k. */
  batchTopKUseThreshold?: boolean;
  /** Gemma Scope: read 2-byte void `.npy` arrays as bfloat16 (ml_dtypes saves bfloat16 so). Default false: refused. */
  npyVoidAsBf16?: boolean;
  /** Qwen Scope: top-k when the path does not name the repo's `L0_{k}`. */
  k?: number;
  /** Qwen Scope: subtract b_dec before the encoder (default false; see qwen-scope.ts). */
  applyBDecToInput?: boolean;
}

/** sha256 of an SAE folder's weights file (`SAE_WEIGHTS_FILE` of its detected format): its identity in a lineage. */
export function saeWeightsSha256(dir: string): string {
  return sha256File(path.join(dir, SAE_WEIGHTS_FILE[detectSaeFormat(dir)]));
}

/** Which format a folder holds, from its files and config; a clear error for anything else. */
export function detectSaeFormat(dir: string): SaeFormat {
  if (isQwenScopeFile(dir)) return "qwen_scope";
  const has = (f: string) => existsSync(path.join(dir, f));
  if (has("cfg.json") && has("sae.safetensors"))
    return readJson(path.join(dir, "cfg.json")).difflens ? "difflens" : "sparsify";
  if (has("cfg.json") && has("sae_weights.safetensors")) return "saelens";
  if (has("ae.pt")) return "dictionary_learning";
  if (has(GEMMA_SCOPE_FILE)) return "gemma_scope";
  const layers = qwenScopeLayerFiles(dir);
  if (layers.length > 0)
    throw new SaeError(
      "FORMAT_UNKNOWN",
      `${dir} is a Qwen Scope repo (${layers.length} layer files); pass one layer's file, e.g. ${path.join(dir, layers[0]!)}`,
      { file: dir },
    );
  if (has("crosscoder.safetensors"))
    throw new SaeError(
      "FORMAT_INVALID",
      `${dir} is a crosscoder checkpoint (cfg.json + crosscoder.safetensors), not an SAE; load it with loadCrosscoder`,
      { file: dir },
    );
  const files = existsSync(dir) ? readFileSyncDir(dir) : [];
  throw new SaeError(
    "FORMAT_UNKNOWN",
    `${dir}: no SAE format recognised (found: ${files.join(", ") || "nothing"}); expected cfg.json + sae.safetensors (sparsify/difflens), cfg.json + sae_weights.safetensors (SAELens), ae.pt (+ config.json) (dictionary_learning), params.npz (Gemma Scope) or a layer{n}.sae.pt file (Qwen Scope)`,
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
  if (format === "gemma_scope") return loadGemmaScope(dir, { voidAsBf16: opts.npyVoidAsBf16 ?? false });
  if (format === "qwen_scope")
    return loadQwenScope(dir, {
      ...(opts.k === undefined ? {} : { k: opts.k }),
      ...(opts.applyBDecToInput === undefined ? {} : { applyBDecToInput: opts.applyBDecToInput }),
    });
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
  else if (arch === "jumprelu") activation = { kind: "jumprelu", threshold: jumpReluThreshold(cfg, t, dSae, wFile) };
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
  // v6: metadata.hook_name; before 6: hook_name, and hook_point before that.
  const hookName = (cfg.hook_name ?? meta.hook_name ?? cfg.hook_point ?? null) as string | null;
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

/**
 * A JumpReLU SAE's per-latent threshold: the `threshold` tensor (Gemma Scope conversions, SAELens training), else the
 * scalar `jump_relu_threshold` of the config for every latent (Llama Scope conversions).
 */
function jumpReluThreshold(
  cfg: Record<string, unknown>,
  t: Record<string, Tensor>,
  dSae: number,
  wFile: string,
): Float32Array {
  const scalar = cfg.jump_relu_threshold;
  if (t.threshold === undefined && typeof scalar === "number") return new Float32Array(dSae).fill(scalar);
  return take(t, "threshold", [dSae], wFile);
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
