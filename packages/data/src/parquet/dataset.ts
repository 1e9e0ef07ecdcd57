import { Rng } from "@difflens/tensor";
import { DataError } from "../errors.ts";
import { ParquetFile, type RowGroupRef } from "./parquet-file.ts";

export interface DatasetOrder {
  /** Shuffle the order of files and of row groups (not rows inside a group). */
  shuffle: boolean;
  /** Seed of the shuffle; the same seed gives the same order everywhere. */
  seed: number;
}

/** Rows of one row group, column-major, with where they came from. */
export interface RowGroupBatch {
  readonly group: RowGroupRef;
  readonly columns: Record<string, unknown[]>;
}

/** Several Parquet files read as one dataset, streamed row group by row group. */
export class ParquetDataset {
  private constructor(readonly files: readonly ParquetFile[]) {}

  static async open(paths: readonly string[]): Promise<ParquetDataset> {
    if (paths.length === 0) throw new DataError("EMPTY_DATASET", "dataset: no Parquet files given");
    const files = await Promise.all(paths.map((path) => ParquetFile.open(path)));
    const dataset = new ParquetDataset(files);
    if (dataset.numRows === 0) {
      throw new DataError("EMPTY_DATASET", `dataset: ${paths.join(", ")} hold no rows`);
    }
    return dataset;
  }

  get numRows(): number {
    return this.files.reduce((n, file) => n + file.numRows, 0);
  }

  /** Fails early (before any long job starts) when a column is missing from any file. */
  requireColumns(columns: readonly string[]): void {
    for (const file of this.files) file.requireColumns(columns);
  }

  /** Row groups in reading order: file order then group order, or a seeded shuffle of both. */
  order({ shuffle, seed }: DatasetOrder): RowGroupRef[] {
    const rng = new Rng(seed);
    const files = shuffle ? shuffled([...this.files], rng) : [...this.files];
    return files.flatMap((file) => (shuffle ? shuffled([...file.rowGroups], rng) : [...file.rowGroups]));
  }

  /**
   * Streams row groups from `position` (an index into `order`) on, so a job can checkpoint the position and
   * resume exactly where it stopped.
   */
  async *rowGroups(columns: readonly string[], order: DatasetOrder, position = 0): AsyncGenerator<RowGroupBatch> {
    this.requireColumns(columns);
    const byPath = new Map(this.files.map((file) => [file.path, file]));
    const refs = this.order(order);
    for (let i = position; i < refs.length; i++) {
      const group = refs[i]!;
      const file = byPath.get(group.path)!;
      yield { group, columns: await file.readRowGroup(group.index, columns) };
    }
  }
}

/** Fisher–Yates with the dataset's own seeded stream. */
function shuffled<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
