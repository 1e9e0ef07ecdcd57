import { StatsError } from "../errors.ts";
import { type Matrix, type MatrixInput, toMatrix } from "../matrix.ts";
import { type SignBalanceResult, signBalanceTest } from "./layer-windows.ts";

export interface ColumnSummary {
  readonly mean: number;
  /** Standard error of the mean: SD (ddof 1) / √n; NaN for n = 1. */
  readonly sem: number;
  readonly n: number;
  /** The ±1 SEM bar excludes zero (|mean| > sem) — seed 001's gate B. */
  readonly semExcludesZero: boolean;
}

/** Mean ± SEM of every column of [nExamples, nLayers]: the numbers behind per-layer lines with error bands. */
export function meanSemByColumn(values: MatrixInput): ColumnSummary[] {
  const m = toMatrix("meanSemByColumn", "values", values);
  return summarizeColumns(m);
}

function summarizeColumns(m: Matrix): ColumnSummary[] {
  return Array.from({ length: m.cols }, (_, j) => {
    let mean = 0;
    for (let i = 0; i < m.rows; i++) mean += m.data[i * m.cols + j] as number;
    mean /= m.rows;
    let ss = 0;
    for (let i = 0; i < m.rows; i++) ss += ((m.data[i * m.cols + j] as number) - mean) ** 2;
    const sem = m.rows > 1 ? Math.sqrt(ss / (m.rows - 1) / m.rows) : NaN;
    return { mean, sem, n: m.rows, semExcludesZero: Math.abs(mean) > sem };
  });
}

export interface DiffOfDiffsResult {
  /** Per layer: mean ± SEM over examples of (aMarker − aControl) − (bMarker − bControl). */
  readonly perLayer: readonly ColumnSummary[];
  /** Mean of the per-layer means; the layer labels and values of the max and min. */
  readonly overallMean: number;
  readonly max: { readonly layer: number; readonly value: number };
  readonly min: { readonly layer: number; readonly value: number };
  /** Sign balance of the per-layer means across layers (two-sided binomial against 50/50). */
  readonly signBalance: SignBalanceResult;
}

/**
 * Seed 001's diff-of-diffs: per example and layer, (model A's marker − control) − (model B's marker − control) on
 * the same tokens; then mean ± SEM per layer and a sign-balance test across layers. Each input: [nExamples, nLayers].
 * `layers` labels the columns (default 0..nLayers−1); `signTolerance`: per-layer means within ± it are ties in the
 * sign balance (default 0).
 */
export function diffOfDiffs(
  aMarker: MatrixInput,
  aControl: MatrixInput,
  bMarker: MatrixInput,
  bControl: MatrixInput,
  options?: { layers?: readonly number[]; signTolerance?: number },
): DiffOfDiffsResult {
  const where = "diffOfDiffs";
  const inputs = [
    toMatrix(where, "aMarker", aMarker),
    toMatrix(where, "aControl", aControl),
    toMatrix(where, "bMarker", bMarker),
    toMatrix(where, "bControl", bControl),
  ] as const;
  const [am, ac, bm, bc] = inputs;
  const names = ["aMarker", "aControl", "bMarker", "bControl"];
  inputs.forEach((x, i) => {
    if (x.rows !== am.rows || x.cols !== am.cols) {
      throw new StatsError("LENGTH_MISMATCH", {
        where,
        field: names[i] as string,
        expected: `[${am.rows}, ${am.cols}] (as aMarker)`,
        got: `[${x.rows}, ${x.cols}]`,
      });
    }
  });
  const layers = options?.layers ?? Array.from({ length: am.cols }, (_, j) => j);
  if (layers.length !== am.cols)
    throw new StatsError("LENGTH_MISMATCH", {
      where,
      field: "options.layers",
      expected: `length ${am.cols}`,
      got: `length ${layers.length}`,
    });
  const data = new Float64Array(am.rows * am.cols);
  for (let i = 0; i < data.length; i++) {
    data[i] = (am.data[i] as number) - (ac.data[i] as number) - ((bm.data[i] as number) - (bc.data[i] as number));
  }
  const perLayer = summarizeColumns({ data, rows: am.rows, cols: am.cols });
  const means = perLayer.map((c) => c.mean);
  let maxJ = 0;
  let minJ = 0;
  means.forEach((v, j) => {
    if (v > (means[maxJ] as number)) maxJ = j;
    if (v < (means[minJ] as number)) minJ = j;
  });
  return {
    perLayer,
    overallMean: means.reduce((s, v) => s + v, 0) / means.length,
    max: { layer: layers[maxJ] as number, value: means[maxJ] as number },
    min: { layer: layers[minJ] as number, value: means[minJ] as number },
    signBalance: signBalanceTest(means, { tolerance: options?.signTolerance ?? 0 }),
  };
}
