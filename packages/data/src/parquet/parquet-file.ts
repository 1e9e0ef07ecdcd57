import { existsSync, statSync } from "node:fs";
import type { AsyncBuffer, FileMetaData } from "hyparquet";
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from "hyparquet";
import { DataError } from "../errors.ts";

/** One row group of one file: where it starts and how many rows it holds. */
export interface RowGroupRef {
  readonly path: string;
  readonly index: number;
  readonly rowStart: number;
  readonly numRows: number;
}

/**
 * A Parquet file opened for streaming: the footer is parsed, row groups are read one at a time with
 * byte-range reads (hyparquet), so a file is never loaded whole. See the README for why hyparquet.
 */
export class ParquetFile {
  private constructor(
    readonly path: string,
    private readonly buffer: AsyncBuffer,
    private readonly metadata: FileMetaData,
    readonly rowGroups: readonly RowGroupRef[],
    readonly columns: readonly string[],
  ) {}

  static async open(path: string): Promise<ParquetFile> {
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw new DataError("PARQUET_NOT_FOUND", `${path}: no such Parquet file`);
    }
    let buffer: AsyncBuffer;
    let metadata: FileMetaData;
    try {
      buffer = await asyncBufferFromFile(path);
      metadata = await parquetMetadataAsync(buffer);
    } catch (error) {
      throw new DataError("PARQUET_CORRUPT", `${path}: not a readable Parquet file (${(error as Error).message})`);
    }
    let rowStart = 0;
    const rowGroups = metadata.row_groups.map((group, index) => {
      const ref = { path, index, rowStart, numRows: Number(group.num_rows) };
      rowStart += ref.numRows;
      return ref;
    });
    const columns = parquetSchema(metadata).children.map((child) => child.element.name);
    return new ParquetFile(path, buffer, metadata, rowGroups, columns);
  }

  get numRows(): number {
    return Number(this.metadata.num_rows);
  }

  /** Checks that every requested column exists, naming the file and the columns it does have. */
  requireColumns(names: readonly string[]): void {
    for (const name of names) {
      if (!this.columns.includes(name)) {
        throw new DataError(
          "COLUMN_MISSING",
          `${this.path}: no column "${name}" (columns: ${this.columns.join(", ")})`,
        );
      }
    }
  }

  /** Reads the given columns of one row group, column-major: result[column][row]. */
  async readRowGroup(index: number, columns: readonly string[]): Promise<Record<string, unknown[]>> {
    const group = this.rowGroups[index];
    if (!group)
      throw new DataError(
        "BAD_CONFIG",
        `${this.path}: row group ${index} does not exist (${this.rowGroups.length} groups)`,
      );
    this.requireColumns(columns);
    let rows: unknown[][] = [];
    try {
      await parquetRead({
        file: this.buffer,
        metadata: this.metadata,
        columns: [...columns],
        rowStart: group.rowStart,
        rowEnd: group.rowStart + group.numRows,
        onComplete: (result: unknown[][]) => {
          rows = result;
        },
      });
    } catch (error) {
      throw new DataError(
        "PARQUET_CORRUPT",
        `${this.path}: row group ${index} could not be read (${(error as Error).message})`,
      );
    }
    const out: Record<string, unknown[]> = {};
    columns.forEach((name, c) => {
      out[name] = rows.map((row) => row[c]);
    });
    return out;
  }
}
