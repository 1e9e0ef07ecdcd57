/**
 * Writes the small fixture datasets under datasets/ deterministically:
 *   datasets/pile-tiny/train.parquet    column `text` (Pile-style, untokenized), row groups of 500 rows
 *   datasets/alpaca-tiny/train.parquet  columns `instruction`, `input`, `output` (Alpaca style)
 * Run: pnpm tsx datasets/prepare/make-fixtures.ts [--rows-text N] [--rows-chat N]
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parquetWriteBuffer } from "hyparquet-writer";
import { alpacaRow, FixtureRng, pileDocument } from "./text-generator.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function writeAtomic(path: string, bytes: ArrayBuffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, new Uint8Array(bytes));
  renameSync(tmp, path);
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const textRows = arg("--rows-text", 3000);
const chatRows = arg("--rows-chat", 2000);

const textRng = new FixtureRng(20241101);
const texts = Array.from({ length: textRows }, () => pileDocument(textRng));
writeAtomic(
  join(root, "pile-tiny", "train.parquet"),
  parquetWriteBuffer({ columnData: [{ name: "text", data: texts, type: "STRING" }], rowGroupSize: 500 }),
);

const chatRng = new FixtureRng(20241102);
const rows = Array.from({ length: chatRows }, () => alpacaRow(chatRng));
writeAtomic(
  join(root, "alpaca-tiny", "train.parquet"),
  parquetWriteBuffer({
    columnData: [
      { name: "instruction", data: rows.map((r) => r.instruction), type: "STRING" },
      { name: "input", data: rows.map((r) => r.input), type: "STRING" },
      { name: "output", data: rows.map((r) => r.output), type: "STRING" },
    ],
    rowGroupSize: 500,
  }),
);
console.log(`wrote ${textRows} text rows and ${chatRows} chat rows under ${root}`);
