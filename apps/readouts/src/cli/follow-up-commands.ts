/**
 * `pnpm --filter readouts logit-lens | dla | patch | ablate-mlp [--run-dir DIR] …`: seed 001's follow-ups over an
 * attention-marker run's saved positives, each measured at t* − 1 (see the README's follow-ups section). Without
 * --run-dir they read the embedded toy's run, running its stage 1 first when that folder has no generations yet.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { FORCE_FLAG, RUN_DIR_FLAG } from "@difflens/app-kit";
import { type Command, type FlagSpec, type Log, type ParsedFlags, UsageError } from "@difflens/common";
import { loadAttentionMarkerConfig } from "../attention-marker/config.ts";
import { runAttentionMarker } from "../attention-marker/run-attention-marker.ts";
import type { FollowUpOptions, FollowUpOutcome } from "../follow-ups/run-follow-up.ts";
import { runAblateMlp, runDla, runLogitLens, runPatch } from "../follow-ups/run-follow-ups.ts";
import { type MarkerPlant, writeMarkerToy } from "../toy/marker-toy.ts";
import { REPO_ROOT, TOY_CACHE_DIR } from "./repo-paths.ts";

const COMMON_FLAGS: readonly FlagSpec[] = [
  {
    ...RUN_DIR_FLAG,
    help: "attention-marker run folder (config.json + generations/); default: the embedded toy's runs/readouts/attention-marker/toy-<plant>-seed-<N>",
  },
  {
    name: "batch-size",
    kind: "integer",
    value: "N",
    help: "sequences per forward pass (default: the run's readout.batchSize)",
  },
  {
    name: "plant",
    kind: "string",
    value: "mlp|attention",
    help: "the embedded toy's plant (default mlp; without --run-dir only)",
  },
  { name: "seed", kind: "integer", value: "N", help: "the embedded toy's seed (default 0; without --run-dir only)" },
  { ...FORCE_FLAG, help: "replace an existing follow-ups/<command> folder" },
];

const NOTES = [
  "Writes <runDir>/follow-ups/<command>/: results.json, examples.jsonl (one row per positive and model) and figures (.png/.pdf/.svg + data).",
  "Exit 2 when the run folder is not an attention-marker run (no config.json) or holds no positives.",
];

/** `own` reads the command's own flags (checked before anything runs); `run` gets them with the common options. */
function command<O extends object>(
  name: string,
  summary: string,
  extra: readonly FlagSpec[],
  own: (flags: ParsedFlags) => O,
  run: (runDir: string, options: FollowUpOptions & O) => Promise<FollowUpOutcome<object>>,
): Command {
  return {
    summary,
    flags: [...COMMON_FLAGS, ...extra],
    notes: NOTES,
    run: async ({ flags, log }) => {
      const options = {
        ...own(flags),
        ...(typeof flags["batch-size"] === "number" ? { batchSize: flags["batch-size"] } : {}),
        force: Boolean(flags.force),
        progress: true,
        log,
      };
      const runDir = await resolveRunDir(flags, log);
      log(`${name}: ${runDir}`);
      const outcome = await run(runDir, options);
      process.stdout.write(`${outcome.summary}\n  outputs: ${outcome.dir}\n`);
      return 0;
    },
  };
}

function oneOf<T extends string>(flags: ParsedFlags, flag: string, values: readonly T[], fallback: T): T {
  const v = flags[flag];
  if (v === undefined) return fallback;
  if (typeof v === "string" && (values as readonly string[]).includes(v)) return v as T;
  throw new UsageError("USAGE", `--${flag}: expected ${values.join(" or ")}, got "${String(v)}"`, {
    field: `--${flag}`,
    expected: values.join(" | "),
    got: String(v),
  });
}

/** --run-dir, or the embedded toy's run (its stage 1 run first when the folder has no config.json yet). */
async function resolveRunDir(flags: ParsedFlags, log: Log): Promise<string> {
  if (typeof flags["run-dir"] === "string") {
    if (flags.plant !== undefined || flags.seed !== undefined)
      throw new UsageError("USAGE", "--plant and --seed apply to the embedded toy (no --run-dir)");
    return path.resolve(flags["run-dir"]);
  }
  const plant = oneOf<MarkerPlant>(flags, "plant", ["mlp", "attention"], "mlp");
  const seed = typeof flags.seed === "number" ? flags.seed : 0;
  const runDir = path.join(REPO_ROOT, "runs/readouts/attention-marker", `toy-${plant}-seed-${seed}`);
  if (!fs.existsSync(path.join(runDir, "config.json"))) {
    log(`the embedded toy (${plant} plant, seed ${seed}) has no run yet: running its stage 1 (generate) → ${runDir}`);
    const toy = await writeMarkerToy(path.join(TOY_CACHE_DIR, "marker"), { seed, plant, log });
    await runAttentionMarker(loadAttentionMarkerConfig(toy.configFile), { runDir, log, stages: ["generate"] });
  }
  return runDir;
}

export const FOLLOW_UP_COMMANDS: Readonly<Record<string, Command>> = {
  "logit-lens": command(
    "logit-lens",
    "Seed 001 follow-up: the marker's logit, probability and rank at t* − 1 per layer (logit lens), trained vs comparator.",
    [],
    () => ({}),
    runLogitLens,
  ),
  dla: command(
    "dla",
    "Seed 001 follow-up: direct logit attribution of the marker at t* − 1 per head, per MLP and the embedding.",
    [],
    () => ({}),
    runDla,
  ),
  patch: command(
    "patch",
    "Seed 001 follow-up: residual-stream patching trained → comparator per layer; ΔP(marker) at t* − 1 and its locus.",
    [
      {
        name: "positions",
        kind: "string",
        value: "emit|all",
        help: "patch t* − 1 only (emit, default) or every position ≤ t* − 1 (all)",
      },
    ],
    (flags) => ({ positions: oneOf(flags, "positions", ["emit", "all"] as const, "emit") }),
    runPatch,
  ),
  "ablate-mlp": command(
    "ablate-mlp",
    "Seed 001 follow-up: ablate each layer's MLP output at t* − 1 in the trained model; the drop in P(marker).",
    [
      {
        name: "mode",
        kind: "string",
        value: "zero|mean",
        help: "zero (default) or the MLP output's mean over every position of the positives",
      },
    ],
    (flags) => ({ mode: oneOf(flags, "mode", ["zero", "mean"] as const, "zero") }),
    runAblateMlp,
  ),
};
