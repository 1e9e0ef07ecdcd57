/**
 * The config's interventions made concrete: SAEs loaded (a folder, or a diffing run's stage folder whose
 * stage.json names its final checkpoint), latents resolved (an index, or a rank of that run's compare ranking),
 * hooks named and checked against the model, directions read — all before any forward pass.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  addDirectionHook,
  clampLatentHook,
  loadSae,
  readDirectionFile,
  type Sae,
  type SteeringHook,
  type SteeringPositions,
  saeDecoderDirection,
} from "@difflens/sae";
import { ReadoutsError } from "../errors.ts";
import type { InterventionConfig, LatentRef, SaeRef, SteerConfig } from "./steer-config.ts";

/** What the model offers the interventions: its width and a hook-name check. */
export interface HookTarget {
  readonly dModel: number;
  /** Throws for a name the model has no hook for. */
  checkHook(name: string): void;
}

export interface ResolvedIntervention {
  readonly kind: "clamp" | "add";
  readonly hook: string;
  /** Human-readable: `clamp L3 latent 5 → 0`, `add 2 × decoder row 7 of …/stages/MF`. */
  readonly label: string;
  /** The α values (add) or [value] (clamp) this intervention runs at. */
  readonly alphas: readonly number[];
  /** Its hook at one α (ignored by a clamp), acting on `positions`. */
  hookAt(alpha: number, positions: SteeringPositions): SteeringHook;
  /** Latent indices it uses (for the results), or null for a direction file. */
  readonly latents: readonly number[] | null;
}

export async function resolveInterventions(config: SteerConfig, target: HookTarget): Promise<ResolvedIntervention[]> {
  const saes = new Map<string, Promise<{ sae: Sae; folder: string }>>();
  const saeOf = (ref: SaeRef) => {
    const folder = "layer" in ref ? config.saes[ref.layer]! : ref.folder;
    if (!saes.has(folder)) saes.set(folder, openSae(folder));
    return saes.get(folder)!;
  };
  const out: ResolvedIntervention[] = [];
  for (const [i, it] of config.interventions.entries()) out.push(await resolveOne(it, i, config, target, saeOf));
  return out;
}

async function resolveOne(
  it: InterventionConfig,
  i: number,
  config: SteerConfig,
  target: HookTarget,
  saeOf: (ref: SaeRef) => Promise<{ sae: Sae; folder: string }>,
): Promise<ResolvedIntervention> {
  const where = `steer.interventions[${i}]`;
  const saeRef = it.kind === "clamp" ? it.sae : "sae" in it.direction ? it.direction.sae : null;
  const opened = saeRef ? await saeOf(saeRef) : null;
  const hook =
    it.hook ?? (it.layer !== null ? config.hook.replace("{layer}", String(it.layer)) : (opened?.sae.hookName ?? null));
  if (hook === null) {
    throw new ReadoutsError("CONFIG_INVALID", `${where}: the SAE records no hook; give "hook" or "layer"`, {
      field: `${where}.hook`,
    });
  }
  try {
    target.checkHook(hook);
  } catch (e) {
    throw new ReadoutsError("CONFIG_INVALID", `${where}: ${(e as Error).message}`, {
      field: `${where}.hook`,
      got: hook,
    });
  }
  if (opened && opened.sae.dIn !== target.dModel) {
    const message = `${where}: the SAE ${opened.folder} has d_in ${opened.sae.dIn}; the model's hook ${hook} has width ${target.dModel}`;
    throw new ReadoutsError("INPUT_INVALID", message, {
      field: `${where}.sae`,
      expected: target.dModel,
      got: opened.sae.dIn,
    });
  }
  const latent = (ref: LatentRef, sae: Sae, folder: string): number => {
    const index = typeof ref === "number" ? ref : compareRanked(folder, ref.compareRank, where);
    if (index >= sae.dSae) {
      const message = `${where}.latent: ${index} is outside the ${sae.dSae} latents of ${folder}`;
      throw new ReadoutsError("CONFIG_INVALID", message, {
        field: `${where}.latent`,
        expected: `< ${sae.dSae}`,
        got: index,
      });
    }
    return index;
  };
  if (it.kind === "clamp") {
    const { sae, folder } = opened!;
    const latents = it.latents.map((l) => latent(l, sae, folder));
    return {
      kind: "clamp",
      hook,
      label: `clamp ${hook} latent${latents.length > 1 ? "s" : ""} ${latents.join(", ")} → ${it.value}`,
      alphas: [it.value],
      latents,
      hookAt: (_alpha, positions) => clampLatentHook(sae, { hook, latent: latents, value: it.value, positions }),
    };
  }
  let direction: Float32Array;
  let what: string;
  let latents: number[] | null = null;
  if ("file" in it.direction) {
    try {
      direction = await readDirectionFile(it.direction.file);
    } catch (e) {
      throw new ReadoutsError("INPUT_INVALID", `${where}.directionFile: ${(e as Error).message}`, {
        file: it.direction.file,
        field: `${where}.directionFile`,
      });
    }
    what = path.basename(it.direction.file);
    if (direction.length !== target.dModel) {
      const message = `${where}.directionFile: ${it.direction.file} holds ${direction.length} values; the hook ${hook} has width ${target.dModel}`;
      throw new ReadoutsError("INPUT_INVALID", message, {
        file: it.direction.file,
        expected: target.dModel,
        got: direction.length,
      });
    }
  } else {
    const { sae, folder } = opened!;
    const index = latent(it.direction.latent, sae, folder);
    direction = saeDecoderDirection(sae, index);
    what = `decoder row ${index}`;
    latents = [index];
  }
  return {
    kind: "add",
    hook,
    label: `add α × ${what} at ${hook}`,
    alphas: it.alphas,
    latents,
    hookAt: (alpha, positions) => addDirectionHook({ hook, direction, alpha, positions }),
  };
}

/** An SAE folder, or a diffing stage folder (`<run>/stages/<S>`: its stage.json names the final checkpoint). */
async function openSae(folder: string): Promise<{ sae: Sae; folder: string }> {
  if (!fs.existsSync(folder)) {
    throw new ReadoutsError("INPUT_INVALID", `SAE folder ${folder} does not exist`, { file: folder });
  }
  const stageFile = path.join(folder, "stage.json");
  let dir = folder;
  if (fs.existsSync(stageFile)) {
    const record = JSON.parse(fs.readFileSync(stageFile, "utf8")) as { checkpoint?: string };
    if (typeof record.checkpoint !== "string") {
      throw new ReadoutsError("INPUT_INVALID", `${stageFile}: no "checkpoint" (is the stage finished?)`, {
        file: stageFile,
      });
    }
    dir = path.join(diffingRunOf(folder), record.checkpoint);
  }
  try {
    return { sae: await loadSae(dir), folder };
  } catch (e) {
    throw new ReadoutsError("INPUT_INVALID", `SAE ${dir}: ${(e as Error).message}`, { file: dir });
  }
}

/** `<run>` of `<run>/stages/<S>`. */
function diffingRunOf(stageFolder: string): string {
  return path.dirname(path.dirname(stageFolder));
}

/** The latent at `rank` (1-based) of the diffing run's compare ranking (`<run>/compare/latents.json`). */
function compareRanked(stageFolder: string, rank: number, where: string): number {
  const file = path.join(diffingRunOf(stageFolder), "compare", "latents.json");
  if (!fs.existsSync(file)) {
    const message = `${where}.latent: compareRank needs the diffing run's compare/latents.json; ${file} does not exist (run \`pnpm --filter diffing compare\`)`;
    throw new ReadoutsError("CONFIG_INVALID", message, { file, field: `${where}.latent` });
  }
  const rows = (JSON.parse(fs.readFileSync(file, "utf8")) as { latents: { latent: number; rank: number }[] }).latents;
  const row = rows.find((r) => r.rank === rank);
  if (!row) {
    throw new ReadoutsError("CONFIG_INVALID", `${where}.latent: ${file} has no rank ${rank}`, { file, got: rank });
  }
  return row.latent;
}
