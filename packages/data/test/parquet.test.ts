import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataError, ParquetDataset, ParquetFile, recordRows, textRows, tokenRows } from "../src/index.ts";
import { collect, tempDir, writeTextParquet, writeTokenParquet } from "./helpers.ts";

const docs = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

describe("ParquetFile", () => {
  it("lists row groups and reads one at a time", async () => {
    const path = writeTextParquet(join(tempDir(), "a.parquet"), docs(25, "a"), 10);
    const file = await ParquetFile.open(path);
    expect(file.rowGroups.map((g) => [g.rowStart, g.numRows])).toEqual([
      [0, 10],
      [10, 10],
      [20, 5],
    ]);
    expect(file.columns).toEqual(["text"]);
    const group = await file.readRowGroup(1, ["text"]);
    expect(group.text).toEqual(docs(25, "a").slice(10, 20));
  });

  it("names the file for a missing or corrupt file and a missing column", async () => {
    const dir = tempDir();
    await expect(ParquetFile.open(join(dir, "none.parquet"))).rejects.toMatchObject({ code: "PARQUET_NOT_FOUND" });
    writeFileSync(join(dir, "bad.parquet"), "PAR1 this is not parquet PAR1");
    await expect(ParquetFile.open(join(dir, "bad.parquet"))).rejects.toThrow(/bad\.parquet.*not a readable Parquet/);
    const file = await ParquetFile.open(writeTextParquet(join(dir, "ok.parquet"), docs(3, "x"), 10));
    expect(() => file.requireColumns(["input_ids"])).toThrow(/ok\.parquet: no column "input_ids" \(columns: text\)/);
  });

  it("names the row group when its pages are corrupt", async () => {
    const dir = tempDir();
    const path = writeTextParquet(join(dir, "c.parquet"), docs(40, "some longer document text"), 10);
    const file = await ParquetFile.open(path);
    // Overwrite the middle of the data pages but keep the footer intact.
    const { readFileSync } = await import("node:fs");
    const bytes = readFileSync(path);
    for (let i = 8; i < Math.min(bytes.length - 200, 400); i++) bytes[i] = 0xff;
    writeFileSync(path, bytes);
    const broken = await ParquetFile.open(path);
    await expect(broken.readRowGroup(0, ["text"])).rejects.toMatchObject({ code: "PARQUET_CORRUPT" });
    await expect(broken.readRowGroup(0, ["text"])).rejects.toThrow(/row group 0/);
    void file;
  });
});

describe("ParquetDataset", () => {
  it("streams several files as one dataset in order", async () => {
    const dir = tempDir();
    const a = writeTextParquet(join(dir, "a.parquet"), docs(7, "a"), 3);
    const b = writeTextParquet(join(dir, "b.parquet"), docs(4, "b"), 3);
    const dataset = await ParquetDataset.open([a, b]);
    expect(dataset.numRows).toBe(11);
    const texts = await collect(textRows(dataset, "text", { shuffle: false, seed: 0 }));
    expect(texts).toEqual([...docs(7, "a"), ...docs(4, "b")]);
  });

  it("shuffles files and row groups by seed, reproducibly, losing nothing", async () => {
    const dir = tempDir();
    const paths = ["a", "b", "c"].map((tag) => writeTextParquet(join(dir, `${tag}.parquet`), docs(20, tag), 4));
    const dataset = await ParquetDataset.open(paths);
    const first = await collect(textRows(dataset, "text", { shuffle: true, seed: 7 }));
    const again = await collect(textRows(dataset, "text", { shuffle: true, seed: 7 }));
    const other = await collect(textRows(dataset, "text", { shuffle: true, seed: 8 }));
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    expect([...first].sort()).toEqual(paths.flatMap((_, i) => docs(20, ["a", "b", "c"][i]!)).sort());
    // Rows inside a row group keep their order (groups are shuffled, not rows).
    const position = first.indexOf("a-4");
    expect(first.slice(position, position + 4)).toEqual(["a-4", "a-5", "a-6", "a-7"]);
  });

  it("resumes from a row-group position", async () => {
    const dir = tempDir();
    const dataset = await ParquetDataset.open([writeTextParquet(join(dir, "a.parquet"), docs(12, "a"), 4)]);
    const order = { shuffle: true, seed: 3 };
    const all = await collect(dataset.rowGroups(["text"], order));
    const tail = await collect(dataset.rowGroups(["text"], order, 1));
    expect(tail.map((g) => g.columns.text)).toEqual(all.slice(1).map((g) => g.columns.text));
  });

  it("reads pre-tokenized list<int32> columns and records", async () => {
    const dir = tempDir();
    const path = writeTokenParquet(join(dir, "t.parquet"), [[1, 2, 3], [4], [5, 6]]);
    const dataset = await ParquetDataset.open([path]);
    const rows = await collect(tokenRows(dataset, "input_ids", { shuffle: false, seed: 0 }));
    expect(rows.map((r) => [...r])).toEqual([[1, 2, 3], [4], [5, 6]]);
    await expect(collect(textRows(dataset, "input_ids", { shuffle: false, seed: 0 }))).rejects.toThrow(
      /t\.parquet: column "input_ids" row 0 \(row group 0\) is a list, expected a string/,
    );
    const texts = await ParquetDataset.open([writeTextParquet(join(dir, "x.parquet"), ["a"], 5)]);
    await expect(collect(tokenRows(texts, "text", { shuffle: false, seed: 0 }))).rejects.toMatchObject({
      code: "COLUMN_TYPE",
    });
    await expect(collect(recordRows(texts, ["text"], { shuffle: false, seed: 0 }))).resolves.toEqual([{ text: "a" }]);
  });

  it("refuses an empty dataset", async () => {
    await expect(ParquetDataset.open([])).rejects.toBeInstanceOf(DataError);
    const dir = tempDir();
    await expect(ParquetDataset.open([writeTextParquet(join(dir, "e.parquet"), [], 5)])).rejects.toMatchObject({
      code: "EMPTY_DATASET",
    });
  });

  it("reads the committed fixtures", async () => {
    const root = join(import.meta.dirname, "../../../datasets");
    const pile = await ParquetDataset.open([join(root, "pile-tiny/train.parquet")]);
    expect(pile.numRows).toBe(3000);
    expect(pile.files[0]!.rowGroups.length).toBe(6);
    const alpaca = await ParquetDataset.open([join(root, "alpaca-tiny/train.parquet")]);
    const first = (
      await collect(recordRows(alpaca, ["instruction", "input", "output"], { shuffle: false, seed: 0 }))
    )[0]!;
    expect(typeof first.instruction).toBe("string");
    expect(first.output.length).toBeGreaterThan(0);
  });
});
