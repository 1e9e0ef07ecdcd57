/**
 * SAE latents of the readout rows. Each token is encoded on its own (the SAE's rule) and a prompt's activation vector
 * is the mean over its readout tokens (one token for `last-*`), so `mean:` and `all:` readouts are the SAE's view of
 * each token, averaged — never the code of an averaged residual.
 */
import { loadSae, type Sae, type SparseCodes } from "@difflens/sae";
import { Tensor } from "@difflens/tensor";
import type { ReadoutRows } from "./collect-residuals.ts";

/** Which encode rule was applied (recorded in results.json). */
export interface EncodeRuleApplied {
  /** What the config asked for. */
  readonly requested: "threshold" | "topk";
  /** What ran: the learned threshold (BatchTopK inference), per-token top k, or the SAE's own activation. */
  readonly applied: "threshold" | "topk" | "relu" | "jumprelu";
  readonly k: number | null;
  readonly threshold: number | null;
  /** Why `applied` differs from `requested`, else null. */
  readonly note: string | null;
}

export interface EncodedLayer {
  readonly sae: Sae;
  readonly rule: EncodeRuleApplied;
  /** Per-item mean activation. // [items, dSae] (items = condition c, prompt p at c·P + p) */
  readonly perItem: Float32Array;
  /** Token-level codes, rows as in ReadoutRows. */
  readonly tokens: SparseCodes;
}

const ROWS_PER_CALL = 512;

export async function loadLayerSae(dir: string, encodeRule: "threshold" | "topk"): Promise<Sae> {
  return loadSae(dir, { batchTopKUseThreshold: encodeRule === "threshold" });
}

export function encodeRows(sae: Sae, rows: ReadoutRows, encodeRule: "threshold" | "topk"): EncodedLayer {
  const nRows = rows.start[rows.start.length - 1]!;
  const parts: SparseCodes[] = [];
  for (let r0 = 0; r0 < nRows; r0 += ROWS_PER_CALL) {
    const n = Math.min(ROWS_PER_CALL, nRows - r0);
    const x = new Tensor("f32", [n, rows.d], rows.data.subarray(r0 * rows.d, (r0 + n) * rows.d).slice());
    parts.push(sae.encode(x));
  }
  const tokens = concatCodes(parts, sae.dSae);
  const items = rows.start.length - 1;
  const perItem = new Float32Array(items * sae.dSae);
  for (let i = 0; i < items; i++) {
    const n = rows.start[i + 1]! - rows.start[i]!;
    for (let t = rows.start[i]!; t < rows.start[i + 1]!; t++) {
      for (let q = tokens.indptr[t]!; q < tokens.indptr[t + 1]!; q++)
        perItem[i * sae.dSae + tokens.indices[q]!]! += tokens.values[q]! / n;
    }
  }
  return { sae, rule: appliedRule(sae, encodeRule), perItem, tokens };
}

function appliedRule(sae: Sae, requested: "threshold" | "topk"): EncodeRuleApplied {
  const a = sae.activation;
  if (a.kind === "batchtopk") {
    const applied = a.useThreshold ? "threshold" : "topk";
    const note =
      applied === requested ? null : "the SAE file has no learned threshold (≥ 0): per-token top k was used instead";
    return { requested, applied, k: a.k, threshold: a.useThreshold ? a.threshold : null, note };
  }
  const applied = a.kind;
  const note =
    applied === requested ? null : `the SAE's own activation is ${a.kind}; encodeRule applies to BatchTopK SAEs`;
  return { requested, applied, k: a.kind === "topk" ? a.k : null, threshold: null, note };
}

function concatCodes(parts: readonly SparseCodes[], dSae: number): SparseCodes {
  const rows = parts.reduce((s, p) => s + p.rows, 0);
  const nnz = parts.reduce((s, p) => s + p.indices.length, 0);
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let r = 0;
  let q = 0;
  for (const p of parts) {
    for (let i = 1; i <= p.rows; i++) indptr[r + i] = q + p.indptr[i]!;
    indices.set(p.indices, q);
    values.set(p.values, q);
    r += p.rows;
    q += p.indices.length;
  }
  return { rows, dSae, indptr, indices, values };
}
