/**
 * `pnpm --filter readouts sae-conditions [--config FILE]`: seed 000's experiment as one command. Without --config it
 * runs the embedded toy (a planted-condition Qwen2 model with its SAEs, written into a cache folder).
 */
import * as path from "node:path";
import { CONFIG_FLAG, DRY_RUN_FLAG, FORCE_FLAG, RUN_DIR_FLAG, WANDB_FLAG } from "@difflens/app-kit";
import { type Command, didYouMean, type FlagSpec, type ParsedFlags, UsageError } from "@difflens/common";
import { deepFreeze } from "../config-fields.ts";
import {
  loadSaeConditionsConfig,
  resolveSaeConditionsConfig,
  type SaeConditionsConfig,
} from "../sae-conditions/config.ts";
import type { SaeConditionsResults } from "../sae-conditions/results.ts";
import { formatPlan, prepareSaeConditions, runSaeConditions } from "../sae-conditions/run-sae-conditions.ts";
import { type ConditionsToy, writeConditionsToy } from "../toy/conditions-toy.ts";
import { REPO_ROOT, TOY_CACHE_DIR } from "./repo-paths.ts";

const FLAGS: readonly FlagSpec[] = [
  {
    ...CONFIG_FLAG,
    help: "sae-conditions config (JSON; default: the embedded toy); relative paths resolve from its folder",
  },
  {
    ...RUN_DIR_FLAG,
    help: "run folder (overrides the config's runDir; the toy's default runs/readouts/sae-conditions/toy-seed-<N> is replaced on every run); a folder you name must be new or empty unless --force",
  },
  FORCE_FLAG,
  { ...WANDB_FLAG, help: "offline (default: a folder inside the run folder) | online | disabled" },
  {
    name: "seed",
    kind: "number",
    value: "N",
    help: "seed of the permutations, null sets and bootstrap (and of the embedded toy)",
  },
  {
    ...DRY_RUN_FLAG,
    help: "check every input (prompts, model folder, SAE widths, layers, condition labels) and print the plan; writes nothing",
  },
];

export const SAE_CONDITIONS_COMMAND: Command = {
  summary: "SAE features across system-prompt conditions (seed 000): similarity, Track A, Track B, behaviour link.",
  flags: FLAGS,
  notes: [
    "Bad input (a malformed prompt line, an SAE whose d_in does not match the hook, a layer beyond the model, an unknown condition label, a missing SAE file) exits 2 before anything is written.",
  ],
  run: ({ flags, log }) => saeConditionsCommand(flags, log),
};

export async function saeConditionsCommand(flags: ParsedFlags, log: (line: string) => void): Promise<number> {
  const seedFlag = typeof flags.seed === "number" ? flags.seed : undefined;
  let config: SaeConditionsConfig;
  let toy: ConditionsToy | null = null;
  if (typeof flags.config === "string") {
    config = withOverrides(loadSaeConditionsConfig(flags.config), flags, seedFlag);
  } else {
    toy = await writeConditionsToy(TOY_CACHE_DIR, { seed: seedFlag ?? 0, log });
    config = withOverrides(toyConfig(toy), flags, seedFlag);
  }
  const runDir = config.runDir;
  if (flags["dry-run"]) {
    log(formatPlan(config, await prepareSaeConditions(config)));
    log("dry run: nothing computed or written");
    return 0;
  }
  const force = Boolean(flags.force) || (toy !== null && typeof flags["run-dir"] !== "string");
  const details = toy === null ? {} : { toy: describeToy(toy) };
  const results = await runSaeConditions(config, { runDir, log, force, details });
  log(
    `sae-conditions: ${results.layers.length} layer(s), ${results.nPrompts} prompts × ${results.conditions.length} conditions, readout ${results.positions.join(", ")}`,
  );
  if (toy !== null) log(toyCheck(toy, results));
  log(`outputs: ${runDir}`);
  const sub = results.positions.length > 1 ? "<position>/" : "";
  log(
    `  results.json, top-features.{md,csv,json}, figures/${sub} (PNG, PDF, SVG), activations/${sub}layer_<L>.safetensors, run.json`,
  );
  return 0;
}

/** --run-dir, --wandb and --seed applied to a resolved config. */
function withOverrides(config: SaeConditionsConfig, flags: ParsedFlags, seed: number | undefined): SaeConditionsConfig {
  const modes = ["offline", "online", "disabled"] as const;
  const mode = flags.wandb ?? config.wandb.mode;
  if (!modes.includes(mode as (typeof modes)[number]))
    throw new UsageError(
      "USAGE",
      `--wandb: expected one of ${modes.join(", ")}, got "${String(mode)}"${didYouMean(String(mode), modes)}`,
      {
        field: "--wandb",
      },
    );
  return deepFreeze({
    ...config,
    runDir: typeof flags["run-dir"] === "string" ? path.resolve(flags["run-dir"]) : config.runDir,
    wandb: { ...config.wandb, mode: mode as (typeof modes)[number] },
    seed: seed ?? config.seed,
  });
}

/** The embedded toy's config: its model (base + planted LoRA), SAEs, the seed's four conditions, Track A on u. */
export function toyConfig(toy: ConditionsToy): SaeConditionsConfig {
  const others = toy.conditions.filter((c) => c !== toy.plantedCondition);
  return resolveSaeConditionsConfig(
    {
      name: `toy-seed-${toy.seed}`,
      model: { path: toy.modelDir, adapter: toy.adapterDir },
      saes: Object.fromEntries(toy.layers.map((l) => [String(l), toy.saeDirs[l]!])),
      hook: toy.hook,
      layers: [...toy.layers],
      conditions: [...toy.conditions],
      prompts: "builtin",
      trackA: {
        latents: Object.fromEntries(toy.layers.map((l) => [String(l), [toy.uLatent]])),
        pairs: others.map((o) => [toy.plantedCondition, o]),
      },
      runDir: path.join(REPO_ROOT, "runs/readouts/sae-conditions", `toy-seed-${toy.seed}`),
    },
    REPO_ROOT,
  );
}

/** The toy's known answer, as the run saw it: u's latent first by |d_z| in the planted pairs, Track A's p. */
function toyCheck(toy: ConditionsToy, results: SaeConditionsResults): string {
  const planted = results.layers.flatMap((l) => l.trackB.filter((b) => b.pair.includes(toy.plantedCondition)));
  const first = planted.filter((b) => b.top[0]?.latent === toy.uLatent).length;
  const ps = results.layers.flatMap((l) => (l.trackA ?? []).map((a) => a.pValue));
  return (
    `toy: planted condition "${toy.plantedCondition}", u = latent ${toy.uLatent}: first by |d_z| in ${first}/${planted.length} ` +
    `planted (pair, layer)s; Track A on {u}: p ≤ ${Math.max(...ps).toPrecision(3)}`
  );
}

function describeToy(toy: ConditionsToy): Record<string, unknown> {
  return {
    seed: toy.seed,
    modelDir: toy.modelDir,
    adapterDir: toy.adapterDir,
    plantedCondition: toy.plantedCondition,
    uLatent: toy.uLatent,
    orthogonalLatents: toy.orthogonalLatents,
    layers: toy.layers,
  };
}
