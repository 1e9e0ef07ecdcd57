/**
 * BatchTopK selection (Bussmann et al. 2024): keep the `m` largest positive scores of a whole batch, not k per row.
 *
 * Input: per-row candidate lists [rows, width], each sorted best first (as biasTopK writes them). Because each
 * row's list is sorted, a row's selected entries are a prefix of its list; the result is each row's prefix length.
 * A row whose whole list is selected ("saturated") might hold more selected entries beyond its list: the caller
 * widens those rows and selects again, so the result equals a selection over the full [rows, dSae] scores.
 * Ties at the boundary are taken in row order (the reference fixtures keep a margin there).
 */
export interface BatchSelection {
  /** [rows] selected prefix length per row. */
  counts: Int32Array;
  /** Rows whose whole candidate list was selected while the row has more latents than `width`. */
  saturated: number[];
  /** Smallest selected score (Infinity when nothing is selected). */
  minSelected: number;
  /** Total selected. */
  selected: number;
}

export function selectAcrossBatch(
  scores: Float32Array,
  rows: number,
  width: number,
  m: number,
  rowLength: number,
): BatchSelection {
  const positives = new Float32Array(rows * width);
  let p = 0;
  for (let c = 0; c < rows * width; c++) if (scores[c]! > 0) positives[p++] = scores[c]!;
  const counts = new Int32Array(rows);
  if (p === 0 || m === 0) return { counts, saturated: [], minSelected: Number.POSITIVE_INFINITY, selected: 0 };
  const sorted = positives.subarray(0, p).sort(); // ascending
  const t = sorted[Math.max(0, p - m)]!; // the m-th largest (or the smallest positive when fewer than m)
  let ties = Math.min(m, p); // ties at t allowed after the entries strictly above it are counted
  for (let c = 0; c < rows * width; c++) if (scores[c]! > t) ties--;
  let selected = 0;
  const saturated: number[] = [];
  for (let r = 0; r < rows; r++) {
    let n = 0;
    const o = r * width;
    while (n < width) {
      const v = scores[o + n]!;
      if (v > t) n++;
      else if (v === t && ties > 0) {
        ties--;
        n++;
      } else break;
    }
    counts[r] = n;
    selected += n;
    if (n === width && width < rowLength) saturated.push(r);
  }
  return { counts, saturated, minSelected: t, selected };
}

/**
 * Turns each row's selected scores into activations in place: a = score / ‖d_j‖ on the selected prefix (scores rank
 * value × decoder norm; the code is the value), 0 elsewhere — zeros are inactive for the sparse kernels.
 * candIdx / candVal [rows, width]; decoderNorms [dSae].
 */
export function activationsFromSelection(
  candIdx: Int32Array,
  candVal: Float32Array,
  counts: Int32Array,
  width: number,
  decoderNorms: Float32Array,
): void {
  for (let r = 0; r < counts.length; r++) {
    const o = r * width,
      c = counts[r]!;
    for (let q = 0; q < width; q++) {
      const j = candIdx[o + q]!;
      candVal[o + q] = q < c && decoderNorms[j]! > 0 ? Math.fround(candVal[o + q]! / decoderNorms[j]!) : 0;
    }
  }
}
