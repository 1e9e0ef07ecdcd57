/**
 * What a live request on a diffing run needs, read from the run folder as the pipeline recorded it: the run's config
 * (run.json, paths relative to the run folder), the stage's checkpoint (stages/<stage>/stage.json), and the model the
 * stage was trained on — base for S and D, chat for M, DF and MF — as a model ref: the configured folders (HF folder,
 * Hub cache, base + PEFT adapter) or the toy pair in its cache folder. Nothing is built or written: a missing toy
 * cache or model folder is LIVE_UNAVAILABLE naming it.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import type { ModelRef } from "@difflens/app-kit";
import { resolveModelFolder } from "@difflens/runtime";
import {
  type DiffingConfig,
  type MaskConfig,
  resolveDiffingConfig,
  STAGE_NAMES,
  STAGES,
  type StageRecord,
} from "diffing";
import type { StageName } from "../api/diffing-types.ts";
import { DashboardError } from "../errors.ts";
import type { DiscoveredRun } from "../runs/discovered-run.ts";
import { readRunJson, resolveRunPath } from "../runs/read-run-file.ts";

export interface LiveTarget {
  readonly stage: StageName;
  /** Which model of the pair the stage's SAE reads. */
  readonly side: "base" | "chat";
  readonly hook: string;
  readonly model: ModelRef;
  /** The chat model: its template renders chat-mode requests, as the run's chat data was rendered. */
  readonly chatModel: ModelRef;
  /** Absolute checkpoint folder of the stage's SAE. */
  readonly checkpoint: string;
  readonly mask: MaskConfig;
}

/** The stage's model, SAE and mask of a diffing run, each checked to exist. */
export async function liveTarget(run: DiscoveredRun, stage: string): Promise<LiveTarget> {
  if (run.kind !== "diffing")
    throw new DashboardError("LIVE_UNAVAILABLE", `live runs on diffing runs only; ${run.id} is a ${run.kind} run`, {
      file: "run.json",
      expected: "a diffing run",
      got: run.kind,
    });
  if (!(STAGE_NAMES as readonly string[]).includes(stage))
    throw new DashboardError("NOT_FOUND", `no stage ${JSON.stringify(stage)} in a diffing run`, {
      field: "stage",
      expected: STAGE_NAMES.join(" | "),
      got: stage,
    });
  const name = stage as StageName;
  const config = recordedConfig(run);
  const stageFile = `stages/${name}/stage.json`;
  const record = await readRunJson<StageRecord>(run, stageFile);
  if (typeof record?.checkpoint !== "string")
    throw new DashboardError("NOT_FOUND", `${stageFile}: stage ${name} records no checkpoint (not finished?)`, {
      file: stageFile,
      field: "checkpoint",
    });
  const checkpoint = await resolveRunPath(run, record.checkpoint, { allowDirectory: true });
  await resolveRunPath(run, path.posix.join(record.checkpoint, "sae.safetensors"));
  const { base, chat } = modelRefs(config, record, stageFile);
  const side = STAGES[name].model;
  const model = side === "base" ? base : chat;
  checkModelRef(run, model);
  return { stage: name, side, hook: config.hook, model, chatModel: chat, checkpoint, mask: config.mask };
}

/** run.json's config, its relative paths resolved against the run folder (where the run recorded them from). */
function recordedConfig(run: DiscoveredRun): DiffingConfig {
  const recorded = run.runJson?.config;
  if (recorded === null || typeof recorded !== "object")
    throw new DashboardError("RUN_FILE_INVALID", "run.json: no config recorded", {
      file: "run.json",
      field: "config",
      expected: "the diffing config the run was made with",
    });
  // `file` names the config file the run was started from: provenance, not a config key.
  const { file: _file, ...config } = recorded as Record<string, unknown>;
  try {
    return resolveDiffingConfig(config, run.dir);
  } catch (error) {
    const field = (error as { facts?: { field?: unknown } }).facts?.field;
    throw new DashboardError(
      "RUN_FILE_INVALID",
      `run.json: the recorded config does not resolve — ${(error as Error).message}`,
      { file: "run.json", field: typeof field === "string" ? `config.${field}` : "config" },
      { cause: error },
    );
  }
}

/** The pair as the run opened it; the toy's folders at the toy version the stage was trained on. */
function modelRefs(config: DiffingConfig, record: StageRecord, stageFile: string): { base: ModelRef; chat: ModelRef } {
  if (config.toy === null) return { base: config.baseModel!, chat: config.chatModel! };
  const { seed, plantScale, plant, cacheDir } = config.toy;
  const version = (record.fingerprint as { model?: { toy?: { version?: unknown } } } | undefined)?.model?.toy?.version;
  if (typeof version !== "number")
    throw new DashboardError("RUN_FILE_INVALID", `${stageFile}: no toy version in the stage's fingerprint`, {
      file: stageFile,
      field: "fingerprint.model.toy.version",
      expected: "a number",
    });
  // The layout of apps/diffing's ensureToyFiles.
  const seedDir = path.join(cacheDir, `v${version}`, `seed-${seed}`);
  const base = { path: path.join(seedDir, "base"), adapter: null };
  return { base, chat: plant ? { ...base, adapter: path.join(seedDir, `plant-${plantScale}`) } : base };
}

function checkModelRef(run: DiscoveredRun, ref: ModelRef): void {
  const shown = (p: string) => shownPath(run, p);
  try {
    resolveModelFolder(ref.path);
  } catch (error) {
    throw new DashboardError(
      "LIVE_UNAVAILABLE",
      `the model ${shown(ref.path)} is not here: ${(error as Error).message}`,
      { file: shown(ref.path), fix: "run the pipeline (or `pnpm demo`) on this machine to make or download it" },
      { cause: error },
    );
  }
  if (ref.adapter !== null && !existsSync(path.join(ref.adapter, "adapter_config.json")))
    throw new DashboardError("LIVE_UNAVAILABLE", `the LoRA adapter ${shown(ref.adapter)} is not here`, {
      file: shown(ref.adapter),
      expected: "a PEFT adapter folder (adapter_config.json)",
    });
}

/** A path as error panels show it: relative to the run folder (model folders outside it too: `../../toy-models/…`). */
export function shownPath(run: Pick<DiscoveredRun, "dir">, p: string): string {
  return path.isAbsolute(p) ? path.relative(run.dir, p) : p;
}
