import * as fs from "node:fs";
import * as path from "node:path";
import type { DiffingConfig, StageName } from "../config/diffing-config.ts";

/** The five stages (DESIGN §1): every stage descends from S, so latent i is the same feature in all of them. */
export const STAGES: Readonly<
  Record<
    StageName,
    { parent: StageName | null; model: "base" | "chat"; data: "text" | "chat"; alias: string; command: string }
  >
> = Object.freeze({
  S: { parent: null, model: "base", data: "text", alias: "sae_s", command: "train-stage0" },
  D: { parent: "S", model: "base", data: "chat", alias: "sae_sd", command: "train-stage1" },
  M: { parent: "S", model: "chat", data: "text", alias: "sae_sm", command: "train-stage1" },
  DF: { parent: "D", model: "chat", data: "chat", alias: "sae_df", command: "train-stage2" },
  MF: { parent: "M", model: "chat", data: "chat", alias: "sae_mf", command: "train-stage2" },
});

/** Stages each command trains. */
export const COMMAND_STAGES: Readonly<Record<string, readonly StageName[]>> = Object.freeze({
  "train-stage0": ["S"],
  "train-stage1": ["D", "M"],
  "train-stage2": ["DF", "MF"],
});

/** Ancestors of the given stages, parents first, followed by the stages themselves. */
export function withAncestors(stages: readonly StageName[]): StageName[] {
  const out: StageName[] = [];
  const visit = (s: StageName): void => {
    const p = STAGES[s].parent;
    if (p) visit(p);
    if (!out.includes(s)) out.push(s);
  };
  stages.forEach(visit);
  return out;
}

/** The stage and every stage that descends from it, in pipeline order. */
export function withDescendants(stages: readonly StageName[]): StageName[] {
  const out = new Set<StageName>(stages);
  for (const s of Object.keys(STAGES) as StageName[]) {
    const p = STAGES[s].parent;
    if (p !== null && out.has(p)) out.add(s);
  }
  return (Object.keys(STAGES) as StageName[]).filter((s) => out.has(s));
}

export function stageDir(config: DiffingConfig, stage: StageName): string {
  return path.join(config.runDir, "stages", stage);
}

/** What a finished stage records in stages/<name>/stage.json. Paths are relative to the run folder. */
export interface StageRecord {
  readonly stage: StageName;
  readonly alias: string;
  readonly status: "done";
  /** The final SAE checkpoint folder (cfg.json + sae.safetensors + optimizer state). */
  readonly checkpoint: string;
  readonly sha256: string;
  readonly step: number;
  readonly tokens: number;
  readonly parent: {
    readonly stage: StageName;
    readonly checkpoint: string;
    readonly sha256: string;
    readonly step: number;
  } | null;
  readonly adoptedFrom: string | null;
  readonly model: string;
  readonly data: string;
  readonly trainConfig: Record<string, unknown>;
  readonly timings: {
    readonly wallS: number;
    readonly harvestS: number;
    readonly tokensPerS: number;
    readonly harvestTokensPerS: number;
    readonly resumedFromStep: number;
  };
  readonly final: Readonly<Record<string, number>>;
  readonly wandbFolder: string | null;
  /** What the stage was trained from (stage-fingerprint.ts); absent in stages made before fingerprints. */
  readonly fingerprint?: Readonly<Record<string, unknown>>;
  readonly fingerprintDigest?: string;
}

/** Written into a stage's folder when it starts: a partial stage is resumed only under the same fingerprint. */
export const STAGE_FINGERPRINT_FILE = "fingerprint.json";

export function readStageRecord(config: DiffingConfig, stage: StageName): StageRecord | null {
  const file = path.join(stageDir(config, stage), "stage.json");
  if (!fs.existsSync(file)) return null;
  const rec = JSON.parse(fs.readFileSync(file, "utf8")) as StageRecord;
  return rec.status === "done" && fs.existsSync(path.join(config.runDir, rec.checkpoint, "sae.safetensors"))
    ? rec
    : null;
}

/** Absolute checkpoint folder of a finished stage. */
export function stageCheckpoint(config: DiffingConfig, rec: StageRecord): string {
  return path.join(config.runDir, rec.checkpoint);
}
