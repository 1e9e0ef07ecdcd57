/**
 * The diffing run folder's JSON files as the pages read them, each checked for the fields the pages use: a missing
 * or malformed file (or field) becomes an error panel naming it and the loader returns null, so the page goes on.
 *   compare/latents.json   per-latent cosines and ranks (written by `diffing compare`)
 *   compare/ranking.json   the top latents by the decoder and the encoder ranking
 *   features/features.json max-activating contexts of the chosen latents + the latent-stats files (`diffing features`)
 */
import { stat } from "node:fs/promises";
import type { FeatureContext } from "../api/diffing-types.ts";
import type { ErrorPanel } from "../api/run-types.ts";
import type { DiscoveredRun } from "./discovered-run.ts";
import { errorPanel, invalidField, readRunJson, resolveRunPath } from "./read-run-file.ts";

export const COMPARE_FILE = "compare/latents.json";
export const RANKING_FILE = "compare/ranking.json";
export const FEATURES_FILE = "features/features.json";

/** One row of compare/latents.json: latent, rank, dec_* / enc_* cosines (S_D, S_M, D_DF, M_MF, sum), enc_rank. */
export type CompareRow = Record<string, number>;

export interface CompareTable {
  hook: string;
  dSae: number;
  threshold: number;
  latents: CompareRow[];
}

export interface StoredContexts {
  latent: number;
  density: number;
  maxValue: number;
  examples: FeatureContext[];
}

export interface FeaturesFile {
  hook: string;
  data: string;
  windowsScanned: number;
  baseSide: string;
  chatSide: string;
  /** The stages whose SAEs gave the base-side and chat-side contexts (the first word of baseSide / chatSide). */
  baseStage: string;
  chatStage: string;
  latentStats: { files: Record<string, string>; tokensFile: string } | null;
  latents: { latent: number; rank: number; base: StoredContexts; chat: StoredContexts }[];
}

/** Reads `rel` (parsed once per file version); on failure pushes its error panel and returns null. */
export async function readOrPanel<T>(run: DiscoveredRun, rel: string, errors: ErrorPanel[]): Promise<T | null> {
  try {
    return (await cachedRunJson(run, rel)) as T;
  } catch (error) {
    errors.push(errorPanel(error, rel));
    return null;
  }
}

/**
 * Parsed run files by real path, size and mtime: a feature page per latent (and the static export's hundreds of
 * them) would otherwise parse the same multi-megabyte features.json every time. A rewritten file is read again.
 * The values are shared: callers never mutate them.
 */
const parsed = new Map<string, unknown>();
const MAX_CACHED_FILES = 32;

async function cachedRunJson(run: DiscoveredRun, rel: string): Promise<unknown> {
  const abs = await resolveRunPath(run, rel);
  const info = await stat(abs);
  const key = `${abs}\0${info.size}\0${info.mtimeMs}`;
  if (parsed.has(key)) return parsed.get(key);
  const value = await readRunJson(run, rel);
  if (parsed.size >= MAX_CACHED_FILES) parsed.delete(parsed.keys().next().value!);
  parsed.set(key, value);
  return value;
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** Runs `check`; a thrown error becomes a panel and the result null. */
function checked<T>(file: string, errors: ErrorPanel[], check: () => T): T | null {
  try {
    return check();
  } catch (error) {
    errors.push(errorPanel(error, file));
    return null;
  }
}

export async function loadCompareTable(run: DiscoveredRun, errors: ErrorPanel[]): Promise<CompareTable | null> {
  const raw = record(await readOrPanel<unknown>(run, COMPARE_FILE, errors));
  if (raw === null) return null;
  return checked(COMPARE_FILE, errors, () => {
    const f = COMPARE_FILE;
    if (typeof raw.hook !== "string") throw invalidField(f, "hook", "a hook name", raw.hook);
    if (!Number.isInteger(raw.dSae)) throw invalidField(f, "dSae", "an integer", raw.dSae);
    if (!Array.isArray(raw.latents)) throw invalidField(f, "latents", "an array of per-latent rows");
    for (const [i, row] of raw.latents.entries()) {
      const r = record(row);
      if (r === null || !Number.isInteger(r.latent) || !Number.isInteger(r.rank))
        throw invalidField(f, `latents[${i}]`, "a row with integer latent and rank", row);
    }
    const threshold = typeof raw.threshold === "number" ? raw.threshold : 0.7;
    return { hook: raw.hook, dSae: raw.dSae as number, threshold, latents: raw.latents as CompareRow[] };
  });
}

export async function loadRanking(
  run: DiscoveredRun,
  errors: ErrorPanel[],
): Promise<{ top: number[]; encoderTop: number[] } | null> {
  const raw = record(await readOrPanel<unknown>(run, RANKING_FILE, errors));
  if (raw === null) return null;
  return checked(RANKING_FILE, errors, () => {
    const ints = (v: unknown) => Array.isArray(v) && v.every((x) => Number.isInteger(x));
    if (!ints(raw.top)) throw invalidField(RANKING_FILE, "top", "an array of latent indices", raw.top);
    const encoderTop = ints(raw.encoderTop) ? (raw.encoderTop as number[]) : [];
    return { top: raw.top as number[], encoderTop };
  });
}

export async function loadFeaturesFile(run: DiscoveredRun, errors: ErrorPanel[]): Promise<FeaturesFile | null> {
  const raw = record(await readOrPanel<unknown>(run, FEATURES_FILE, errors));
  if (raw === null) return null;
  return checked(FEATURES_FILE, errors, () => {
    const f = FEATURES_FILE;
    if (!Array.isArray(raw.latents)) throw invalidField(f, "latents", "an array of latents with contexts");
    for (const [i, entry] of raw.latents.entries()) {
      const e = record(entry);
      if (e === null || !Number.isInteger(e.latent)) throw invalidField(f, `latents[${i}].latent`, "an integer");
      for (const side of ["base", "chat"] as const) {
        const c = record(e[side]);
        if (c === null || !Array.isArray(c.examples))
          throw invalidField(f, `latents[${i}].${side}.examples`, "an array of contexts");
      }
    }
    const stats = record(raw.latentStats);
    const files = record(stats?.files);
    const latentStats =
      stats && files ? { files: files as Record<string, string>, tokensFile: String(stats.tokensFile) } : null;
    return {
      hook: String(raw.hook ?? ""),
      data: String(raw.data ?? ""),
      windowsScanned: Number(raw.windowsScanned ?? 0),
      baseSide: String(raw.baseSide ?? ""),
      chatSide: String(raw.chatSide ?? ""),
      baseStage: String(raw.baseSide ?? "D").split(" ")[0]!,
      chatStage: String(raw.chatSide ?? "MF").split(" ")[0]!,
      latentStats,
      latents: raw.latents as FeaturesFile["latents"],
    };
  });
}
