/**
 * `pnpm --filter readouts steer [--config FILE] [--run-dir DIR] [--force] [--seed N]`: generate under a condition
 * with SAE-latent clamps or added directions active on every step (see the README's steer section). Without --config it runs the
 * embedded toy and checks its known answer (exit 1 when clamping u does not halve the KL to the unplanted model).
 */
import * as path from "node:path";
import {
  CONFIG_FLAG,
  DRY_RUN_FLAG,
  FORCE_FLAG,
  loadConfigFile,
  RUN_DIR_FLAG,
  recordRun,
  startRunEvent,
  writeOutputFolder,
} from "@difflens/app-kit";
import { type Command, type Log, type ParsedFlags, UsageError } from "@difflens/common";
import { ReadoutsError } from "../errors.ts";
import { checkSteerInputs, runSteer, type SteerResults } from "../steer/run-steer.ts";
import { resolveSteerConfig, type SteerConfig } from "../steer/steer-config.ts";
import { toySteer } from "../steer/toy-steer.ts";
import { REPO_ROOT, TOY_CACHE_DIR } from "./repo-paths.ts";

export const STEER_COMMAND: Command = {
  summary: "Generate under a condition with SAE-latent clamps or added directions active on every step.",
  flags: [
    {
      ...CONFIG_FLAG,
      help: "steer config (see the steer section of apps/readouts/README.md); default: the embedded toy and its check",
    },
    {
      ...RUN_DIR_FLAG,
      help: "run folder (default runs/readouts/steer/<config name> or …/steer/toy-seed-<N>); refused when not empty unless --force",
    },
    FORCE_FLAG,
    DRY_RUN_FLAG,
    { name: "seed", kind: "number", value: "N", help: "the embedded toy's seed (default 0; without --config only)" },
  ],
  notes: [
    "Writes run.json, results.json, prompts.jsonl (texts per prompt and α) and alpha-sweep.{png,pdf,svg,json,csv}.",
    "Exit 1 when the config's minKlDrop check (the toy's: KL to the unplanted model halved) fails.",
  ],
  run: ({ flags, log }) => steerCommand(flags, log),
};

async function steerCommand(flags: ParsedFlags, log: Log): Promise<number> {
  let config: SteerConfig;
  let runName: string;
  let toyNote: Record<string, unknown> | null = null;
  if (typeof flags.config === "string") {
    if (flags.seed !== undefined) throw new UsageError("USAGE", "--seed applies to the embedded toy (no --config)");
    config = loadConfigFile(flags.config, resolveSteerConfig, ReadoutsError);
    runName = path.basename(flags.config, path.extname(flags.config));
  } else {
    const seed = typeof flags.seed === "number" ? flags.seed : 0;
    const made = await toySteer(TOY_CACHE_DIR, seed);
    config = made.config;
    runName = `toy-seed-${seed}`;
    toyNote = { seed, plantedCondition: made.toy.plantedCondition, sae: made.sae.folder, uLatent: made.sae.uLatent };
    log(
      `steer: the embedded toy (seed ${seed}) — the planted model under ${made.toy.plantedCondition}, its u latent ` +
        `${made.sae.uLatent} clamped to 0 at ${made.sae.hook}; reference: the unplanted base`,
    );
  }
  const runDir = path.resolve(
    typeof flags["run-dir"] === "string" ? flags["run-dir"] : path.join(REPO_ROOT, "runs/readouts/steer", runName),
  );
  if (flags["dry-run"]) {
    const { interventions, prompts } = await checkSteerInputs(config);
    const settings = Math.max(...interventions.map((it) => it.alphas.length));
    process.stdout.write(
      `${[
        `steer (dry run): inputs checked; nothing was written`,
        `  model ${config.model.path}${config.reference ? `; reference ${config.reference.path}` : ""}; condition ${config.conditionLabel}`,
        ...interventions.map((it) => `  ${it.label} (α ${it.alphas.join(", ")})`),
        `  ${prompts} prompts × ${settings} setting(s), ${config.generate.maxNewTokens} new tokens each → ${runDir}`,
      ].join("\n")}\n`,
    );
    return 0;
  }
  const event = startRunEvent("steer");
  const results = await writeOutputFolder(
    runDir,
    async (dir) => {
      const r = await runSteer(config, { runDir: dir, log });
      const details = { best: r.best, check: r.check, ...(toyNote ? { toy: toyNote } : {}) };
      recordRun(
        dir,
        { format: "difflens-readouts-steer", app: import.meta.url, config, seed: config.seed },
        event.end(details),
      );
      return r;
    },
    { force: Boolean(flags.force), what: "steer", alternatives: "or another --run-dir" },
  );
  process.stdout.write(`${formatSteer(results, runDir)}\n`);
  return results.check === null || results.check.passed ? 0 : 1;
}

export function formatSteer(r: SteerResults, runDir: string): string {
  const f = (v: number | null, digits = 4) => (v === null || !Number.isFinite(v) ? "—" : v.toFixed(digits));
  const prob = (v: number | null) => (v === null ? "—" : v < 1e-3 ? v.toExponential(2) : v.toFixed(4));
  const lines = [
    `model ${r.model}${r.reference ? `; reference ${r.reference}` : ""}; condition ${r.condition}`,
    ...r.interventions.map((it) => `  ${it.label}`),
    "  α        next-token KL   KL(ref‖model)   drop    " +
      r.unsteered.targets.map((t) => `p(${JSON.stringify(t.token)}) where next`).join("  "),
    `  unsteered ${f(0)}          ${f(r.unsteered.klToReference)}          —       ${r.unsteered.targets.map((t) => prob(t.whereNext)).join("  ")}`,
    ...r.settings.map(
      (s) =>
        `  ${String(s.alpha).padEnd(8)} ${f(s.nextTokenKl)}          ${f(s.klToReference)}          ${f(s.klDrop, 3)}   ${s.targets.map((t) => prob(t.whereNext)).join("  ")}`,
    ),
  ];
  if (r.best)
    lines.push(
      `best α ${r.best.alpha}: KL to the reference ${f(r.unsteered.klToReference)} → ${f(r.best.klToReference)} (drop ${f(r.best.klDrop, 3)})`,
    );
  if (r.check) lines.push(`check: drop ≥ ${r.check.minKlDrop} — ${r.check.passed ? "PASS" : "FAIL"}`);
  lines.push(`outputs: ${runDir} (results.json, prompts.jsonl, ${r.figures.join(", ") || "no figures"})`);
  return lines.join("\n");
}
