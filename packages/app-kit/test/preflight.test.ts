import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DifflensError } from "@difflens/common";
import { writeRandomQwen2Folder } from "@difflens/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkFreeDisk,
  checkModelFolder,
  checkParquetColumns,
  checkWritableFolder,
  formatBytes,
  hookWidth,
  Preflight,
} from "../src/index.ts";
import { TINY_QWEN2 } from "./helpers.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "app-kit-preflight-"));
const model = path.join(tmp, "model");
const PILE = path.resolve(__dirname, "../../../datasets/pile-tiny/train.parquet");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => writeRandomQwen2Folder(model, { config: TINY_QWEN2, seed: 1 }));

async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof DifflensError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return "no error";
}

describe("preflight checks", () => {
  it("checks a model folder from its config and safetensors headers, and a hook's width", async () => {
    const checked = await checkModelFolder({ path: model, adapter: null });
    expect(checked.config.dModel).toBe(16);
    expect(checked.weightBytes).toBeGreaterThan(0);
    expect(hookWidth(checked.config, "blocks.1.hook_resid_pre")).toBe(16);
    expect(hookWidth(checked.config, "blocks.0.mlp.hook_post")).toBe(32);
    expect(await codeOf(() => hookWidth(checked.config, "blocks.7.hook_resid_pre"))).toMatch(/^UNKNOWN_HOOK/);
    const wrong = path.join(tmp, "wrong");
    fs.cpSync(model, wrong, { recursive: true });
    const cfg = JSON.parse(fs.readFileSync(path.join(wrong, "config.json"), "utf8"));
    fs.writeFileSync(path.join(wrong, "config.json"), JSON.stringify({ ...cfg, intermediate_size: 48 }));
    expect(await codeOf(() => checkModelFolder({ path: wrong, adapter: null }))).toMatch(
      /^MODEL_INVALID: .*gate_proj.*\[32, 16\].*\[48, 16\]/,
    );
  });

  it("checks a Parquet file's footer, columns and first row group", async () => {
    expect(await checkParquetColumns(PILE, { text: "string" })).toMatchObject({ rowGroups: expect.any(Number) });
    const fake = path.join(tmp, "chat.parquet");
    fs.writeFileSync(fake, "instruction,input,output\nhello,,world\n");
    expect(await codeOf(() => checkParquetColumns(fake, { instruction: "string" }))).toMatch(
      /^PARQUET_CORRUPT: .*chat\.parquet/,
    );
    expect(await codeOf(() => checkParquetColumns(PILE, { txt: "string" }))).toMatch(
      /^COLUMN_MISSING: .*columns: text/,
    );
    expect(await codeOf(() => checkParquetColumns(PILE, { text: "int-list" }))).toMatch(
      /^DATA_INVALID: .*holds strings.*expected lists of integers/,
    );
  });

  it("checks the output folder and the disk without creating anything", async () => {
    checkWritableFolder(path.join(tmp, "a", "b", "c"));
    expect(fs.existsSync(path.join(tmp, "a"))).toBe(false);
    fs.writeFileSync(path.join(tmp, "file"), "");
    expect(await codeOf(() => checkWritableFolder(path.join(tmp, "file", "run")))).toMatch(
      /^OUTPUT_NOT_WRITABLE: .*is a file/,
    );
    expect(checkFreeDisk(tmp, 1, "a test")).toBeGreaterThan(0);
    expect(await codeOf(() => checkFreeDisk(tmp, 1e18, "a test"))).toMatch(/^DISK_SPACE: .*needs ≈ 1000000\.0 TB/);
    expect(formatBytes(1_600_000_000)).toBe("1.6 GB");
  });

  it("collects every problem and reports them together; one problem is thrown as itself", async () => {
    const pf = new Preflight();
    await pf.check("model", () => checkModelFolder({ path: path.join(tmp, "none"), adapter: null }));
    await pf.check("data", () => checkParquetColumns(path.join(tmp, "chat.parquet"), { x: "string" }));
    await pf.check("output", () => checkWritableFolder(path.join(tmp, "file", "run")));
    expect(await pf.check("fine", () => 3)).toBe(3);
    const report = await codeOf(() => pf.finish());
    expect(report).toMatch(/^PREFLIGHT_FAILED: 3 problems found before any compute/);
    for (const part of [
      "1. model: [MODEL_NOT_FOUND]",
      "2. data: [PARQUET_CORRUPT]",
      "3. output: [OUTPUT_NOT_WRITABLE]",
    ])
      expect(report).toContain(part);
    const one = new Preflight();
    await one.check("output", () => checkWritableFolder(path.join(tmp, "file", "run")));
    expect(await codeOf(() => one.finish())).toMatch(/^OUTPUT_NOT_WRITABLE/);
  });
});
