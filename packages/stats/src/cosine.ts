import { StatsError } from "./errors.ts";
import { oneOf, resolveOptions } from "./options.ts";
import { type Sample, strictSample } from "./samples.ts";

export interface CosineOptions {
  /**
   * What a zero-norm vector gives: "error" (default) throws DEGENERATE, "nan" returns NaN, "zero" returns 0
   * (as scikit-learn does). Cosine similarity is undefined there, so the default refuses to invent a number.
   */
  readonly zeroNorm: "error" | "nan" | "zero";
}
export const DEFAULT_COSINE_OPTIONS: CosineOptions = Object.freeze({ zeroNorm: "error" });
export function resolveCosineOptions(input: unknown): Readonly<CosineOptions> {
  return resolveOptions(
    "cosineSimilarity",
    DEFAULT_COSINE_OPTIONS,
    { zeroNorm: oneOf(["error", "nan", "zero"]) },
    input,
  );
}

/** Euclidean norm with scaling, so huge or tiny entries neither overflow nor underflow. */
function norm(x: Sample): number {
  let scale = 0;
  for (let i = 0; i < x.length; i++) scale = Math.max(scale, Math.abs(x[i] as number));
  if (scale === 0) return 0;
  let ss = 0;
  for (let i = 0; i < x.length; i++) {
    const v = (x[i] as number) / scale;
    ss += v * v;
  }
  return scale * Math.sqrt(ss);
}

function dot(a: Sample, b: Sample): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function zeroNormValue(where: string, field: string, policy: CosineOptions["zeroNorm"]): number {
  if (policy === "nan") return NaN;
  if (policy === "zero") return 0;
  throw new StatsError(
    "DEGENERATE",
    {
      where,
      field,
      expected: "a non-zero vector",
      got: "a vector of norm 0",
      fix: 'pass { zeroNorm: "nan" } or "zero" to accept it',
    },
    "cosine similarity of a zero vector is undefined",
  );
}

/** cos(a, b) = a·b / (‖a‖‖b‖), clamped to [−1, 1]. a, b: [d] */
export function cosineSimilarity(a: Sample, b: Sample, options?: Partial<CosineOptions>): number {
  const { zeroNorm } = resolveCosineOptions(options);
  strictSample("cosineSimilarity", "a", a, 1);
  strictSample("cosineSimilarity", "b", b, 1);
  if (a.length !== b.length) {
    throw new StatsError("LENGTH_MISMATCH", {
      where: "cosineSimilarity",
      field: "b",
      expected: `length ${a.length}`,
      got: `length ${b.length}`,
    });
  }
  const na = norm(a);
  const nb = norm(b);
  if (na === 0) return zeroNormValue("cosineSimilarity", "a", zeroNorm);
  if (nb === 0) return zeroNormValue("cosineSimilarity", "b", zeroNorm);
  return Math.min(1, Math.max(-1, dot(a, b) / na / nb));
}

/**
 * Pairwise cosine similarity of the rows: result[i][j] = cos(rows[i], rows[j]); symmetric, diagonal exactly 1
 * for non-zero rows. rows: [n, d] → [n, n]
 */
export function cosineSimilarityMatrix(rows: readonly Sample[], options?: Partial<CosineOptions>): number[][] {
  const { zeroNorm } = resolveCosineOptions(options);
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new StatsError("EMPTY_SAMPLE", {
      where: "cosineSimilarityMatrix",
      field: "rows",
      expected: "at least one row",
      got: Array.isArray(rows) ? "0 rows" : typeof rows,
    });
  }
  const d = rows[0]?.length ?? 0;
  rows.forEach((r, i) => {
    strictSample("cosineSimilarityMatrix", `rows[${i}]`, r, 1);
    if (r.length !== d) {
      throw new StatsError("LENGTH_MISMATCH", {
        where: "cosineSimilarityMatrix",
        field: `rows[${i}]`,
        expected: `length ${d} (as rows[0])`,
        got: `length ${r.length}`,
      });
    }
  });
  const norms = rows.map(norm);
  const n = rows.length;
  const out = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const ni = norms[i] as number;
      const nj = norms[j] as number;
      let v: number;
      if (ni === 0 || nj === 0) v = zeroNormValue("cosineSimilarityMatrix", `rows[${ni === 0 ? i : j}]`, zeroNorm);
      else if (i === j) v = 1;
      else v = Math.min(1, Math.max(-1, dot(rows[i] as Sample, rows[j] as Sample) / ni / nj));
      (out[i] as number[])[j] = v;
      (out[j] as number[])[i] = v;
    }
  }
  return out;
}
