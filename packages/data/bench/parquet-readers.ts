/**
 * Measures the two Parquet readers that work here on our fixture files (read by row group, text column):
 * hyparquet (pure JS, byte-range reads from the file) and parquet-wasm + apache-arrow (whole-buffer reads).
 * Run: pnpm tsx packages/data/bench/parquet-readers.ts [file] [column]
 */
import { readFileSync } from "node:fs";
import { tableFromIPC } from "apache-arrow";
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from "hyparquet";
import * as wasm from "parquet-wasm";

const file = process.argv[2] ?? "datasets/pile-tiny/train.parquet";
const column = process.argv[3] ?? "text";

async function viaHyparquet(): Promise<number> {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  let chars = 0;
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    await parquetRead({
      file: buffer,
      metadata,
      columns: [column],
      rowStart: start,
      rowEnd: end,
      onComplete: (rows: unknown[][]) => {
        for (const row of rows) chars += String(row[0]).length;
      },
    });
    start = end;
  }
  return chars;
}

function viaParquetWasm(): number {
  const bytes = readFileSync(file);
  const meta = wasm.ParquetFile ? undefined : undefined;
  void meta;
  const table = tableFromIPC(wasm.readParquet(bytes, { columns: [column] }).intoIPCStream());
  let chars = 0;
  const vector = table.getChild(column)!;
  for (let i = 0; i < vector.length; i++) chars += String(vector.get(i)).length;
  return chars;
}

for (let round = 0; round < 3; round++) {
  let t = performance.now();
  const a = await viaHyparquet();
  const hyMs = performance.now() - t;
  t = performance.now();
  const b = viaParquetWasm();
  const wasmMs = performance.now() - t;
  console.log(
    `round ${round}: hyparquet ${hyMs.toFixed(1)} ms (${a} chars), parquet-wasm ${wasmMs.toFixed(1)} ms (${b} chars)`,
  );
}
