import { existsSync } from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { sha256File, tempPathBeside, writeJsonAtomic } from "@difflens/common";
import { type RngState, Tensor, toFloat32Array } from "@difflens/tensor";
import type { LineageEntry } from "../checkpoint.ts";
import { SaeError } from "../errors.ts";
import { readSafetensors, writeSafetensors } from "../safetensors-io.ts";
import type { CrosscoderTrainConfig } from "./config.ts";
import { Crosscoder } from "./crosscoder.ts";
import { CROSSCODER_PARAM_NAMES, type CrosscoderParams, type CrosscoderTrainState } from "./state.ts";

/*
 * Our crosscoder folder (README "Crosscoder checkpoints"):
 *   cfg.json                 { architecture: "crosscoder", kind, d_in, num_latents, k, threshold, models, difflens }
 *   crosscoder.safetensors   W_enc [dSae, 2, dIn], b_enc [dSae], W_dec [dSae, 2, dIn], b_dec [2, dIn]
 *                            (model axis: 0 = base, 1 = chat; raw-activation weights, the input scale folded in)
 *   optimizer.safetensors    adam_m.<param>, adam_v.<param> (training layout [dSae, 2·dIn] …), train.bEnc, train.bDec
 *   state.json               step, adamT, counters, threshold (training space), rng, sha256 of both files
 * SAE folders have sae.safetensors instead; each loader refuses the other's folder by name.
 */

export const CROSSCODER_FORMAT = "difflens-crosscoder";
export const CROSSCODER_FORMAT_VERSION = 1;
export const CROSSCODER_WEIGHTS_FILE = "crosscoder.safetensors";

export interface CrosscoderBlock {
  format: typeof CROSSCODER_FORMAT;
  version: number;
  hookName: string | null;
  normalization: { kind: CrosscoderTrainConfig["normalizeActivations"]; inputScale: number; folded: true };
  lineage: LineageEntry[];
  step: number;
  tokensSeen: number;
  trainConfig: CrosscoderTrainConfig;
}

/** Raw-activation weights and threshold: divide the biases (and θ) by the training input scale. */
export function foldedCrosscoder(p: CrosscoderParams, threshold: number | null, inputScale: number) {
  const inv = 1 / inputScale;
  const weights: CrosscoderParams = {
    wEnc: p.wEnc,
    bEnc: p.bEnc.map((v) => v * inv),
    wDec: p.wDec,
    bDec: p.bDec.map((v) => v * inv),
  };
  return { weights, threshold: threshold === null ? null : threshold * inv };
}

function weightTensors(w: CrosscoderParams, dIn: number, dSae: number): Record<string, Tensor> {
  return {
    W_enc: new Tensor("f32", [dSae, 2, dIn], w.wEnc),
    b_enc: new Tensor("f32", [dSae], w.bEnc),
    W_dec: new Tensor("f32", [dSae, 2, dIn], w.wDec),
    b_dec: new Tensor("f32", [2, dIn], w.bDec),
  };
}

/** Writes `<runDir>/checkpoints/step-NNNNNNNN/` atomically (temp folder, rename), points latest.json at it, prunes. */
export async function saveCrosscoderCheckpoint(
  runDir: string,
  state: CrosscoderTrainState,
  cfg: CrosscoderTrainConfig,
  lineage: LineageEntry[],
  keep: number,
): Promise<string> {
  const ckRoot = path.join(runDir, "checkpoints");
  await fsp.mkdir(ckRoot, { recursive: true });
  const name = `step-${String(state.step).padStart(8, "0")}`;
  const final = path.join(ckRoot, name);
  const tmp = tempPathBeside(final);
  await fsp.mkdir(tmp);
  try {
    const { dIn, dSae } = cfg;
    const folded = foldedCrosscoder(state.params, state.threshold, state.inputScale);
    await writeSafetensors(path.join(tmp, CROSSCODER_WEIGHTS_FILE), weightTensors(folded.weights, dIn, dSae), {
      format: "pt",
    });
    const block: CrosscoderBlock = {
      format: CROSSCODER_FORMAT,
      version: CROSSCODER_FORMAT_VERSION,
      hookName: cfg.hookName,
      normalization: { kind: cfg.normalizeActivations, inputScale: state.inputScale, folded: true },
      lineage,
      step: state.step,
      tokensSeen: state.tokensSeen,
      trainConfig: cfg,
    };
    writeJsonAtomic(path.join(tmp, "cfg.json"), {
      architecture: "crosscoder",
      kind: cfg.kind,
      d_in: dIn,
      num_latents: dSae,
      k: cfg.k,
      threshold: folded.threshold,
      models: ["base", "chat"],
      difflens: block,
    });
    const opt: Record<string, Tensor> = {};
    const shapes: Record<keyof CrosscoderParams, number[]> = {
      wEnc: [dSae, 2 * dIn],
      bEnc: [dSae],
      wDec: [dSae, 2 * dIn],
      bDec: [2 * dIn],
    };
    for (const n of CROSSCODER_PARAM_NAMES) {
      opt[`adam_m.${n}`] = new Tensor("f32", shapes[n], state.adamM[n]);
      opt[`adam_v.${n}`] = new Tensor("f32", shapes[n], state.adamV[n]);
    }
    // Training-space biases, so a resume continues bitwise (folding divides, which does not round-trip).
    opt["train.bEnc"] = new Tensor("f32", [dSae], state.params.bEnc);
    opt["train.bDec"] = new Tensor("f32", [2 * dIn], state.params.bDec);
    await writeSafetensors(path.join(tmp, "optimizer.safetensors"), opt);
    const stateJson: TrainStateJson = {
      step: state.step,
      adamT: state.adamT,
      tokensSeen: state.tokensSeen,
      batchesSeen: state.batchesSeen,
      inputScale: state.inputScale,
      threshold: state.threshold,
      rng: state.rng.state(),
      windowTokens: state.windowTokens,
      sinceFired: Array.from(state.sinceFired),
      fireCounts: Array.from(state.fireCounts),
      weightsSha256: sha256File(path.join(tmp, CROSSCODER_WEIGHTS_FILE)),
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

export interface TrainStateJson {
  step: number;
  adamT: number;
  tokensSeen: number;
  batchesSeen: number;
  inputScale: number;
  threshold: number | null;
  rng: RngState;
  windowTokens: number;
  sinceFired: number[];
  fireCounts: number[];
  weightsSha256: string;
  optimizerSha256: string;
}

export interface LoadedCrosscoderCheckpoint {
  dir: string;
  cfg: Record<string, unknown>;
  block: CrosscoderBlock;
  /** Raw-activation weights (as in crosscoder.safetensors), training layout [dSae, 2·dIn]. */
  weights: CrosscoderParams;
  threshold: number | null;
  sha256: string;
  train?: { trainParams: CrosscoderParams; adamM: CrosscoderParams; adamV: CrosscoderParams; state: TrainStateJson };
}

/** Reads one of our crosscoder folders; refuses SAE folders (and anything else) with the loader to use instead. */
export async function loadCrosscoderCheckpoint(
  dir: string,
  expect?: { dIn: number; dSae: number },
): Promise<LoadedCrosscoderCheckpoint> {
  const cfgPath = path.join(dir, "cfg.json");
  if (!existsSync(cfgPath)) throw new SaeError("CHECKPOINT_MISSING", `no cfg.json in ${dir}`, { file: cfgPath });
  const cfg = await readJsonChecked(cfgPath);
  const block = cfg.difflens as CrosscoderBlock | { format?: string } | undefined;
  if (block?.format === "difflens-sae" || existsSync(path.join(dir, "sae.safetensors")))
    throw new SaeError(
      "FORMAT_INVALID",
      `${dir} is an SAE checkpoint (cfg.json + sae.safetensors), not a crosscoder; load it with loadCheckpoint or loadSae`,
      { file: cfgPath },
    );
  if (block?.format !== CROSSCODER_FORMAT)
    throw new SaeError(
      "FORMAT_INVALID",
      `${cfgPath}: no difflens crosscoder block (difflens.format "${CROSSCODER_FORMAT}") — not a difflens crosscoder checkpoint`,
      { file: cfgPath },
    );
  const dIn = cfg.d_in as number,
    dSae = cfg.num_latents as number;
  if (expect && (expect.dIn !== dIn || expect.dSae !== dSae))
    throw new SaeError(
      "CHECKPOINT_MISMATCH",
      `${dir}: crosscoder has dIn=${dIn}, dSae=${dSae}; this run needs dIn=${expect.dIn}, dSae=${expect.dSae}`,
      { file: cfgPath, expected: expect, got: { dIn, dSae } },
    );
  const wPath = path.join(dir, CROSSCODER_WEIGHTS_FILE);
  if (!existsSync(wPath)) throw new SaeError("CHECKPOINT_MISSING", `missing ${wPath}`, { file: wPath });
  const sha256 = sha256File(wPath);
  const t = await readChecked(wPath);
  const weights: CrosscoderParams = {
    wEnc: take(t, "W_enc", [dSae, 2, dIn], wPath),
    bEnc: take(t, "b_enc", [dSae], wPath),
    wDec: take(t, "W_dec", [dSae, 2, dIn], wPath),
    bDec: take(t, "b_dec", [2, dIn], wPath),
  };
  const out: LoadedCrosscoderCheckpoint = {
    dir,
    cfg,
    block: block as CrosscoderBlock,
    weights,
    threshold: (cfg.threshold as number | null) ?? null,
    sha256,
  };
  const optPath = path.join(dir, "optimizer.safetensors"),
    statePath = path.join(dir, "state.json");
  if (existsSync(optPath) && existsSync(statePath)) {
    const st = (await readJsonChecked(statePath)) as unknown as TrainStateJson;
    if (st.weightsSha256 !== sha256)
      throw new SaeError(
        "CHECKPOINT_CORRUPT",
        `${wPath}: sha256 ${sha256} differs from the one recorded in state.json (${st.weightsSha256}) — file changed or truncated`,
        { file: wPath },
      );
    if (st.optimizerSha256 !== sha256File(optPath))
      throw new SaeError(
        "CHECKPOINT_CORRUPT",
        `${optPath}: sha256 differs from the one recorded in state.json — file changed or truncated`,
        { file: optPath },
      );
    const o = await readChecked(optPath);
    const moments = (prefix: string): CrosscoderParams => ({
      wEnc: take(o, `${prefix}.wEnc`, [dSae, 2 * dIn], optPath),
      bEnc: take(o, `${prefix}.bEnc`, [dSae], optPath),
      wDec: take(o, `${prefix}.wDec`, [dSae, 2 * dIn], optPath),
      bDec: take(o, `${prefix}.bDec`, [2 * dIn], optPath),
    });
    out.train = {
      trainParams: {
        wEnc: weights.wEnc,
        wDec: weights.wDec,
        bEnc: take(o, "train.bEnc", [dSae], optPath),
        bDec: take(o, "train.bDec", [2 * dIn], optPath),
      },
      adamM: moments("adam_m"),
      adamV: moments("adam_v"),
      state: st,
    };
  }
  return out;
}

/** The inference crosscoder of a loaded folder. */
export function crosscoderFromCheckpoint(ck: LoadedCrosscoderCheckpoint): Crosscoder {
  const tc = ck.block.trainConfig;
  return new Crosscoder(
    { dIn: tc.dIn, dSae: tc.dSae, kind: tc.kind, k: tc.k, threshold: ck.threshold, hookName: ck.block.hookName },
    ck.weights,
  );
}

/** Loads a crosscoder folder as an inference Crosscoder. */
export async function loadCrosscoder(dir: string): Promise<Crosscoder> {
  return crosscoderFromCheckpoint(await loadCrosscoderCheckpoint(dir));
}

async function readJsonChecked(file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await fsp.readFile(file, "utf8"));
  } catch (err) {
    throw new SaeError("CHECKPOINT_CORRUPT", `${file}: not valid JSON (${(err as Error).message})`, { file });
  }
}

async function readChecked(file: string): Promise<Record<string, Tensor>> {
  try {
    return (await readSafetensors(file)).tensors;
  } catch (err) {
    throw new SaeError("CHECKPOINT_CORRUPT", `${file}: unreadable safetensors (${(err as Error).message})`, { file });
  }
}

function take(tensors: Record<string, Tensor>, name: string, shape: number[], file: string): Float32Array {
  const t = tensors[name];
  if (!t) throw new SaeError("CHECKPOINT_CORRUPT", `${file}: tensor "${name}" missing`, { file, field: name });
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    throw new SaeError(
      "CHECKPOINT_MISMATCH",
      `${file}: tensor "${name}" has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]`,
      { file, field: name, expected: shape, got: t.shape },
    );
  return toFloat32Array(t).slice();
}
