/**
 * The `compare` step: per latent decoder and encoder cosines for S–D, S–M, D–DF, M–MF, the two-stage ranking by
 * cos(D, DF) + cos(M, MF), the per-latent table (CSV + JSON) and the two-stage scatters (decoder and encoder;
 * PNG, PDF, SVG with the plotted data beside them) in <run>/compare/.
 */
import * as path from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "@difflens/common";
import { saveFigure, scatter, topLabels } from "@difflens/plot";
import { loadSae, type Sae } from "@difflens/sae";
import { type DiffingConfig, STAGE_NAMES, type StageName } from "../config/diffing-config.ts";
import { DiffingError } from "../errors.ts";
import { readStageRecord, STAGES, stageCheckpoint } from "../stages/stage-plan.ts";
import { type LatentCosines, latentCosines, type PairName, twoStageRanking } from "./latent-cosines.ts";

export interface CompareResult {
  readonly saes: Readonly<Record<StageName, Sae>>;
  readonly cosines: LatentCosines;
  /** Latents, most rotated (smallest decoder sum) first. */
  readonly ranking: readonly number[];
  readonly encoderRanking: readonly number[];
  /** rank[i] = position of latent i in `ranking` (0-based). */
  readonly rankOf: Int32Array;
  readonly figures: readonly string[];
}

const PAIR_KEYS: readonly PairName[] = ["S_D", "S_M", "D_DF", "M_MF"];

export async function loadStageSaes(config: DiffingConfig): Promise<Record<StageName, Sae>> {
  const out = {} as Record<StageName, Sae>;
  for (const s of STAGE_NAMES) {
    const rec = readStageRecord(config, s);
    if (!rec)
      throw new DiffingError(
        "STAGE_MISSING",
        `compare needs stage ${s} (${STAGES[s].alias}), which is not trained in ${config.runDir}`,
        { fix: `run \`pnpm --filter diffing ${STAGES[s].command}\` with this config first` },
      );
    out[s] = await loadSae(stageCheckpoint(config, rec));
  }
  return out;
}

export async function runCompare(config: DiffingConfig, log: (line: string) => void): Promise<CompareResult> {
  const saes = await loadStageSaes(config);
  const cosines = latentCosines(saes);
  const ranking = twoStageRanking(cosines.decoder.D_DF, cosines.decoder.M_MF);
  const encoderRanking = twoStageRanking(cosines.encoder.D_DF, cosines.encoder.M_MF);
  const dSae = saes.S.dSae;
  const rankOf = new Int32Array(dSae);
  for (const [r, latent] of ranking.entries()) rankOf[latent] = r;
  const encRankOf = new Int32Array(dSae);
  for (const [r, latent] of encoderRanking.entries()) encRankOf[latent] = r;
  const outDir = path.join(config.runDir, "compare");

  const rows = ranking.map((i) => {
    const row: Record<string, number> = { latent: i, rank: rankOf[i]! + 1 };
    for (const k of PAIR_KEYS) row[`dec_${k}`] = round(cosines.decoder[k][i]!);
    row.dec_sum = round(cosines.decoder.D_DF[i]! + cosines.decoder.M_MF[i]!);
    for (const k of PAIR_KEYS) row[`enc_${k}`] = round(cosines.encoder[k][i]!);
    row.enc_sum = round(cosines.encoder.D_DF[i]! + cosines.encoder.M_MF[i]!);
    row.enc_rank = encRankOf[i]! + 1;
    return row;
  });
  const header = Object.keys(rows[0]!);
  writeFileAtomic(
    path.join(outDir, "latents.csv"),
    `${[header.join(","), ...rows.map((r) => header.map((h) => r[h]).join(","))].join("\n")}\n`,
  );
  writeJsonAtomic(path.join(outDir, "latents.json"), {
    description:
      "Per-latent cosine similarity of decoder (dec_*) and encoder (enc_*) rows between parent and child stages; rank by dec_sum = cos(D,DF) + cos(M,MF), smallest (most rotated) first.",
    hook: config.hook,
    dSae,
    threshold: config.compare.threshold,
    latents: rows,
  });
  writeJsonAtomic(path.join(outDir, "ranking.json"), {
    by: "decoder cos(D,DF) + cos(M,MF), ascending",
    top: ranking.slice(0, config.compare.topK),
    encoderTop: encoderRanking.slice(0, config.compare.topK),
  });

  const figures: string[] = [];
  const ids = Array.from({ length: dSae }, (_, i) => i);
  const t = config.compare.threshold;
  for (const kind of ["decoder", "encoder"] as const) {
    const c = cosines[kind];
    const sums = ids.map((i) => c.D_DF[i]! + c.M_MF[i]!);
    const spec = {
      title: `Two-stage comparison (${kind} directions)`,
      subtitle: `${config.name}: ${config.hook}, d_sae ${dSae}; labels = top ${config.compare.topK} by lowest sum`,
      x: c.D_DF,
      y: c.M_MF,
      labels: topLabels(ids, sums, config.compare.topK, "smallest"),
      xTitle: "cos(D, DF): model changes on chat data",
      yTitle: "cos(M, MF): data changes on the chat model",
      xLines: [{ value: t, label: `${t}` }],
      yLines: [{ value: t, label: `${t}` }],
      nonFinite: "drop" as const,
    };
    const base = path.join(outDir, `two-stage-${kind}`);
    await saveFigure(scatter(spec), base);
    figures.push(`${base}.png`);
    // Small rotations cluster in the corner above the 0.7 lines: a zoom on the data (no lines) keeps labels readable.
    const { xLines: _x, yLines: _y, ...zoom } = spec;
    await saveFigure(
      scatter({ ...zoom, subtitle: `zoom on the data (threshold lines ${t} off-scale)` }),
      `${base}-zoom`,
    );
  }
  const below = ranking.filter(
    (i) => cosines.decoder.D_DF[i]! < config.compare.threshold && cosines.decoder.M_MF[i]! < config.compare.threshold,
  ).length;
  log(
    `compare: ${dSae} latents, ${below} below ${config.compare.threshold} on both axes; top ${config.compare.topK}: ${ranking.slice(0, config.compare.topK).join(", ")} → ${path.relative(process.cwd(), outDir)}`,
  );
  return { saes, cosines, ranking, encoderRanking, rankOf, figures };
}

function round(v: number): number {
  return Number.isFinite(v) ? Math.round(v * 1e6) / 1e6 : NaN;
}
