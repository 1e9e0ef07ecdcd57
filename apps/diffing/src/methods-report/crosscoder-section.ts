/**
 * One crosscoder's part of the report: relative-norm bands (counts and the histogram's values), the decoder cosine of
 * its shared latents, the scored latents with their Latent-Scaling verdict, and on a toy the latent closest to each
 * plant (searched over every latent of the checkpoint, or over the scored ones when the run kept no checkpoint).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type Crosscoder, DEFAULT_NORM_BANDS, decoderCosines, loadCrosscoder, normBand } from "@difflens/sae";
import { cosine } from "../compare/leading-direction.ts";
import { invalid, num, str } from "./json-fields.ts";
import { ABSENT_MAX, FOUND_MIN, plantCosines } from "./known-answer.ts";
import type { CrosscoderFiles } from "./run-folder.ts";

/** Bins of the relative-norm histogram over [0, 1]. */
export const HISTOGRAM_BINS = 40;

export type CrosscoderKindName = "batchtopk" | "l1";
/** What issue 21 asserts about a plant's closest crosscoder latent. */
export type PlantRole = "chat-only" | "shared" | "absent";

export interface CrosscoderLatentRow {
  readonly latent: number;
  readonly relativeNorm: number;
  readonly band: string;
  readonly count: number;
  readonly nuReconstruction: number;
  readonly nuError: number;
  readonly chatSpecific: boolean;
  /** "chat-specific" or "artifact" for a chat-only latent; "" otherwise. */
  readonly verdict: string;
  readonly plantAbsCos: Record<string, number>;
}

export interface CrosscoderPlantMatch {
  readonly plant: string;
  readonly latent: number | null;
  readonly absCos: number | null;
  readonly relativeNorm: number | null;
  readonly band: string | null;
  /** The latent's Latent-Scaling verdict when it was scored. */
  readonly chatSpecific: boolean | null;
  readonly expect: PlantRole | null;
  readonly pass: boolean | null;
}

export interface CrosscoderReport {
  readonly kind: CrosscoderKindName;
  readonly folder: string;
  readonly checkpoint: string | null;
  readonly dSae: number;
  readonly bands: typeof DEFAULT_NORM_BANDS;
  readonly bandCounts: Record<string, number>;
  /** Latents with both decoders zero (no relative norm). */
  readonly deadLatents: number;
  /** The histogram figure's bars: HISTOGRAM_BINS equal bins over [0, 1] (1 in the last), counts per band. */
  readonly histogram: { readonly edges: number[]; readonly counts: Record<string, number[]> };
  readonly sharedDecoderCosine: {
    readonly latents: number;
    readonly mean: number;
    readonly median: number;
    readonly p10: number;
    readonly fractionAbove09: number;
  } | null;
  readonly chatOnly: { readonly total: number; readonly chatSpecific: number; readonly artifacts: number };
  readonly latents: CrosscoderLatentRow[];
  readonly plants: {
    readonly searched: "all latents" | "scored latents";
    readonly matches: CrosscoderPlantMatch[];
  } | null;
  readonly contexts: { readonly page: string | null; readonly hint: string };
}

export async function crosscoderReport(
  kind: CrosscoderKindName,
  files: CrosscoderFiles,
  runDir: string,
  toy: { variant: string; plants: ReadonlyMap<string, Float32Array> } | null,
): Promise<CrosscoderReport> {
  const aFile = path.join(files.dir, "analysis.json");
  const rel = files.relativeNorms;
  const bandCounts: Record<string, number> = { "base-only": 0, shared: 0, "chat-only": 0, other: 0 };
  for (const r of rel) if (!Number.isNaN(r)) bandCounts[normBand(r)]! += 1;
  const plantsMap = toy?.plants ?? new Map<string, Float32Array>();
  const plantCos = plantCosines(plantsMap, files.directions, files.rows.length);
  const latents = files.rows.map((o, i): CrosscoderLatentRow => {
    const where = `latents[${i}].`;
    const relativeNorm = num(o, "relativeNorm", aFile, where);
    const band = str(o, "band", aFile, where);
    const chatSpecific = o.chatSpecific === true;
    return {
      latent: num(o, "latent", aFile, where),
      relativeNorm,
      band,
      count: num(o, "count", aFile, where),
      nuReconstruction: num(o, "nuReconstruction", aFile, where),
      nuError: num(o, "nuError", aFile, where),
      chatSpecific,
      verdict: band === "chat-only" ? (chatSpecific ? "chat-specific" : "artifact") : "",
      plantAbsCos: plantCos[i]!,
    };
  });
  const chatOnlyRows = latents.filter((l) => l.band === "chat-only");
  const cc =
    files.checkpoint !== null && fs.existsSync(files.checkpoint) ? await loadCrosscoder(files.checkpoint) : null;
  if (cc && cc.spec.dSae !== rel.length)
    throw invalid(
      path.join(files.dir, "relative-norms.json"),
      `holds ${rel.length} latents, the checkpoint ${files.checkpoint} has ${cc.spec.dSae}`,
      { expected: cc.spec.dSae, got: rel.length },
    );
  const contextsPage = path.join(files.dir, "features", "index.html");
  return {
    kind,
    folder: path.relative(runDir, files.dir),
    checkpoint: files.checkpoint === null ? null : path.relative(runDir, files.checkpoint),
    dSae: rel.length,
    bands: DEFAULT_NORM_BANDS,
    bandCounts,
    deadLatents: rel.filter((r) => Number.isNaN(r)).length,
    histogram: bandHistogram(rel),
    sharedDecoderCosine: cc ? sharedCosines(cc, rel) : null,
    chatOnly: {
      total: bandCounts["chat-only"]!,
      chatSpecific: chatOnlyRows.filter((l) => l.chatSpecific).length,
      artifacts: chatOnlyRows.filter((l) => !l.chatSpecific).length,
    },
    latents,
    plants: toy ? plantMatches(kind, toy.variant, toy.plants, cc, files, latents) : null,
    contexts: fs.existsSync(contextsPage)
      ? { page: path.relative(runDir, contextsPage), hint: "" }
      : {
          page: null,
          hint:
            "Max-activating contexts of these latents are not in this run folder. The existing features page " +
            "(pnpm --filter diffing features --config <diffing config> → features/index.html) shows them for the " +
            "stage-wise SAEs; it does not read crosscoders yet.",
        },
  };
}

function bandHistogram(rel: readonly number[]): CrosscoderReport["histogram"] {
  const counts: Record<string, number[]> = {};
  for (const r of rel) {
    if (Number.isNaN(r)) continue;
    const band = normBand(r);
    counts[band] ??= new Array<number>(HISTOGRAM_BINS).fill(0);
    counts[band]![Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(r * HISTOGRAM_BINS)))]! += 1;
  }
  return { edges: Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => i / HISTOGRAM_BINS), counts };
}

function sharedCosines(cc: Crosscoder, rel: readonly number[]): CrosscoderReport["sharedDecoderCosine"] {
  const shared = rel.flatMap((r, j) => (!Number.isNaN(r) && normBand(r) === "shared" ? [j] : []));
  const cos = Array.from(decoderCosines(cc, shared))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (cos.length === 0)
    return { latents: 0, mean: Number.NaN, median: Number.NaN, p10: Number.NaN, fractionAbove09: 0 };
  const q = (p: number) => cos[Math.min(cos.length - 1, Math.floor(p * cos.length))]!;
  return {
    latents: cos.length,
    mean: cos.reduce((s, v) => s + v, 0) / cos.length,
    median: q(0.5),
    p10: q(0.1),
    fractionAbove09: cos.filter((v) => v >= 0.9).length / cos.length,
  };
}

/** What issue 21 asserts about the BatchTopK crosscoder's latent closest to each plant (nothing for L1). */
export function plantRole(kind: CrosscoderKindName, variant: string, plant: string): PlantRole | null {
  if (kind !== "batchtopk") return null;
  if (variant === "control") return plant === "u" ? "absent" : "chat-only";
  if (variant === "three-plant") return plant === "f" ? "shared" : plant === "u" || plant === "v" ? "chat-only" : null;
  return null;
}

function rolePass(role: PlantRole | null, m: { absCos: number; relativeNorm: number; chatSpecific: boolean | null }) {
  if (role === null) return null;
  if (role === "absent") return m.absCos <= ABSENT_MAX;
  if (m.absCos < FOUND_MIN) return false;
  if (role === "shared") return m.relativeNorm >= 0.3 && m.relativeNorm <= 0.7;
  return m.relativeNorm >= DEFAULT_NORM_BANDS.chatOnlyMin && m.chatSpecific === true;
}

function plantMatches(
  kind: CrosscoderKindName,
  variant: string,
  plants: ReadonlyMap<string, Float32Array>,
  cc: Crosscoder | null,
  files: CrosscoderFiles,
  scored: readonly CrosscoderLatentRow[],
): NonNullable<CrosscoderReport["plants"]> {
  const ids = cc ? Array.from({ length: cc.spec.dSae }, (_, j) => j) : scored.map((l) => l.latent);
  const d = files.directions.length / Math.max(1, files.rows.length);
  const chatRow = (q: number) => (cc ? cc.decoderRow(q, "chat") : files.directions.subarray(q * d, (q + 1) * d));
  const matches = [...plants].map(([plant, p]): CrosscoderPlantMatch => {
    let best = -1,
      bestCos = -1;
    ids.forEach((latent, q) => {
      const c = Math.abs(cosine(p, chatRow(cc ? latent : q)));
      if (Number.isFinite(c) && c > bestCos) {
        bestCos = c;
        best = latent;
      }
    });
    const expect = plantRole(kind, variant, plant);
    if (best < 0)
      return {
        plant,
        latent: null,
        absCos: null,
        relativeNorm: null,
        band: null,
        chatSpecific: null,
        expect,
        pass: expect === "absent" ? true : expect === null ? null : false,
      };
    const relativeNorm = files.relativeNorms[best] ?? Number.NaN;
    const s = scored.find((l) => l.latent === best);
    const chatSpecific = s ? s.chatSpecific : null;
    return {
      plant,
      latent: best,
      absCos: bestCos,
      relativeNorm,
      band: Number.isNaN(relativeNorm) ? null : normBand(relativeNorm),
      chatSpecific,
      expect,
      pass: rolePass(expect, { absCos: bestCos, relativeNorm, chatSpecific }),
    };
  });
  return { searched: cc ? "all latents" : "scored latents", matches };
}
