/**
 * dictionary_learning folders (Marks et al.'s library; e.g. andyrdt's BatchTopK SAEs): `ae.pt`, a torch state dict
 * (encoder.weight [dSae, dIn], encoder.bias, decoder.weight [dIn, dSae], b_dec, k, threshold for BatchTopK), and
 * `config.json` (trainer.dict_class, activation_dim, dict_size, k).
 */
import { existsSync } from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { SaeError } from "../errors.ts";
import { Sae, type SaeActivation, type SaeWeights } from "../sae.ts";
import { readJson, transpose } from "./folder-io.ts";
import type { LoadSaeOptions } from "./formats.ts";
import { readTorchStateDict, type TorchTensor } from "./torch-load.ts";
import { writeTorchStateDict } from "./torch-save.ts";

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
