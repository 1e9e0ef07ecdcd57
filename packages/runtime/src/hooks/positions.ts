/**
 * Which query positions a cache, an intervention or a harvest reads, in one of two coordinate systems:
 * - a shared list `[0, -1]`: padded columns of the call, the same for every row (negative counts from the last
 *   column); what a single sequence or an unpadded batch means by "position";
 * - per row `{ perRow: [[-1], [3], [0, 5]] }`: each item's own tokens (0 = its first real token, −1 = its last
 *   real token, wherever the padding sits); row b lists its positions, any number of them.
 */
import { HookError } from "../errors.ts";

/** One list of positions per row, in each item's own (unpadded) coordinates. // [batch][nPos_row] */
export interface PerRowPositions {
  readonly perRow: readonly (readonly number[])[];
}

/** Padded columns shared by every row, or positions per row (see the file comment). */
export type Positions = readonly number[] | PerRowPositions;

export function isPerRow(positions: Positions | undefined): positions is PerRowPositions {
  return positions !== undefined && !Array.isArray(positions) && typeof positions === "object" && "perRow" in positions;
}

/** Resolves a shared list against `seq` padded columns (negative from the end). */
export function resolveSharedPositions(positions: readonly number[], seq: number, who: string): number[] {
  return positions.map((p) => {
    const r = p < 0 ? seq + p : p;
    if (!Number.isInteger(r) || r < 0 || r >= seq) {
      const message = `${who}: position ${p} is outside the ${seq} positions of this call`;
      throw new HookError("BAD_ARGUMENT", message, { got: p, expected: `[-${seq}, ${seq})` });
    }
    return r;
  });
}

/** The padded columns of each row's real tokens (attention mask 1), in order. // [batch][length_row] */
export function realColumns(attentionMask: Uint8Array, batch: number, seq: number): number[][] {
  return Array.from({ length: batch }, (_, b) => {
    const cols: number[] = [];
    for (let s = 0; s < seq; s++) if (attentionMask[b * seq + s] === 1) cols.push(s);
    return cols;
  });
}

/**
 * Resolves per-row positions to each row's item indices (negative from its last real token) and to padded
 * columns. `real[b]` lists row b's real columns. A position outside an item's tokens throws, naming row and length.
 */
export function resolvePerRow(
  positions: PerRowPositions,
  real: readonly (readonly number[])[],
  who: string,
): { items: number[][]; columns: number[][] } {
  const rows: readonly (readonly number[])[] = positions.perRow;
  if (!Array.isArray(positions.perRow) || rows.length !== real.length) {
    const got = Array.isArray(positions.perRow) ? rows.length : typeof rows;
    const message = `${who}: positions.perRow has ${got} rows; the batch has ${real.length}`;
    throw new HookError("BAD_ARGUMENT", message, { field: "positions.perRow", expected: real.length, got });
  }
  const items = rows.map((list, b) => {
    const n = real[b]!.length;
    if (!Array.isArray(list)) {
      const message = `${who}: positions.perRow[${b}] is not a list of positions`;
      throw new HookError("BAD_ARGUMENT", message, { row: b, got: typeof list });
    }
    return list.map((p) => {
      const r = p < 0 ? n + p : p;
      if (!Number.isInteger(r) || r < 0 || r >= n) {
        const expected = `[-${n}, ${n})`;
        const message =
          `${who}: position ${p} is outside the ${n} positions of row ${b}` +
          ` (its real tokens; expected ${expected})`;
        throw new HookError("BAD_ARGUMENT", message, { row: b, got: p, length: n, expected });
      }
      return r;
    });
  });
  return { items, columns: items.map((list, b) => list.map((i) => real[b]![i]!)) };
}
