/**
 * A methods run folder (written by `runMethods`, methods-run/run-methods.ts, whose header lists its files) read back
 * and checked: methods.json, the headline directions, the toy's plants, the store's manifest and each method's files.
 * A method that methods.json does not list is `null` ("not run"); a listed one whose files are missing or malformed
 * is an error naming the file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  arr,
  asObject,
  field,
  invalid,
  type JsonObject,
  num,
  numbers,
  objects,
  readF32,
  readJsonObject,
  readTensors,
  str,
  strOrNull,
} from "./json-fields.ts";

export const METHODS_RUN_FORMAT = "difflens-methods-run";

/** methods.json's method keys, in the page's order. */
export const METHOD_KEYS = ["stagewise", "crosscoderBatchTopK", "crosscoderL1", "diffSae", "adl"] as const;
export type MethodKey = (typeof METHOD_KEYS)[number];

export const METHOD_TITLES: Readonly<Record<MethodKey, string>> = {
  stagewise: "stage-wise SAEs",
  crosscoderBatchTopK: "BatchTopK crosscoder",
  crosscoderL1: "L1 crosscoder",
  diffSae: "diff-SAE",
  adl: "ADL",
};

export interface HeadlineDirection {
  readonly name: string;
  readonly method: string;
  readonly label: string;
  readonly detail: unknown;
  readonly vector: Float32Array; // [dIn], unit
}

/** A method's ranked latents: the JSON rows and their unit directions [rows.length, dIn]. */
export interface LatentRows {
  readonly rows: JsonObject[];
  readonly directions: Float32Array;
}

export interface CrosscoderFiles extends LatentRows {
  readonly dir: string;
  readonly analysis: JsonObject;
  /** The checkpoint folder (absolute), null when the run kept none. */
  readonly checkpoint: string | null;
  /** [dSae]; NaN for a latent with both decoders zero. */
  readonly relativeNorms: number[];
}

export interface MethodsRun {
  readonly dir: string;
  readonly manifest: JsonObject;
  readonly base: string;
  readonly chat: string;
  readonly hook: string;
  readonly dIn: number;
  readonly timings: Readonly<Record<string, number>>;
  readonly toy: { readonly variant: string; readonly plants: readonly string[] } | null;
  /** Unit plant directions [dIn] by name (toy runs only). */
  readonly plants: ReadonlyMap<string, Float32Array>;
  readonly store: { readonly dir: string; readonly manifest: JsonObject } | null;
  readonly methodDirs: Readonly<Partial<Record<MethodKey, string>>>;
  readonly directions: readonly HeadlineDirection[];
  readonly stagewise: (LatentRows & { readonly file: JsonObject }) | null;
  readonly crosscoders: { readonly batchtopk: CrosscoderFiles | null; readonly l1: CrosscoderFiles | null };
  readonly diffSae: (LatentRows & { readonly file: JsonObject; readonly dir: string }) | null;
  readonly adl: { readonly file: JsonObject; readonly dir: string } | null;
}

export async function readMethodsRun(runDir: string): Promise<MethodsRun> {
  const dir = path.resolve(runDir);
  const file = path.join(dir, "methods.json");
  if (!fs.existsSync(file))
    throw invalid(file, "missing — not a methods run folder", { fix: "pass the folder `runMethods` wrote" });
  const m = readJsonObject(file);
  if (m.format !== METHODS_RUN_FORMAT)
    throw invalid(file, `format: expected "${METHODS_RUN_FORMAT}"`, { field: "format", got: m.format });
  const methodsField = asObject(field(m, "methods", file), file, "methods");
  const methodDirs: Partial<Record<MethodKey, string>> = {};
  for (const key of METHOD_KEYS)
    if (methodsField[key] !== undefined && methodsField[key] !== null)
      methodDirs[key] = path.join(dir, str(methodsField, key, file, "methods."));
  const timingsField = m.timings === undefined || m.timings === null ? {} : asObject(m.timings, file, "timings");
  const timings: Record<string, number> = {};
  for (const k of Object.keys(timingsField)) timings[k] = num(timingsField, k, file, "timings.");
  const toyField = m.toy === undefined || m.toy === null ? null : asObject(m.toy, file, "toy");
  const toy = toyField
    ? {
        variant: str(toyField, "variant", file, "toy."),
        plants: arr(toyField, "plants", file, "toy.").map(String),
      }
    : null;

  const storeName = typeof m.store === "string" ? m.store : null;
  const store = storeName
    ? { dir: path.join(dir, storeName), manifest: readJsonObject(path.join(dir, storeName, "manifest.json")) }
    : null;
  const storeDIn = typeof store?.manifest.dIn === "number" ? store.manifest.dIn : null;
  const { directions, dIn } = await readDirections(dir, storeDIn);
  const plants = new Map<string, Float32Array>();
  if (toy) {
    const t = await readF32(
      path.join(dir, "plants.safetensors"),
      Object.fromEntries(toy.plants.map((p) => [p, [dIn]])),
    );
    for (const p of toy.plants) plants.set(p, t[p]!);
  }

  const latentRows = async (folder: string, json: string, st: string, tensor: string, obj: JsonObject) => {
    const rows = objects(obj, "latents", path.join(folder, json));
    const t = await readF32(path.join(folder, st), { [tensor]: [rows.length, dIn] });
    return { rows, directions: t[tensor]! };
  };
  const stagewiseDir = methodDirs.stagewise;
  let stagewise: MethodsRun["stagewise"] = null;
  if (stagewiseDir) {
    const f = readJsonObject(path.join(stagewiseDir, "top-latents.json"));
    const rows = await latentRows(stagewiseDir, "top-latents.json", "top-latents.safetensors", "directions", f);
    stagewise = { ...rows, file: f };
  }
  const crosscoder = async (folder: string | undefined): Promise<CrosscoderFiles | null> => {
    if (!folder) return null;
    const aFile = path.join(folder, "analysis.json");
    const analysis = readJsonObject(aFile);
    const rows = await latentRows(folder, "analysis.json", "latents.safetensors", "chat_directions", analysis);
    const rFile = path.join(folder, "relative-norms.json");
    const relativeNorms = numbers(readJsonObject(rFile), "relativeNorms", rFile);
    const ck = strOrNull(analysis, "crosscoder", aFile);
    return { ...rows, dir: folder, analysis, checkpoint: ck === null ? null : path.resolve(folder, ck), relativeNorms };
  };
  let diffSae: MethodsRun["diffSae"] = null;
  if (methodDirs.diffSae) {
    const f = readJsonObject(path.join(methodDirs.diffSae, "top-latents.json"));
    const rows = await latentRows(methodDirs.diffSae, "top-latents.json", "top-latents.safetensors", "directions", f);
    diffSae = { ...rows, file: f, dir: methodDirs.diffSae };
  }
  const adl = methodDirs.adl
    ? { file: readJsonObject(path.join(methodDirs.adl, "adl.json")), dir: methodDirs.adl }
    : null;
  return {
    dir,
    manifest: m,
    base: str(m, "base", file),
    chat: str(m, "chat", file),
    hook: str(m, "hook", file),
    dIn,
    timings,
    toy,
    plants,
    store,
    methodDirs,
    directions,
    stagewise,
    crosscoders: {
      batchtopk: await crosscoder(methodDirs.crosscoderBatchTopK),
      l1: await crosscoder(methodDirs.crosscoderL1),
    },
    diffSae,
    adl,
  };
}

/**
 * directions.json (a list, or `{ directions: [...] }`) and the unit vectors of directions.safetensors; dIn is the
 * width of the first direction (of the store when there are none).
 */
async function readDirections(
  dir: string,
  storeDIn: number | null,
): Promise<{ directions: HeadlineDirection[]; dIn: number }> {
  const file = path.join(dir, "directions.json");
  if (!fs.existsSync(file)) throw invalid(file, "missing");
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw invalid(file, `not valid JSON (${(err as Error).message})`);
  }
  const list = Array.isArray(raw) ? raw : (asObject(raw, file, "(top level)").directions as unknown);
  if (!Array.isArray(list)) throw invalid(file, "expected a list of { name, method, label, detail }");
  const entries = list.map((v, i) => asObject(v, file, `[${i}]`));
  const names = entries.map((e, i) => str(e, "name", file, `[${i}].`));
  const sFile = path.join(dir, "directions.safetensors");
  const first = names.length > 0 ? (await readTensors(sFile))[names[0]!] : undefined;
  const dIn = first?.shape.length === 1 ? first.shape[0]! : (storeDIn ?? 0);
  const tensors = names.length > 0 ? await readF32(sFile, Object.fromEntries(names.map((n) => [n, [dIn]]))) : {};
  const directions = entries.map((e, i) => ({
    name: names[i]!,
    method: str(e, "method", file, `[${i}].`),
    label: str(e, "label", file, `[${i}].`),
    detail: e.detail ?? null,
    vector: tensors[names[i]!]!,
  }));
  return { directions, dIn };
}
