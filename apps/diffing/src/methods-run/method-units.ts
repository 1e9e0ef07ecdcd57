/**
 * The units of a methods run, each written whole through `runUnit` (method-folder.ts) and reused when its hash —
 * its settings, the pair, the store's identity — is unchanged: the paired harvest (`store/`), each crosscoder, ADL and
 * the diff-SAE together (the diff-SAE's table holds each latent's cosine to the ADL), and stage-wise diffing.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describeModelRef, type ModelPair, modelFingerprint } from "@difflens/app-kit";
import { writeJsonAtomic } from "@difflens/common";
import { loadCrosscoder, relativeDecoderNorms } from "@difflens/sae";
import type { DiffingConfig } from "../config/diffing-config.ts";
import type { MethodName, MethodsConfig } from "../config/methods-config.ts";
import { runCrosscoderMethod } from "../methods/crosscoder-method.ts";
import { runDiffMethods } from "../methods/diff-methods.ts";
import { pairedHarvest } from "../methods/paired-harvest.ts";
import { PAIRED_STORE_VERSION, PairedStore } from "../methods/paired-store.ts";
import { chatDataFingerprint, maskFingerprint, textDataFingerprint } from "../run/fingerprint-sections.ts";
import { type MethodRecord, runUnit, unitHash } from "./method-folder.ts";
import type { MethodsPair } from "./methods-pair.ts";
import { runStagewiseMethod } from "./stagewise-method.ts";

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

/** What every unit reads: the run folder, the pair (models opened on first need), the settings, the callbacks. */
export interface UnitContext {
  readonly outDir: string;
  readonly config: DiffingConfig;
  readonly methods: MethodsConfig;
  readonly pair: MethodsPair;
  /** The pair's identity in every hash: model bytes (modelFingerprint: not paths), hook, windows. */
  readonly pairId: unknown;
  readonly open: () => Promise<ModelPair>;
  readonly progress: (p: MethodsProgress) => void;
  readonly log: (line: string) => void;
}

export interface UnitResult {
  readonly reused: boolean;
  readonly record: MethodRecord;
}

/** The paired harvest into `store/`; returns the store and its identity (part of every method's hash). */
export async function storeUnit(ctx: UnitContext) {
  const { pair, methods, progress } = ctx;
  const hash = unitHash({ v: PAIRED_STORE_VERSION, pair: ctx.pairId, harvest: methods.harvest });
  const result = await runUnit(ctx.outDir, ["store"], hash, async (tmp) => {
    const m = await ctx.open();
    const total = methods.harvest.windows;
    let done = 0;
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
  const store = PairedStore.open(path.join(ctx.outDir, "store"), { hook: pair.hook });
  const id = { hash, createdAt: store.manifest.createdAt, tokenCount: store.manifest.tokenCount };
  return { ...result, store, id };
}

type Store = Awaited<ReturnType<typeof storeUnit>>;

/** Optimizer steps of `epochs` passes over the store in batches of `batchSize` (a shard's last batch is short). */
function stepsOf(store: Store, s: { batchSize: number; epochs: number }): number {
  return s.epochs * store.store.manifest.shards.reduce((n, sh) => n + Math.ceil(sh.rows / s.batchSize), 0);
}

/** A BatchTopK or L1 crosscoder: runCrosscoderMethod's folder plus relative-norms.json. */
export function crosscoderUnit(ctx: UnitContext, store: Store, name: "crosscoderBatchTopK" | "crosscoderL1") {
  const kind = name === "crosscoderBatchTopK" ? "batchtopk" : "l1";
  const s = kind === "batchtopk" ? ctx.methods.batchTopK : ctx.methods.l1;
  const folder = METHOD_FOLDERS[name];
  const total = stepsOf(store, s);
  return runUnit(ctx.outDir, [folder], unitHash({ store: store.id, kind, s }), async (tmp) => {
    const { batchSize, epochs, shuffleSeed, chatLeaning, k, l1Coef, ...train } = s;
    await runCrosscoderMethod({
      store: store.store,
      outDir: tmp,
      kind,
      // k means nothing to L1 and l1Coef nothing to BatchTopK: each gets only its own.
      config: { ...train, ...(kind === "l1" ? { l1Coef } : { k }), checkpointEverySteps: 0 },
      train: { batchSize, epochs, seed: shuffleSeed },
      chatLeaning,
      onStep: (step) => ctx.progress({ unit: name, done: step, total, what: "steps" }),
    });
    ctx.progress({ unit: name, done: total, total, what: "steps" });
    await writeRelativeNorms(path.join(tmp, folder));
  });
}

/** ADL and the diff-SAE (runDiffMethods); the record times both (adl: until the diff-SAE's first step). */
export function diffUnit(ctx: UnitContext, store: Store) {
  const { methods, pair } = ctx;
  const { batchSize, epochs, shuffleSeed, ...sae } = methods.diffSae;
  const total = stepsOf(store, methods.diffSae);
  const hash = unitHash({ store: store.id, diffSae: methods.diffSae, adl: methods.adl, top: methods.topLatents });
  return runUnit(ctx.outDir, ["adl", "diff-sae"], hash, async (tmp) => {
    const m = await ctx.open();
    const start = performance.now();
    let adlEnd = 0;
    await runDiffMethods({
      store: store.store,
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
        ctx.progress({ unit: "diffSae", done: step, total, what: "steps" });
      },
    });
    ctx.progress({ unit: "diffSae", done: total, total, what: "steps" });
    return { adl: (adlEnd - start) / 1000, diffSae: (performance.now() - adlEnd) / 1000 };
  });
}

/** Stage-wise diffing on the pair (stagewise-method.ts); its hash holds the pipeline sections the stages read. */
export function stagewiseUnit(ctx: UnitContext) {
  const { config, methods, pair } = ctx;
  const { sae, stages, harvest } = config;
  const data = {
    text: textDataFingerprint(config.textData),
    chat: chatDataFingerprint(config.chatData),
    mask: maskFingerprint(config.mask),
  };
  const inputs = { pair: ctx.pairId, data, sae, stages, harvest };
  const hash = unitHash({ ...inputs, stagewise: methods.stagewise, top: methods.topLatents });
  return runUnit(ctx.outDir, ["stagewise"], hash, async (tmp) => {
    await runStagewiseMethod({
      pipeline: config,
      pair,
      models: await ctx.open(),
      tokenScale: methods.stagewise.tokenScale,
      topLatents: methods.topLatents,
      dir: path.join(tmp, "stagewise"),
      log: ctx.log,
    });
  });
}

/**
 * What identifies the pair and its windows in a hash: model bytes (not paths: a moved folder is the same model), the
 * hook, and the data (file bytes and settings) when the windows come from the config's datasets rather than a toy.
 */
export function pairIdentity(pair: MethodsPair, config: DiffingConfig, fromToy: boolean) {
  const [base, chat] = [modelFingerprint(pair.base), modelFingerprint(pair.chat)];
  const data = fromToy
    ? null
    : {
        text: textDataFingerprint(config.textData),
        chat: chatDataFingerprint(config.chatData),
        mask: maskFingerprint(config.mask),
      };
  return { base, chat, hook: pair.hook, dataset: pair.dataset, data };
}

/** relative-norms.json of a crosscoder folder: every latent's chat / (base + chat) decoder norm (null = dead). */
async function writeRelativeNorms(dir: string): Promise<void> {
  const analysis = JSON.parse(fs.readFileSync(path.join(dir, "analysis.json"), "utf8")) as { crosscoder: string };
  const rel = relativeDecoderNorms(await loadCrosscoder(path.join(dir, analysis.crosscoder)));
  writeJsonAtomic(path.join(dir, "relative-norms.json"), {
    relativeNorms: Array.from(rel, (r) => (Number.isFinite(r) ? r : null)),
  });
}
