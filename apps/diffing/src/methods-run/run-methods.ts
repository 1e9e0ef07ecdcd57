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
import { describeModelRef, type ModelPair } from "@difflens/app-kit";
import { writeJsonAtomic } from "@difflens/common";
import { loadCrosscoder, relativeDecoderNorms } from "@difflens/sae";
import { Tensor, writeSafetensors } from "@difflens/tensor";
import type { DiffingConfig } from "../config/diffing-config.ts";
import { type MethodName, resolveMethodsConfig } from "../config/methods-config.ts";
import { runCrosscoderMethod } from "../methods/crosscoder-method.ts";
import { runDiffMethods } from "../methods/diff-methods.ts";
import { pairedHarvest } from "../methods/paired-harvest.ts";
import { PAIRED_STORE_VERSION, PairedStore } from "../methods/paired-store.ts";
import { collectDirections, writeDirections } from "./directions.ts";
import { runUnit, unitHash } from "./method-folder.ts";
import { type MethodsPair, methodsPair, openMethodsModels } from "./methods-pair.ts";
import { runStagewiseMethod } from "./stagewise-method.ts";

export const METHODS_RUN_FORMAT = "difflens-methods-run";
export const METHODS_RUN_VERSION = 1;

/** The folder of each method in a run. */
export const METHOD_FOLDERS: Readonly<Record<MethodName, string>> = Object.freeze({
  crosscoderBatchTopK: "crosscoder-batchtopk",
  crosscoderL1: "crosscoder-l1",
  diffSae: "diff-sae",
  adl: "adl",
  stagewise: "stagewise",
});

/** A step of a unit: the harvest counts windows, trainers count steps; `done === total` ends the unit (sent once more at its end). */
export interface MethodsProgress {
  readonly unit: "harvest" | MethodName;
  readonly done: number;
  readonly total: number;
  readonly what: "windows" | "steps";
}

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
  const progress = opts.onProgress ?? (() => {});
  const outDir = path.resolve(opts.outDir);
  const methods = config.methods ?? resolveMethodsConfig("methods", {}, path.dirname(config.file ?? outDir));
  const pair = await methodsPair(config, methods, log);
  fs.mkdirSync(outDir, { recursive: true });
  let models: ModelPair | null = null;
  const open = async () => (models ??= await openMethodsModels(pair));
  const timings: Record<string, number> = {};
  const reused: string[] = [];
  const note = (units: string[], r: { reused: boolean; record: { wallS: number } }) => {
    if (r.reused) reused.push(...units);
    const s = r.record.wallS.toFixed(1);
    log(`methods: ${units.join(" + ")} ${r.reused ? `reused (inputs unchanged; made in ${s} s)` : `done in ${s} s`}`);
  };
  try {
    if (pair.toy !== null) await writePlants(outDir, pair.toy.plants);
    const storeHash = unitHash({ v: PAIRED_STORE_VERSION, pair: pairId(pair), harvest: methods.harvest });
    const harvested = await runUnit(outDir, ["store"], storeHash, async (tmp) => {
      const m = await open();
      let done = 0;
      const total = methods.harvest.windows;
      const counted = async function* () {
        for await (const w of pair.windows(m)) {
          yield w;
          progress({ unit: "harvest", done: Math.min(++done, total), total, what: "windows" });
        }
      };
      await pairedHarvest({
        base: m.base,
        chat: m.chat,
        names: { base: describeModelRef(pair.base), chat: describeModelRef(pair.chat) },
        hook: pair.hook,
        windows: counted(),
        windowsPerForward: methods.harvest.windowsPerForward,
        outDir: path.join(tmp, "store"),
        dataset: pair.dataset,
        assistantStart: pair.assistantStart,
      });
      progress({ unit: "harvest", done: total, total, what: "windows" });
    });
    timings.harvest = harvested.record.wallS;
    note(["store"], harvested);
    const store = PairedStore.open(path.join(outDir, "store"), { hook: pair.hook });
    const storeId = { hash: storeHash, createdAt: store.manifest.createdAt, tokenCount: store.manifest.tokenCount };
    const stepsOf = (s: { batchSize: number; epochs: number }) =>
      s.epochs * store.manifest.shards.reduce((n, sh) => n + Math.ceil(sh.rows / s.batchSize), 0);
    const ran: Partial<Record<MethodName, string>> = {};
    const want = (m: MethodName) => methods.run.includes(m);

    for (const [name, kind] of [
      ["crosscoderBatchTopK", "batchtopk"],
      ["crosscoderL1", "l1"],
    ] as const) {
      if (!want(name)) continue;
      const s = kind === "batchtopk" ? methods.batchTopK : methods.l1;
      const folder = METHOD_FOLDERS[name];
      const total = stepsOf(s);
      const r = await runUnit(outDir, [folder], unitHash({ store: storeId, kind, s }), async (tmp) => {
        const { batchSize, epochs, shuffleSeed, chatLeaning, k, l1Coef, ...train } = s;
        await runCrosscoderMethod({
          store,
          outDir: tmp,
          kind,
          // k means nothing to L1 and l1Coef nothing to BatchTopK: each gets only its own.
          config: { ...train, ...(kind === "l1" ? { l1Coef } : { k }), checkpointEverySteps: 0 },
          train: { batchSize, epochs, seed: shuffleSeed },
          chatLeaning,
          onStep: (step) => progress({ unit: name, done: step, total, what: "steps" }),
        });
        progress({ unit: name, done: total, total, what: "steps" });
        await writeRelativeNorms(path.join(tmp, folder));
      });
      timings[name] = r.record.wallS;
      ran[name] = folder;
      note([name], r);
    }

    if (want("diffSae") || want("adl")) {
      const { batchSize, epochs, shuffleSeed, ...sae } = methods.diffSae;
      const total = stepsOf(methods.diffSae);
      const hash = unitHash({ store: storeId, diffSae: methods.diffSae, adl: methods.adl, top: methods.topLatents });
      const r = await runUnit(outDir, ["adl", "diff-sae"], hash, async (tmp) => {
        const m = await open();
        const start = performance.now();
        let adlEnd = 0;
        await runDiffMethods({
          store,
          chat: m.chat,
          outDir: tmp,
          diffSae: { ...sae, checkpointEverySteps: 0 },
          train: { batchSize, epochs, seed: shuffleSeed },
          firstPositions: methods.adl.firstPositions,
          topLatents: methods.topLatents,
          lensTokens: methods.adl.lensTokens,
          decode: pair.decode(m),
          onStep: (step) => {
            adlEnd ||= performance.now();
            progress({ unit: "diffSae", done: step, total, what: "steps" });
          },
        });
        progress({ unit: "diffSae", done: total, total, what: "steps" });
        const end = performance.now();
        return { adl: (adlEnd - start) / 1000, diffSae: (end - adlEnd) / 1000 };
      });
      timings.adl = r.record.timings?.adl ?? 0;
      timings.diffSae = r.record.timings?.diffSae ?? r.record.wallS;
      ran.diffSae = METHOD_FOLDERS.diffSae;
      ran.adl = METHOD_FOLDERS.adl;
      note(["adl", "diffSae"], r);
    }

    if (want("stagewise")) {
      const { textData, chatData, mask, sae, stages, harvest } = config;
      const inputs = { pair: pairId(pair), textData, chatData, mask, sae, stages, harvest };
      const hash = unitHash({ ...inputs, stagewise: methods.stagewise, top: methods.topLatents });
      const r = await runUnit(outDir, ["stagewise"], hash, async (tmp) => {
        await runStagewiseMethod({
          pipeline: config,
          pair,
          models: await open(),
          tokenScale: methods.stagewise.tokenScale,
          topLatents: methods.topLatents,
          dir: path.join(tmp, "stagewise"),
          log,
        });
      });
      timings.stagewise = r.record.wallS;
      ran.stagewise = METHOD_FOLDERS.stagewise;
      note(["stagewise"], r);
    }

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

/** What identifies the pair and its windows in a hash. */
function pairId(pair: MethodsPair) {
  return { base: pair.base, chat: pair.chat, hook: pair.hook, dataset: pair.dataset, toy: pair.toy?.variant ?? null };
}

async function writePlants(outDir: string, plants: Readonly<Record<string, Float32Array>>): Promise<void> {
  const tensors = Object.fromEntries(
    Object.entries(plants).map(([name, v]) => [name, new Tensor("f32", [v.length], v.slice())]),
  );
  await writeSafetensors(path.join(outDir, "plants.safetensors"), tensors, { format: "difflens-methods-plants" });
}

/** relative-norms.json of a crosscoder folder: every latent's chat / (base + chat) decoder norm (null = dead). */
async function writeRelativeNorms(dir: string): Promise<void> {
  const analysis = JSON.parse(fs.readFileSync(path.join(dir, "analysis.json"), "utf8")) as { crosscoder: string };
  const rel = relativeDecoderNorms(await loadCrosscoder(path.join(dir, analysis.crosscoder)));
  writeJsonAtomic(path.join(dir, "relative-norms.json"), {
    relativeNorms: Array.from(rel, (r) => (Number.isFinite(r) ? r : null)),
  });
}
