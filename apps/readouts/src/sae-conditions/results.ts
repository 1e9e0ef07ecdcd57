/**
 * What `results.json` holds (SaeConditionsResults), and the run folder's other result files: the top-features table
 * (Markdown, CSV, JSON) and the per-prompt × condition activation matrices (safetensors).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "@difflens/common";
import { Tensor, writeSafetensors } from "@difflens/tensor";
import type { Draws, Similarity, TrackAPairResult, TrackBPairResult } from "./analyze-layer.ts";
import type { BehaviourLayerResult } from "./behaviour-link.ts";
import type { LexicalDifference } from "./condition-chats.ts";
import type { DegeneracyWarning } from "./degeneracy.ts";
import type { EncodedLayer, EncodeRuleApplied } from "./encode-readouts.ts";

export interface LayerResults {
  readonly layer: number;
  readonly hook: string;
  readonly sae: { readonly dir: string; readonly format: string; readonly dIn: number; readonly dSae: number };
  readonly encodeRule: EncodeRuleApplied;
  readonly position: string;
  readonly similarity: Similarity;
  readonly trackA: readonly TrackAPairResult[] | null;
  readonly trackB: readonly TrackBPairResult[];
  /** Conditions whose readout is identical across prompts (the position cannot see the prompt). */
  readonly degeneracy: readonly DegeneracyWarning[];
  readonly lexicalDifferences: readonly LexicalDifference[];
  /** Mean number of active latents per readout token. */
  readonly meanL0: number;
  /** The activation matrix file, relative to the run folder. */
  readonly activations: string;
}

/** One readout position's results. */
export interface ReadoutResults {
  readonly position: string;
  readonly conditions: readonly {
    readonly label: string;
    readonly condition: string;
    /** Set when last-system-token fell back to another token (no system content). */
    readonly fallback: string | null;
    /** Readout tokens per prompt (mean over prompts). */
    readonly readoutTokens: number;
  }[];
  readonly layers: readonly LayerResults[];
  /** Every degeneracy warning of every layer (positions that cannot see the prompt, degenerate pairs), as printed. */
  readonly warnings: readonly string[];
  readonly behaviour: readonly BehaviourLayerResult[] | null;
}

/**
 * The top level is the first readout position's results (`position`, `conditions`, `layers`, `warnings`,
 * `behaviour`: a one-position run's whole contract); `readouts` holds every further position's, same fields.
 */
export interface SaeConditionsResults extends ReadoutResults {
  readonly format: "difflens-sae-conditions-results";
  readonly version: 1;
  readonly model: string;
  /** Every readout position, config order; all read from one forward pass per (condition, prompt). */
  readonly positions: readonly string[];
  /** How prompts enter the statistics. */
  readonly unit: string;
  readonly nPrompts: number;
  readonly promptIds: readonly string[];
  readonly encodeRule: "threshold" | "topk";
  readonly seed: number;
  readonly lexicalDifferences: readonly LexicalDifference[];
  /** Behaviour scores in prompt order (when a behaviour section was given). */
  readonly scores: readonly number[] | null;
  /** The readout positions after the first, each with its own results. */
  readonly readouts: readonly ReadoutResults[];
}

/** Every readout's results, the first (top level) included. */
export function allReadouts(results: SaeConditionsResults): readonly ReadoutResults[] {
  return [results, ...results.readouts];
}

export const UNIT_NOTE =
  "prompts are the exchangeable unit: each (condition, prompt) contributes one vector — the readout token's SAE " +
  "activations, or for mean:/all: readouts the mean over the region's tokens of each token's SAE activations; " +
  "token-level values of all: readouts are saved but never treated as independent samples";

export function writeResultsJson(dir: string, results: SaeConditionsResults): string {
  const file = path.join(dir, "results.json");
  writeJsonAtomic(file, results);
  return file;
}

/**
 * `<folder>/layer_L.safetensors` (folder `activations/`, or `activations/<position-slug>/` when a run has several
 * readout positions): `acts` f32 [conditions, prompts, dSae] (the per-prompt readout: one token, or the
 * mean over the region's tokens), `resid` f32 [conditions, prompts, d] (the same for the residual); for all: readouts
 * also every readout token's SAE codes in CSR form: item i = c·P + p owns token rows token_row_start[i] …
 * token_row_start[i + 1] (i32 [items + 1]); token row r's active latents are token_indices[token_indptr[r] …
 * token_indptr[r + 1]] (i32 [tokens + 1], i32 [nnz]) with values token_values (f32 [nnz]). Metadata names the
 * conditions and prompt ids (JSON). The random draws behind the p-values ride along (see `Draws`):
 * `tracka_null_sets_<i>` [N, k] and `trackb_signs_<i>` [N, P], i indexing results.json's trackA / trackB pairs.
 */
export async function writeActivations(
  folder: string,
  layer: number,
  encoded: EncodedLayer,
  resid: Float32Array,
  rowStart: Int32Array,
  shape: { conditions: readonly string[]; promptIds: readonly string[] },
  tokenLevel: boolean,
  draws: Draws,
): Promise<string> {
  const C = shape.conditions.length;
  const P = shape.promptIds.length;
  const { dSae, dIn } = encoded.sae;
  const tensors: Record<string, Tensor> = {
    acts: new Tensor("f32", [C, P, dSae], encoded.perItem),
    resid: new Tensor("f32", [C, P, dIn], resid),
  };
  if (tokenLevel) {
    const t = encoded.tokens;
    tensors.token_row_start = new Tensor("i32", [rowStart.length], rowStart);
    tensors.token_indptr = new Tensor("i32", [t.indptr.length], t.indptr);
    tensors.token_indices = new Tensor("i32", [t.indices.length], t.indices);
    tensors.token_values = new Tensor("f32", [t.values.length], t.values);
  }
  for (const [name, d] of Object.entries(draws)) tensors[name] = new Tensor("i32", [...d.shape], d.data);
  const metadata = {
    layout:
      "acts [conditions, prompts, dSae]; resid [conditions, prompts, d]; token_* = CSR codes of every readout " +
      "token; tracka_null_sets_<i> [N, k], trackb_signs_<i> [N, prompts]: the draws of results.json's pair i",
    conditions: JSON.stringify(shape.conditions),
    prompt_ids: JSON.stringify(shape.promptIds),
    layer: String(layer),
  };
  fs.mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `layer_${layer}.safetensors`);
  await writeSafetensors(file, tensors, metadata);
  return file;
}

const COLUMNS = [
  "position",
  "layer",
  "pair",
  "rank",
  "latent",
  "dz",
  "t",
  "meanDifference",
  "pFamilywise",
  "pPerFeature",
  "link",
];

/** top-features.{md,csv,json}: the top latents by |d_z| per layer and pair, with the dashboard link column. */
export function writeTopFeatures(dir: string, results: SaeConditionsResults): string[] {
  const rows = allReadouts(results).flatMap((readout) =>
    readout.layers.flatMap((l) =>
      l.trackB.flatMap((b) =>
        b.top.map((f, i) => ({
          position: readout.position,
          layer: l.layer,
          pair: `${b.pair[0]} vs ${b.pair[1]}`,
          rank: i + 1,
          latent: f.latent,
          dz: f.dz,
          t: f.t,
          meanDifference: f.meanDifference,
          pFamilywise: f.pFamilywise,
          pPerFeature: f.pPerFeature,
          link: f.link ?? "",
        })),
      ),
    ),
  );
  const json = path.join(dir, "top-features.json");
  writeJsonAtomic(json, rows);
  const csvCell = (v: unknown) =>
    typeof v === "string" && /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : String(v);
  const csv = path.join(dir, "top-features.csv");
  writeFileAtomic(
    csv,
    `${[COLUMNS.join(","), ...rows.map((r) => COLUMNS.map((c) => csvCell(r[c as keyof typeof r])).join(","))].join("\n")}\n`,
  );
  const fmt = (v: number) => (Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(3) : v.toExponential(2));
  const md = path.join(dir, "top-features.md");
  const lines = [
    "| position | layer | pair | rank | latent | d_z | t | mean diff | p (family-wise) | p (per-feature) | link |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ...rows.map(
      (r) =>
        `| ${r.position} | ${r.layer} | ${r.pair.replaceAll("|", "\\|")} | ${r.rank} | ${r.latent} | ${fmt(r.dz)} | ${fmt(r.t)} | ${fmt(r.meanDifference)} | ${fmt(r.pFamilywise)} | ${fmt(r.pPerFeature)} | ${r.link ? `[link](${r.link})` : ""} |`,
    ),
  ];
  writeFileAtomic(md, `${lines.join("\n")}\n`);
  return [md, csv, json];
}

/** track-b-counts.md: every count per layer and pair (family-wise is the headline). */
export function writeCountsTable(dir: string, results: SaeConditionsResults): string {
  const lines = [
    "| position | layer | pair | family-wise | per-feature | seed rule | degenerate | inactive | tested | note |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ...allReadouts(results).flatMap((readout) =>
      readout.layers.flatMap((l) =>
        l.trackB.map((b) => {
          const c = b.counts;
          const pair = `${b.pair[0]} vs ${b.pair[1]}`.replaceAll("|", "\\|");
          return `| ${readout.position} | ${l.layer} | ${pair} | ${c.familywise} | ${c.perFeature} | ${c.seedRule ?? ""} | ${c.degenerate} | ${c.inactive} | ${c.tested} | ${b.note} |`;
        }),
      ),
    ),
  ];
  const file = path.join(dir, "track-b-counts.md");
  writeFileAtomic(file, `${lines.join("\n")}\n`);
  return file;
}
