/**
 * The `features` step: for the chosen latents (default: the top of the two-stage ranking) the max-activating
 * contexts, encoded by the base-side stage (D) on the base model and by the chat-side stage (MF) on the chat
 * model, as the seed did; written as <run>/features/features.json and one static HTML page with the scatter.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { featurePage, maxActivatingContexts } from "@difflens/app-kit";
import { writeFileAtomic, writeJsonAtomic } from "@difflens/common";
import { loadSae } from "@difflens/sae";
import type { DiffingConfig } from "../config/diffing-config.ts";
import { chatDataWindows, maskRulesOf, type StageWindow, textWindows } from "../data/windows.ts";
import { DiffingError } from "../errors.ts";
import type { PipelineModels } from "../models/open-models.ts";
import { readStageRecord, STAGES, stageCheckpoint } from "../stages/stage-plan.ts";

export async function runFeatures(
  config: DiffingConfig,
  models: PipelineModels,
  log: (line: string) => void,
): Promise<string> {
  const cmpDir = path.join(config.runDir, "compare");
  const tableFile = path.join(cmpDir, "latents.json");
  if (!fs.existsSync(tableFile))
    throw new DiffingError("STAGE_MISSING", `features needs the comparison (${tableFile})`, {
      fix: "run `pnpm --filter diffing compare` with this config first",
    });
  const table = JSON.parse(fs.readFileSync(tableFile, "utf8")) as { latents: Array<Record<string, number>> };
  const byLatent = new Map(table.latents.map((r) => [r.latent!, r]));
  const latents = config.features.latents ?? table.latents.slice(0, config.compare.topK).map((r) => r.latent!);
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
  const side = async (stage: typeof config.features.baseStage, model: "base" | "chat") => {
    const rec = readStageRecord(config, stage);
    if (!rec)
      throw new DiffingError("STAGE_MISSING", `features needs stage ${stage}`, {
        fix: `run \`pnpm --filter diffing ${STAGES[stage].command}\` first`,
      });
    const sae = await loadSae(stageCheckpoint(config, rec));
    return maxActivatingContexts({
      model: model === "base" ? models.base : models.chat,
      sae,
      hook: config.hook,
      tokenizer: models.tokenizer,
      windows,
      latents,
      contexts: config.features.contexts,
      radius: config.features.contextRadius,
      windowsPerForward: config.harvest.windowsPerForward,
    });
  };
  const base = await side(config.features.baseStage, "base");
  const chat = await side(config.features.chatStage, "chat");
  const outDir = path.join(config.runDir, "features");
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
  const baseLabel = `${config.features.baseStage} (${STAGES[config.features.baseStage].alias}) on the base model`;
  const chatLabel = `${config.features.chatStage} (${STAGES[config.features.chatStage].alias}) on the chat model`;
  writeJsonAtomic(path.join(outDir, "features.json"), {
    description: "Max-activating contexts per latent (Neuronpedia-like): tokens, values, maxValue, maxPosition.",
    hook: config.hook,
    data: config.features.data,
    windowsScanned: windows.length,
    baseSide: baseLabel,
    chatSide: chatLabel,
    latents: entries,
  });
  const svgFile = path.join(cmpDir, "two-stage-decoder.svg");
  const scatterSvg = fs.existsSync(svgFile) ? fs.readFileSync(svgFile, "utf8").replace(/^<\?xml[^>]*>\s*/, "") : "";
  const html = featurePage({
    title: `${config.name}: top latents of the two-stage comparison`,
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
  const page = path.join(outDir, "index.html");
  writeFileAtomic(page, html);
  log(`features: ${latents.length} latents × ${config.features.contexts} contexts → ${page}`);
  return page;
}
