import { nearest } from "@difflens/common";
import { Tensor } from "@difflens/tensor";
import { HookError } from "../errors.ts";
import { fmtShape, takeAlongAxis } from "../tensor-utils.ts";

/**
 * The hook outputs one `runWithCache` kept: f32 copies with a leading batch dimension.
 * - Shared positions (or none): one tensor per hook, the "pos" axis restricted to the asked padded columns.
 * - Per-row positions: one [1, …] tensor per row and hook, in the item's own coordinates (its asked positions, and
 *   keyPos axes cut to its real keys) — what a run on that item alone keeps; `item(row, name)` reads it, `get(name)`
 *   stacks the rows when their shapes agree.
 */
export class ActivationCache {
  private readonly stacked = new Map<string, Tensor>();

  constructor(
    private readonly tensors: ReadonlyMap<string, Tensor | readonly Tensor[]>,
    /** Kept query positions (padded indices, resolved), or null for all (and for per-row positions). */
    readonly positions: readonly number[] | null,
    /** Kept positions per row (item indices, resolved), or null when positions were shared. // [batch][nPos_row] */
    readonly rowPositions: readonly (readonly number[])[] | null = null,
  ) {}

  /** The tensor of a hook, [batch, …]; a name that was not kept throws, naming the nearest kept one. */
  get(name: string): Tensor {
    const kept = this.lookup(name);
    if (!Array.isArray(kept)) return kept as Tensor;
    let t = this.stacked.get(name);
    if (!t) {
      t = stackRows(name, kept);
      this.stacked.set(name, t);
    }
    return t;
  }

  /** One row's tensor of a hook, [1, …] (per-row positions: in the item's own coordinates). */
  item(row: number, name: string): Tensor {
    const kept = this.lookup(name);
    const rows = Array.isArray(kept) ? kept.length : (kept as Tensor).shape[0]!;
    if (!Number.isInteger(row) || row < 0 || row >= rows) {
      const message = `cache.item: row ${row} is outside the ${rows} rows of "${name}"`;
      throw new HookError("BAD_ARGUMENT", message, { got: row, expected: `[0, ${rows})` });
    }
    return Array.isArray(kept) ? kept[row]! : takeAlongAxis(kept as Tensor, 0, [row]);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  *entries(): IterableIterator<[string, Tensor]> {
    for (const name of this.tensors.keys()) yield [name, this.get(name)];
  }

  get size(): number {
    return this.tensors.size;
  }

  private lookup(name: string): Tensor | readonly Tensor[] {
    const t = this.tensors.get(name);
    if (!t) {
      const near = nearest(name, this.tensors.keys());
      throw new HookError(
        "UNKNOWN_HOOK",
        `"${name}" is not in this cache (${this.tensors.size} hooks kept)${near ? ` — did you mean "${near}"?` : ""}`,
        { got: name, suggestion: near },
      );
    }
    return t;
  }
}

/** Rows of one shape → [rows, …] (batch is every hook's first axis, so rows are consecutive blocks). */
function stackRows(name: string, rows: readonly Tensor[]): Tensor {
  const shape = rows[0]!.shape;
  const odd = rows.findIndex((r) => fmtShape(r.shape) !== fmtShape(shape));
  if (odd >= 0) {
    const got = rows[odd]!.shape;
    const message =
      `"${name}": rows differ in shape (row 0 ${fmtShape(shape)}, row ${odd} ${fmtShape(got)}); ` +
      `read them one by one with cache.item(row, "${name}")`;
    throw new HookError("HOOK_SHAPE", message, { hook: name, row: odd, expected: shape, got });
  }
  const size = rows[0]!.size;
  const data = new Float32Array(rows.length * size);
  rows.forEach((r, b) => data.set(r.data as Float32Array, b * size));
  return new Tensor("f32", [rows.length, ...shape.slice(1)], data);
}
