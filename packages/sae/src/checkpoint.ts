import { existsSync } from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { sha256File, tempPathBeside, writeJsonAtomic } from "@difflens/common";
import { largeFloat32Copy, Rng, type RngState, Tensor, toFloat32Array } from "@difflens/tensor";
import { SaeError } from "./errors.ts";
import type { SaeFormat } from "./formats/formats.ts";
import { Sae } from "./sae.ts";
import { readSafetensors, writeSafetensors } from "./safetensors-io.ts";
import type { SaeTrainConfig } from "./train/config.ts";
import { PARAM_NAMES, type TrainParams, type TrainState } from "./train/train-state.ts";

/** Version of the `difflens` block in cfg.json (bump on incompatible change). */
export const DIFFLENS_SAE_FORMAT_VERSION = 1;

/** One ancestor of a finetuned SAE: where it came from, what it was, at which step. */
export interface LineageEntry {
  path: string;
  /** sha256 of the parent's sae.safetensors (of its format's weights file when `format` is set) */
  sha256: string;
  step: number;
  tokensSeen: number;
  /** Set when the parent was converted into our layout (`convert --to difflens`), not trained here: its format. */
  format?: SaeFormat;
}

/** The block that marks a sparsify-layout folder as ours. */
export interface DifflensBlock {
  format: "difflens-sae";
  version: number;
  hookName: string | null;
  /** Inputs were multiplied by inputScale during training; sae.safetensors has it folded in (takes raw activations). */
  normalization: { kind: SaeTrainConfig["normalizeActivations"]; inputScale: number; folded: true };
  /** Parents, nearest first. */
  lineage: LineageEntry[];
  step: number;
  tokensSeen: number;
  trainConfig: SaeTrainConfig;
}

/** Fold the input scale into raw-activation weights: only the biases change (Wdec stays unit-norm). */
export function foldedWeights(p: TrainParams, inputScale: number): TrainParams {
  const inv = 1 / inputScale;
  return { wEnc: p.wEnc, bEnc: p.bEnc.map((v) => v * inv), wDec: p.wDec, bDec: p.bDec.map((v) => v * inv) };
}

/** Inverse of foldedWeights, for starting training from raw-space weights under a new input scale. */
export function unfoldedWeights(w: TrainParams, inputScale: number): TrainParams {
  return {
    wEnc: w.wEnc.slice(),
    bEnc: w.bEnc.map((v) => v * inputScale),
    wDec: w.wDec.slice(),
    bDec: w.bDec.map((v) => v * inputScale),
  };
}

export function sparsifyCfg(dIn: number, dSae: number, k: number): Record<string, unknown> {
  return {
    activation: "topk",
    expansion_factor: Math.max(1, Math.round(dSae / dIn)),
    normalize_decoder: true,
    num_latents: dSae,
    k,
    multi_topk: false,
    skip_connection: false,
    transcode: false,
    d_in: dIn,
  };
}

export function saeTensors(w: TrainParams, dIn: number, dSae: number): Record<string, Tensor> {
  return {
    "encoder.weight": new Tensor("f32", [dSae, dIn], w.wEnc),
    "encoder.bias": new Tensor("f32", [dSae], w.bEnc),
    W_dec: new Tensor("f32", [dSae, dIn], w.wDec),
    b_dec: new Tensor("f32", [dIn], w.bDec),
  };
}

/**
 * Writes a full training checkpoint into `<runDir>/checkpoints/step-NNNNNNNN/` (built in a temp folder,
 * renamed into place when complete), then points `<runDir>/latest.json` at it, then prunes old ones.
 * A crash at any point leaves the previous checkpoint and pointer intact.
 */
export async function saveTrainCheckpoint(
  runDir: string,
  state: TrainState,
  cfg: SaeTrainConfig,
  lineage: LineageEntry[],
  keep: number,
): Promise<string> {
  const ckRoot = path.join(runDir, "checkpoints");
  await fsp.mkdir(ckRoot, { recursive: true });
  const name = `step-${String(state.step).padStart(8, "0")}`;
  const final = path.join(ckRoot, name);
  const tmp = tempPathBeside(final); // a whole folder, renamed into place once complete
  await fsp.mkdir(tmp);
  try {
    await writeSaeFolder(tmp, state, cfg, lineage);
    const p = state.params;
    const opt: Record<string, Tensor> = {};
    for (const n of PARAM_NAMES) {
      opt[`adam_m.${n}`] = tensorOf(state.adamM[n], n, cfg);
      opt[`adam_v.${n}`] = tensorOf(state.adamV[n], n, cfg);
    }
    // Training-space biases, so a resume continues bitwise (folding divides, which does not round-trip).
    opt["train.bEnc"] = new Tensor("f32", [cfg.dSae], p.bEnc);
    opt["train.bDec"] = new Tensor("f32", [cfg.dIn], p.bDec);
    await writeSafetensors(path.join(tmp, "optimizer.safetensors"), opt);
    const stateJson = {
      step: state.step,
      adamT: state.adamT,
      tokensSeen: state.tokensSeen,
      batchesSeen: state.batchesSeen,
      inputScale: state.inputScale,
      rng: state.rng.state(),
      windowTokens: state.windowTokens,
      sinceFired: Array.from(state.sinceFired),
      fireCounts: Array.from(state.fireCounts),
      saeSha256: sha256File(path.join(tmp, "sae.safetensors")),
      optimizerSha256: sha256File(path.join(tmp, "optimizer.safetensors")),
    };
    await fsp.writeFile(path.join(tmp, "state.json"), JSON.stringify(stateJson));
    if (existsSync(final)) await fsp.rm(final, { recursive: true, force: true });
    await fsp.rename(tmp, final);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  writeJsonAtomic(path.join(runDir, "latest.json"), { checkpoint: `checkpoints/${name}`, step: state.step });
  const all = (await fsp.readdir(ckRoot)).filter((d) => /^step-\d+$/.test(d)).sort();
  for (const old of all.slice(0, Math.max(0, all.length - 1 - keep)))
    await fsp.rm(path.join(ckRoot, old), { recursive: true, force: true });
  return final;
}

function tensorOf(a: Float32Array, n: keyof TrainParams, cfg: SaeTrainConfig): Tensor {
  const shape = n === "wEnc" || n === "wDec" ? [cfg.dSae, cfg.dIn] : n === "bEnc" ? [cfg.dSae] : [cfg.dIn];
  return new Tensor("f32", shape, a);
}

/** cfg.json (sparsify keys + difflens block) and sae.safetensors (raw-activation weights). */
export async function writeSaeFolder(
  dir: string,
  state: TrainState,
  cfg: SaeTrainConfig,
  lineage: LineageEntry[],
): Promise<void> {
  const { step, tokensSeen, inputScale } = state;
  const weights = foldedWeights(state.params, inputScale);
  await writeCheckpointWeights(dir, weights, cfg, { lineage, step, tokensSeen, inputScale });
}

/**
 * The inference half of a checkpoint folder (cfg.json + sae.safetensors) from raw-activation weights, without a
 * training state: what `writeSaeFolder` writes, and what `convert --to difflens` writes for an SAE trained elsewhere.
 */
export async function writeCheckpointWeights(
  dir: string,
  weights: TrainParams,
  cfg: SaeTrainConfig,
  at: { lineage: LineageEntry[]; step: number; tokensSeen: number; inputScale: number },
): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, "sae.safetensors"), saeTensors(weights, cfg.dIn, cfg.dSae), { format: "pt" });
  const block: DifflensBlock = {
    format: "difflens-sae",
    version: DIFFLENS_SAE_FORMAT_VERSION,
    hookName: cfg.hookName,
    normalization: { kind: cfg.normalizeActivations, inputScale: at.inputScale, folded: true },
    lineage: at.lineage,
    step: at.step,
    tokensSeen: at.tokensSeen,
    trainConfig: cfg,
  };
  writeJsonAtomic(path.join(dir, "cfg.json"), { ...sparsifyCfg(cfg.dIn, cfg.dSae, cfg.k), difflens: block });
}

/** The checkpoint folder `latest.json` in a run folder points at, or null when there is none. */
export async function latestCheckpoint(runDir: string): Promise<string | null> {
  const pointer = path.join(runDir, "latest.json");
  if (!existsSync(pointer)) return null;
  const rec = JSON.parse(await fsp.readFile(pointer, "utf8")) as { checkpoint: string };
  return path.join(runDir, rec.checkpoint);
}

export interface LoadedCheckpoint {
  dir: string;
  cfg: Record<string, unknown>;
  block: DifflensBlock;
  /** Raw-activation weights (as in sae.safetensors). */
  weights: TrainParams;
  sha256: string;
  /** Present when the folder has optimizer.safetensors and state.json. */
  train?: {
    trainParams: TrainParams;
    adamM: TrainParams;
    adamV: TrainParams;
    state: {
      step: number;
      adamT: number;
      tokensSeen: number;
      batchesSeen: number;
      inputScale: number;
      rng: RngState;
      windowTokens: number;
      sinceFired: number[];
      fireCounts: number[];
    };
  };
}

/** Reads one of our checkpoint folders, verifying shapes, hashes and (optionally) expected sizes. */
export async function loadCheckpoint(dir: string, expect?: { dIn: number; dSae: number }): Promise<LoadedCheckpoint> {
  const cfgPath = path.join(dir, "cfg.json");
  if (!existsSync(cfgPath)) throw new SaeError("CHECKPOINT_MISSING", `no cfg.json in ${dir}`, { file: cfgPath });
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(await fsp.readFile(cfgPath, "utf8"));
  } catch (err) {
    throw new SaeError("CHECKPOINT_CORRUPT", `${cfgPath}: not valid JSON (${(err as Error).message})`, {
      file: cfgPath,
    });
  }
  const block = cfg.difflens as DifflensBlock | undefined;
  if ((block?.format as string | undefined) === "difflens-crosscoder")
    throw new SaeError(
      "FORMAT_INVALID",
      `${dir} is a crosscoder checkpoint (cfg.json + crosscoder.safetensors), not an SAE; load it with loadCrosscoder`,
      { file: cfgPath },
    );
  if (block?.format !== "difflens-sae") {
    throw new SaeError(
      "FORMAT_INVALID",
      `${cfgPath}: no difflens block — not a difflens checkpoint (use loadSae for sparsify/SAELens folders)`,
      { file: cfgPath },
    );
  }
  const dIn = cfg.d_in as number,
    dSae = cfg.num_latents as number;
  if (expect && (expect.dIn !== dIn || expect.dSae !== dSae)) {
    throw new SaeError(
      "CHECKPOINT_MISMATCH",
      `${dir}: checkpoint has dIn=${dIn}, dSae=${dSae}; this run needs dIn=${expect.dIn}, dSae=${expect.dSae}`,
      { file: cfgPath, expected: expect, got: { dIn, dSae } },
    );
  }
  const saePath = path.join(dir, "sae.safetensors");
  const sha256 = await hashOrMissing(saePath);
  const sae = await readChecked(saePath);
  const weights: TrainParams = {
    wEnc: f32(sae, "encoder.weight", [dSae, dIn], saePath),
    bEnc: f32(sae, "encoder.bias", [dSae], saePath),
    wDec: f32(sae, "W_dec", [dSae, dIn], saePath),
    bDec: f32(sae, "b_dec", [dIn], saePath),
  };
  const out: LoadedCheckpoint = { dir, cfg, block, weights, sha256 };
  const optPath = path.join(dir, "optimizer.safetensors"),
    statePath = path.join(dir, "state.json");
  if (existsSync(optPath) && existsSync(statePath)) {
    let st: LoadedCheckpoint["train"] extends infer T
      ? T extends { state: infer S }
        ? S & { saeSha256: string; optimizerSha256: string }
        : never
      : never;
    try {
      st = JSON.parse(await fsp.readFile(statePath, "utf8"));
    } catch (err) {
      throw new SaeError("CHECKPOINT_CORRUPT", `${statePath}: not valid JSON (${(err as Error).message})`, {
        file: statePath,
      });
    }
    if (st.saeSha256 !== sha256)
      throw new SaeError(
        "CHECKPOINT_CORRUPT",
        `${saePath}: sha256 ${sha256} differs from the one recorded in state.json (${st.saeSha256}) — file changed or truncated`,
        { file: saePath },
      );
    const optSha = await hashOrMissing(optPath);
    if (st.optimizerSha256 !== optSha)
      throw new SaeError(
        "CHECKPOINT_CORRUPT",
        `${optPath}: sha256 differs from the one recorded in state.json — file changed or truncated`,
        { file: optPath },
      );
    const opt = await readChecked(optPath);
    const moments = (prefix: string): TrainParams => ({
      wEnc: f32(opt, `${prefix}.wEnc`, [dSae, dIn], optPath),
      bEnc: f32(opt, `${prefix}.bEnc`, [dSae], optPath),
      wDec: f32(opt, `${prefix}.wDec`, [dSae, dIn], optPath),
      bDec: f32(opt, `${prefix}.bDec`, [dIn], optPath),
    });
    out.train = {
      trainParams: {
        wEnc: weights.wEnc,
        wDec: weights.wDec,
        bEnc: f32(opt, "train.bEnc", [dSae], optPath),
        bDec: f32(opt, "train.bDec", [dIn], optPath),
      },
      adamM: moments("adam_m"),
      adamV: moments("adam_v"),
      state: st,
    };
  }
  return out;
}

async function hashOrMissing(file: string): Promise<string> {
  if (!existsSync(file)) throw new SaeError("CHECKPOINT_MISSING", `missing ${file}`, { file });
  return sha256File(file);
}

async function readChecked(file: string): Promise<Record<string, Tensor>> {
  try {
    return (await readSafetensors(file)).tensors;
  } catch (err) {
    throw new SaeError("CHECKPOINT_CORRUPT", `${file}: unreadable safetensors (${(err as Error).message})`, {
      file,
      cause: (err as { code?: string }).code,
    });
  }
}

function f32(tensors: Record<string, Tensor>, name: string, shape: number[], file: string): Float32Array {
  const t = tensors[name];
  if (!t) throw new SaeError("CHECKPOINT_CORRUPT", `${file}: tensor "${name}" missing`, { file, field: name });
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new SaeError(
      "CHECKPOINT_MISMATCH",
      `${file}: tensor "${name}" has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]`,
      { file, field: name, expected: shape, got: t.shape },
    );
  }
  return largeFloat32Copy(toFloat32Array(t)); // a copy (the file's mapping is released); large for the matrices
}

/** An inference SAE from one of our checkpoint folders. */
export function saeFromCheckpoint(ck: LoadedCheckpoint): Sae {
  const k = ck.cfg.k as number;
  return new Sae(
    {
      dIn: ck.cfg.d_in as number,
      dSae: ck.cfg.num_latents as number,
      activation: { kind: "topk", k },
      hookName: ck.block.hookName,
    },
    ck.weights,
  );
}

export function rngFrom(state: RngState): Rng {
  return Rng.fromState(state);
}
