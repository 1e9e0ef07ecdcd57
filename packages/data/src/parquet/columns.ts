import { DataError } from "../errors.ts";
import type { DatasetOrder, ParquetDataset } from "./dataset.ts";

/** The text of one column, row by row (Pile style, untokenized). */
export async function* textRows(dataset: ParquetDataset, column: string, order: DatasetOrder): AsyncGenerator<string> {
  for await (const { group, columns } of dataset.rowGroups([column], order)) {
    for (const [row, value] of columns[column]!.entries()) {
      if (typeof value !== "string") {
        throw new DataError(
          "COLUMN_TYPE",
          `${group.path}: column "${column}" row ${group.rowStart + row} (row group ${group.index}) is ${describe(value)}, expected a string`,
        );
      }
      yield value;
    }
  }
}

/** Pre-tokenized rows of a `list<int32>` column (default name `input_ids`). */
export async function* tokenRows(
  dataset: ParquetDataset,
  column: string,
  order: DatasetOrder,
): AsyncGenerator<Int32Array> {
  for await (const { group, columns } of dataset.rowGroups([column], order)) {
    for (const [row, value] of columns[column]!.entries()) {
      const ids = toIds(value);
      if (!ids) {
        throw new DataError(
          "COLUMN_TYPE",
          `${group.path}: column "${column}" row ${group.rowStart + row} (row group ${group.index}) is ${describe(value)}, expected a list of integers`,
        );
      }
      yield ids;
    }
  }
}

/** Rows of several string columns as records (Alpaca style: instruction, input, output). */
export async function* recordRows<K extends string>(
  dataset: ParquetDataset,
  names: readonly K[],
  order: DatasetOrder,
): AsyncGenerator<Record<K, string>> {
  for await (const { group, columns } of dataset.rowGroups(names, order)) {
    const n = columns[names[0]!]!.length;
    for (let row = 0; row < n; row++) {
      const record = {} as Record<K, string>;
      for (const name of names) {
        const value = columns[name]![row];
        if (value !== null && value !== undefined && typeof value !== "string") {
          throw new DataError(
            "COLUMN_TYPE",
            `${group.path}: column "${name}" row ${group.rowStart + row} is ${describe(value)}, expected a string`,
          );
        }
        record[name] = (value as string | null | undefined) ?? "";
      }
      yield record;
    }
  }
}

function toIds(value: unknown): Int32Array | undefined {
  if (value instanceof Int32Array) return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const out = Int32Array.from(value as unknown as ArrayLike<number>, Number);
    return out.every((v, i) => v === Number((value as unknown as ArrayLike<number | bigint>)[i])) ? out : undefined;
  }
  if (
    Array.isArray(value) &&
    value.every((v) => (typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint")
  ) {
    return Int32Array.from(value, Number);
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "a list";
  return `a ${typeof value}`;
}
