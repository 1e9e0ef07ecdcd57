/**
 * The `compare` step: per latent decoder and encoder cosines for S–D, S–M, D–DF, M–MF, the two-stage ranking by
 * cos(D, DF) + cos(M, MF), the per-latent table (CSV + JSON) and the two-stage scatters (decoder and encoder;
 * PNG, PDF, SVG with the plotted data beside them) in <run>/compare/. The stages are verified against the config's
 * fingerprints first (a stage made under another config is refused, naming the fields); an existing compare/ is
 * replaced only with `force` (written beside it, swapped in when complete).
 */
import * as path from "node:path";
import { writeOutputFolder } from "@difflens/app-kit";
import { writeFileAtomic, writeJsonAtomic } from "@difflens/common";
import { saveFigure, scatter, topLabels } from "@difflens/plot";
import { loadSae, type Sae } from "@difflens/sae";
import { type DiffingConfig, STAGE_NAMES, type StageName } from "../config/diffing-config.ts";
import { verifiedStageRecords } from "../stages/stage-check.ts";
import { stageFingerprints } from "../stages/stage-fingerprint.ts";
import { type StageRecord, stageCheckpoint } from "../stages/stage-plan.ts";
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

/** The five stages' SAEs, each verified against the config's fingerprint (`command` names the reader in errors). */
export async function loadStageSaes(config: DiffingConfig, command = "compare"): Promise<Record<StageName, Sae>> {
  const records = verifiedStageRecords(config, STAGE_NAMES, stageFingerprints(config), command);
  const out = {} as Record<StageName, Sae>;
  for (const s of STAGE_NAMES) out[s] = await loadSae(stageCheckpoint(config, records[s]));
  return out;
}

export interface ComparedStage {
  readonly sha256: string;
  readonly fingerprint: string | null;
}

/** Which checkpoints a comparison was computed from (features refuses a comparison of other checkpoints). */
export function comparedStages(records: Readonly<Record<StageName, StageRecord>>): Record<StageName, ComparedStage> {
  const entry = (s: StageName): ComparedStage => ({
    sha256: records[s].sha256,
    fingerprint: records[s].fingerprintDigest ?? null,
  });
  return Object.fromEntries(STAGE_NAMES.map((s) => [s, entry(s)])) as Record<StageName, ComparedStage>;
}

export async function runCompare(
  config: DiffingConfig,
  log: (line: string) => void,
  options: { readonly force?: boolean } = {},
): Promise<CompareResult> {
  const finalDir = path.join(config.runDir, "compare");
  const records = verifiedStageRecords(config, STAGE_NAMES, stageFingerprints(config), "compare");
  return writeOutputFolder(finalDir, (outDir) => compareInto(outDir, finalDir, config, records, log), {
    force: options.force ?? false,
    what: "compare",
    alternatives: "or another run folder",
  });
}

async function compareInto(
  outDir: string,
  finalDir: string,
  config: DiffingConfig,
  records: Record<StageName, StageRecord>,
  log: (line: string) => void,
): Promise<CompareResult> {
  const saes = {} as Record<StageName, Sae>;
  for (const s of STAGE_NAMES) saes[s] = await loadSae(stageCheckpoint(config, records[s]));
  const cosines = latentCosines(saes);
  const ranking = twoStageRanking(cosines.decoder.D_DF, cosines.decoder.M_MF);
  const encoderRanking = twoStageRanking(cosines.encoder.D_DF, cosines.encoder.M_MF);
  const dSae = saes.S.dSae;
  const rankOf = new Int32Array(dSae);
  for (const [r, latent] of ranking.entries()) rankOf[latent] = r;
  const encRankOf = new Int32Array(dSae);
  for (const [r, latent] of encoderRanking.entries()) encRankOf[latent] = r;

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
    stages: comparedStages(records),
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
    figures.push(path.join(finalDir, `two-stage-${kind}.png`));
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
    `compare: ${dSae} latents, ${below} below ${config.compare.threshold} on both axes; top ${config.compare.topK}: ${ranking.slice(0, config.compare.topK).join(", ")} → ${path.relative(process.cwd(), finalDir)}`,
  );
  return { saes, cosines, ranking, encoderRanking, rankOf, figures };
}

function round(v: number): number {
  return Number.isFinite(v) ? Math.round(v * 1e6) / 1e6 : NaN;
}
