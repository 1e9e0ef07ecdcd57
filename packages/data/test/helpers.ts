import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";

export function tempDir(prefix = "difflens-data-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A text parquet with `rows` documents `doc-<i>` in row groups of `groupSize`. */
export function writeTextParquet(path: string, texts: readonly string[], groupSize: number): string {
  writeFileSync(
    path,
    new Uint8Array(
      parquetWriteBuffer({ columnData: [{ name: "text", data: [...texts], type: "STRING" }], rowGroupSize: groupSize }),
    ),
  );
  return path;
}

/** A pre-tokenized parquet with a list<int32> column. */
export function writeTokenParquet(path: string, rows: readonly number[][], column = "input_ids"): string {
  const bytes = parquetWriteBuffer({
    columnData: [{ name: column, data: rows.map((r) => [...r]) }],
    schema: [
      { name: "root", num_children: 1 },
      { name: column, repetition_type: "OPTIONAL", num_children: 1, converted_type: "LIST" },
      { name: "list", repetition_type: "REPEATED", num_children: 1 },
      { name: "element", type: "INT32", repetition_type: "OPTIONAL" },
    ],
    rowGroupSize: 2,
  });
  writeFileSync(path, new Uint8Array(bytes));
  return path;
}

/** A whitespace "tokenizer" with a fixed vocabulary: word → index, deterministic and independent. */
export function wordTokenizer(): { encode(text: string): { ids: number[] }; vocab: Map<string, number> } {
  const vocab = new Map<string, number>();
  return {
    vocab,
    encode(text: string) {
      const ids = text
        .split(/\s+/)
        .filter(Boolean)
        .map((word) => {
          if (!vocab.has(word)) vocab.set(word, 10 + vocab.size);
          return vocab.get(word)!;
        });
      return { ids };
    },
  };
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
