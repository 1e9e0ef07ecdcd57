/**
 * The `features` step: for the chosen latents (`features.latents`: default the top of the two-stage ranking, "all",
 * or a list) the max-activating contexts, encoded by the base-side stage (D) on the base model and by the chat-side
 * stage (MF) on the chat model, as the seed did; written as <run>/features/features.json and one static HTML page
 * with the scatter. For every latent of every stage also its density and top decoder logits
 * (latent-stats-<stage>.safetensors, see stage-stats.ts), so a feature page exists for every latent.
 * Before anything is encoded, the stages are verified against the config's fingerprints (so `--seed 3` on a seed-0
 * run is refused, naming the fields) and compare/ must have been computed from these very checkpoints; an existing
 * features/ is replaced only with `force`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { featurePage, maxActivatingContexts, refuseExistingOutput, writeOutputFolder } from "@difflens/app-kit";
import { writeFileAtomic, writeJsonAtomic } from "@difflens/common";
import { loadSae, type Sae } from "@difflens/sae";
import { comparedStages } from "../compare/compare.ts";
import { type DiffingConfig, STAGE_NAMES, type StageName } from "../config/diffing-config.ts";
import { chatDataWindows, maskRulesOf, type StageWindow, textWindows } from "../data/windows.ts";
import { DiffingError } from "../errors.ts";
import type { PipelineModels } from "../models/open-models.ts";
import { verifiedStageRecords } from "../stages/stage-check.ts";
import { stageFingerprints } from "../stages/stage-fingerprint.ts";
import { STAGES, type StageRecord, stageCheckpoint } from "../stages/stage-plan.ts";
import { latentStatsFileName } from "./latent-stats-file.ts";
import { LOGIT_TOKENS_FILE, stageStatsWriter } from "./stage-stats.ts";

interface CompareTable {
  readonly stages?: Record<string, { sha256: string; fingerprint: string | null }>;
  readonly latents: Array<Record<string, number>>;
}

/**
 * What features reads, verified (call it before opening the models): the five stages under this config, the
 * comparison computed from them, and features/ absent or `force`.
 */
export function checkFeaturesInputs(
  config: DiffingConfig,
  force: boolean,
): { records: Record<StageName, StageRecord>; table: CompareTable } {
  const records = verifiedStageRecords(config, STAGE_NAMES, stageFingerprints(config), "features");
  const alternatives = "or another run folder";
  refuseExistingOutput(path.join(config.runDir, "features"), { force, what: "features", alternatives });
  const tableFile = path.join(config.runDir, "compare", "latents.json");
  if (!fs.existsSync(tableFile))
    throw new DiffingError("STAGE_MISSING", `features needs the comparison (${tableFile})`, {
      fix: "run `pnpm --filter diffing compare` with this config first",
    });
  const table = JSON.parse(fs.readFileSync(tableFile, "utf8")) as CompareTable;
  if (JSON.stringify(table.stages) !== JSON.stringify(comparedStages(records))) {
    const what = `${tableFile} was computed from other checkpoints than the stages now in ${config.runDir}`;
    const why = "(or before comparisons recorded them); its ranking does not describe these SAEs";
    throw new DiffingError("FINGERPRINT_MISMATCH", `features: ${what} ${why}`, {
      file: tableFile,
      fix: "rerun `pnpm --filter diffing compare --force` with this config",
    });
  }
  return { records, table };
}

export async function runFeatures(
  config: DiffingConfig,
  models: PipelineModels,
  log: (line: string) => void,
  options: { readonly force?: boolean } = {},
): Promise<string> {
  const force = options.force ?? false;
  const { records, table } = checkFeaturesInputs(config, force);
  const cmpDir = path.join(config.runDir, "compare");
  const byLatent = new Map(table.latents.map((r) => [r.latent!, r]));
  const latents = contextLatents(config, table);
  for (const l of latents)
    if (!byLatent.has(l))
      throw new DiffingError(
        "CONFIG_INVALID",
        `features.latents: latent ${l} is not in the comparison (d_sae ${table.latents.length})`,
        { field: "features.latents", got: l },
      );

  const rules = maskRulesOf(config.mask, models.tokenizer);
  const windows: StageWindow[] = [];
  const stream =
    config.features.data === "chat"
      ? chatDataWindows(config.chatData, models.tokenizer, models.template, rules, 7)
      : textWindows(config.textData, models.tokenizer, rules, 7);
  for await (const w of stream) {
    windows.push(w);
    if (windows.length >= config.features.windows) break;
  }
  const saes = {} as Record<StageName, Sae>;
  for (const s of STAGE_NAMES) saes[s] = await loadSae(stageCheckpoint(config, records[s]));
  const side = (stage: StageName, model: "base" | "chat") =>
    maxActivatingContexts({
      model: model === "base" ? models.base : models.chat,
      sae: saes[stage],
      hook: config.hook,
      tokenizer: models.tokenizer,
      windows,
      latents,
      contexts: config.features.contexts,
      radius: config.features.contextRadius,
      windowsPerForward: config.harvest.windowsPerForward,
    });
  const { baseStage, chatStage } = config.features;
  const base = await side(baseStage, "base");
  const chat = await side(chatStage, "chat");
  const finalDir = path.join(config.runDir, "features");
  const entries = latents.map((latent, i) => {
    const row = byLatent.get(latent)!;
    return {
      latent,
      rank: row.rank!,
      cosines: {
        "cos(D,DF)": row.dec_D_DF!,
        "cos(M,MF)": row.dec_M_MF!,
        "cos(S,D)": row.dec_S_D!,
        "cos(S,M)": row.dec_S_M!,
        "enc cos(D,DF)": row.enc_D_DF!,
        "enc cos(M,MF)": row.enc_M_MF!,
      },
      base: base[i]!,
      chat: chat[i]!,
    };
  });
  const stageFiles = await stageStatsWriter(config, models, saes, windows);
  const baseLabel = `${baseStage} (${STAGES[baseStage].alias}) on the base model`;
  const chatLabel = `${chatStage} (${STAGES[chatStage].alias}) on the chat model`;
  const content = {
    description: "Max-activating contexts per latent (Neuronpedia-like): tokens, values, maxValue, maxPosition.",
    hook: config.hook,
    data: config.features.data,
    windowsScanned: windows.length,
    baseSide: baseLabel,
    chatSide: chatLabel,
    stages: Object.fromEntries([baseStage, chatStage].map((s) => [s, records[s].fingerprintDigest])),
    latentStats: {
      description:
        "Per stage, every latent's firing count, max activation, density histogram and top decoder logits (see the file's header); token strings of the logit ids in logit-tokens.json.",
      files: Object.fromEntries(STAGE_NAMES.map((s) => [s, latentStatsFileName(s)])),
      tokensFile: LOGIT_TOKENS_FILE,
    },
    latents: entries,
  };
  const svgFile = path.join(cmpDir, "two-stage-decoder.svg");
  const scatterSvg = fs.existsSync(svgFile) ? fs.readFileSync(svgFile, "utf8").replace(/^<\?xml[^>]*>\s*/, "") : "";
  const html = featurePage({
    title: `${config.name}: latents of the two-stage comparison`,
    subtitle: `${config.hook}; ${windows.length} ${config.features.data} windows scanned; contexts encoded by ${baseLabel} and by ${chatLabel}.`,
    figureSvg: scatterSvg,
    columns: [baseLabel, chatLabel],
    latents: entries.map((e) => ({
      latent: e.latent,
      note: `rank ${e.rank}`,
      stats: e.cosines,
      examples: [e.base, e.chat],
    })),
  });
  await writeOutputFolder(
    finalDir,
    async (outDir) => {
      writeJsonAtomic(path.join(outDir, "features.json"), content);
      writeFileAtomic(path.join(outDir, "index.html"), html);
      await stageFiles(outDir);
    },
    { force, what: "features" },
  );
  const page = path.join(finalDir, "index.html");
  log(
    `features: ${latents.length} latents × ${config.features.contexts} contexts, density and logits of all ${table.latents.length} latents in ${STAGE_NAMES.length} stages → ${page}`,
  );
  return page;
}

/** The latents that get contexts: features.latents ("all", a list) or the top compare.topK of the ranking. */
function contextLatents(config: DiffingConfig, table: CompareTable): number[] {
  const chosen = config.features.latents;
  if (chosen === "all") return table.latents.map((r) => r.latent!).sort((a, b) => a - b);
  return chosen !== null ? [...chosen] : table.latents.slice(0, config.compare.topK).map((r) => r.latent!);
}
