/**
 * `runMethods`: every method beside stage-wise diffing on one pair, into one run folder that a methods report reads
 * (the contract: /work/briefs/methods-contract.md; README "methods-report"):
 *   methods.json            format "difflens-methods-run" v1: config, toy, base, chat, hook, store, timings (s),
 *                           methods {name: folder} (a method not run is absent), reused (units taken as they were)
 *   plants.safetensors      the toy's unit planted directions at the hook, one F32 [dIn] per name (toy only)
 *   store/                  one paired harvest (base + chat, shared masks)
 *   crosscoder-batchtopk/, crosscoder-l1/   runCrosscoderMethod's folder + relative-norms.json {relativeNorms}
 *   adl/, diff-sae/         runDiffMethods' folders
 *   stagewise/              stagewise-method.ts
 *   directions.safetensors + directions.json   every method's headline directions (directions.ts)
 * Each unit is reused when its folder's recorded hash matches (inputs unchanged), else redone (method-folder.ts);
 * the store's hash is part of every method's, so a new harvest redoes them all.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { AppKitError, describeModelRef, isNonEmptyFolder, type ModelPair } from "@difflens/app-kit";
import { writeJsonAtomic } from "@difflens/common";
import { Tensor, writeSafetensors } from "@difflens/tensor";
import type { DiffingConfig } from "../config/diffing-config.ts";
import { type MethodName, resolveMethodsConfig } from "../config/methods-config.ts";
import { collectDirections, writeDirections } from "./directions.ts";
import { METHOD_RECORD } from "./method-folder.ts";
import {
  crosscoderUnit,
  diffUnit,
  METHOD_FOLDERS,
  type MethodsProgress,
  pairIdentity,
  stagewiseUnit,
  storeUnit,
  type UnitContext,
  type UnitResult,
} from "./method-units.ts";
import { methodsPair, openMethodsModels } from "./methods-pair.ts";

export { METHOD_FOLDERS, type MethodsProgress };
export const METHODS_RUN_FORMAT = "difflens-methods-run";
export const METHODS_RUN_VERSION = 1;

export interface MethodsRunOptions {
  readonly outDir: string;
  readonly onProgress?: (p: MethodsProgress) => void;
  readonly log?: (line: string) => void;
}

export interface MethodsRunSummary {
  readonly runDir: string;
  readonly timings: Readonly<Record<string, number>>;
  readonly methods: Readonly<Partial<Record<MethodName, string>>>;
  /** Units reused from an earlier run with the same inputs ("store" and method names). */
  readonly reused: readonly string[];
  readonly directions: number;
  readonly wallS: number;
}

/** Runs the methods of `config.methods` (defaults when the section is absent) into `opts.outDir`. */
export async function runMethods(config: DiffingConfig, opts: MethodsRunOptions): Promise<MethodsRunSummary> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const outDir = path.resolve(opts.outDir);
  refuseForeignFolder(outDir);
  const methods = config.methods ?? resolveMethodsConfig("methods", {}, path.dirname(config.file ?? outDir));
  const pair = await methodsPair(config, methods, log);
  fs.mkdirSync(outDir, { recursive: true });
  let models: ModelPair | null = null;
  const open = async () => (models ??= await openMethodsModels(pair));
  const progress = opts.onProgress ?? (() => {});
  const ctx: UnitContext = {
    outDir,
    config,
    methods,
    pair,
    pairId: pairIdentity(pair, config, methods.toy !== null),
    open,
    progress,
    log,
  };
  const timings: Record<string, number> = {};
  const ran: Partial<Record<MethodName, string>> = {};
  const reused: string[] = [];
  /** Records a finished unit: its methods' folders and seconds (its parts' when it times them), reused or not. */
  const done = (names: ("store" | MethodName)[], r: UnitResult) => {
    for (const name of names) {
      const key = name === "store" ? "harvest" : name;
      timings[key] = r.record.timings?.[key] ?? r.record.wallS;
      if (name !== "store") ran[name] = METHOD_FOLDERS[name];
      if (r.reused) reused.push(name);
    }
    const s = r.record.wallS.toFixed(1);
    log(`methods: ${names.join(" + ")} ${r.reused ? `reused (inputs unchanged; made in ${s} s)` : `done in ${s} s`}`);
  };
  try {
    if (pair.toy !== null) await writePlants(outDir, pair.toy.plants);
    const store = await storeUnit(ctx);
    done(["store"], store);
    for (const name of ["crosscoderBatchTopK", "crosscoderL1"] as const)
      if (methods.run.includes(name)) done([name], await crosscoderUnit(ctx, store, name));
    if (methods.run.includes("diffSae") || methods.run.includes("adl"))
      done(["adl", "diffSae"], await diffUnit(ctx, store));
    if (methods.run.includes("stagewise")) done(["stagewise"], await stagewiseUnit(ctx));

    const folders = new Set(Object.values(ran));
    const directions = (await collectDirections(outDir, methods.topLatents)).filter((d) => folders.has(d.method));
    await writeDirections(outDir, directions);
    writeJsonAtomic(path.join(outDir, "methods.json"), {
      format: METHODS_RUN_FORMAT,
      version: METHODS_RUN_VERSION,
      config: methods,
      toy:
        pair.toy === null ? null : { variant: pair.toy.variant, hook: pair.hook, plants: Object.keys(pair.toy.plants) },
      base: describeModelRef(pair.base),
      chat: describeModelRef(pair.chat),
      hook: pair.hook,
      store: "store",
      timings,
      methods: ran,
      reused,
    });
    const wallS = (performance.now() - t0) / 1000;
    log(`methods: ${directions.length} headline directions → ${outDir} (${wallS.toFixed(1)} s)`);
    return { runDir: outDir, timings, methods: ran, reused, directions: directions.length, wallS };
  } finally {
    (models as ModelPair | null)?.close();
  }
}

async function writePlants(outDir: string, plants: Readonly<Record<string, Float32Array>>): Promise<void> {
  const tensors = Object.fromEntries(
    Object.entries(plants).map(([name, v]) => [name, new Tensor("f32", [v.length], v.slice())]),
  );
  await writeSafetensors(path.join(outDir, "plants.safetensors"), tensors, { format: "difflens-methods-plants" });
}

/**
 * A run folder is new, empty, or a methods run (finished, or interrupted with some unit done): anything else is
 * refused before a file is written, so `--out` never scatters a run into an unrelated folder.
 */
function refuseForeignFolder(outDir: string): void {
  const units = ["store", ...Object.values(METHOD_FOLDERS)];
  const isRun =
    fs.existsSync(path.join(outDir, "methods.json")) ||
    units.some((u) => fs.existsSync(path.join(outDir, u, METHOD_RECORD)));
  if (!isRun && isNonEmptyFolder(outDir))
    throw new AppKitError(
      "OUTPUT_EXISTS",
      `methods run: ${outDir} is not empty and holds no methods run; nothing was written`,
      {
        file: outDir,
        fix: "name a new or empty folder, or an earlier methods run (reused unit by unit)",
      },
    );
}
