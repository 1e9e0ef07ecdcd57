/**
 * A Parquet data file checked the way a long job will read it, in a fraction of a second: the footer and schema,
 * the columns the job names, and the first row group's values of those columns (their type).
 */
import { ParquetFile } from "@difflens/data";
import { AppKitError } from "../errors.ts";

/** What a column must hold: text, or token ids (a list of integers per row). */
export type ColumnKind = "string" | "int-list";

export interface ParquetCheck {
  readonly rows: number;
  readonly rowGroups: number;
}

export async function checkParquetColumns(
  file: string,
  columns: Readonly<Record<string, ColumnKind>>,
): Promise<ParquetCheck> {
  const parquet = await ParquetFile.open(file);
  const names = Object.keys(columns);
  parquet.requireColumns(names);
  if (parquet.numRows === 0 || parquet.rowGroups.length === 0) {
    throw new AppKitError("DATA_INVALID", `${file}: holds no rows`, { file });
  }
  const values = await parquet.readRowGroup(0, names);
  for (const name of names) {
    const first = values[name]!.find((v) => v !== null && v !== undefined);
    const kind = columns[name]!;
    if (first !== undefined && !isKind(first, kind)) {
      const expected = kind === "string" ? "strings" : "lists of integers (token ids)";
      const message = `${file}: column "${name}" holds ${describe(first)} in row group 0, expected ${expected}`;
      throw new AppKitError("DATA_INVALID", message, { file, field: name, expected, got: describe(first) });
    }
  }
  return { rows: parquet.numRows, rowGroups: parquet.rowGroups.length };
}

function isKind(value: unknown, kind: ColumnKind): boolean {
  if (kind === "string") return typeof value === "string";
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return !(value instanceof Float32Array || value instanceof Float64Array);
  return (
    Array.isArray(value) && value.every((v) => (typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint")
  );
}

function describe(value: unknown): string {
  if (typeof value === "string") return "strings";
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return "lists";
  return `${typeof value}s`;
}
