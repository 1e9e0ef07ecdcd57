/**
 * Issue 15, defect 4 and the pipeline's preflight: a stage command checks everything it will read — every data file
 * of every stage it will train, parents included — before any compute, reports all problems at once, and
 * `--dry-run` prints the plan (stages, tokens, time, disk) without training or writing anything.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, main } from "../src/index.ts";

let dir: string;
let lines: string[] = [];
const log = (l: string) => lines.push(l);
const at = (...p: string[]) => path.join(dir, ...p);

interface ConfigJson {
  runDir: string;
  toy: { cacheDir: string };
  textData: { files: string[] };
  chatData: { files: string[] };
  mask?: { excludeTokens: string[] };
}

/** The default toy config with absolute data paths and everything written under `dir`. */
function toyConfig(file: string, change: (config: ConfigJson) => void = () => undefined): string {
  const config = JSON.parse(fs.readFileSync(DEFAULT_CONFIG, "utf8")) as ConfigJson;
  const fromDefault = (p: string) => path.resolve(path.dirname(DEFAULT_CONFIG), p);
  config.textData.files = config.textData.files.map(fromDefault);
  config.chatData.files = config.chatData.files.map(fromDefault);
  config.runDir = at("run");
  config.toy.cacheDir = at("toy-models");
  change(config);
  fs.writeFileSync(at(file), JSON.stringify(config));
  return at(file);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "diffing-preflight-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("pipeline preflight (defect 4)", () => {
  it("a chat parquet that is really a text file fails train-stage2 --with-parents before S trains, with every other problem", async () => {
    fs.writeFileSync(at("chat.parquet"), "instruction,input,output\nsay hi,,hi\n");
    const config = toyConfig("bad.json", (c) => {
      c.chatData.files = [at("chat.parquet")];
      c.mask = { excludeTokens: ["<|im_start|>", "<|im_stat|>"] };
    });
    lines = [];
    const t0 = performance.now();
    expect(await main(["train-stage2", "--config", config, "--with-parents"], log)).toBe(1);
    const text = lines.join("\n");
    expect(text).toContain("PREFLIGHT_FAILED");
    expect(text).toMatch(/chat data .*chat\.parquet: \[PARQUET_CORRUPT\]/);
    expect(text).toContain('"<|im_stat|>" is not a token');
    expect(fs.existsSync(at("run"))).toBe(false); // S was not trained
    expect(fs.existsSync(at("toy-models"))).toBe(false); // nor were the toy models made
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it("--dry-run prints the plan — every stage with tokens and time, the disk — and writes nothing", async () => {
    const config = toyConfig("good.json");
    lines = [];
    expect(await main(["train-stage2", "--config", config, "--with-parents", "--dry-run"], log)).toBe(0);
    const text = lines.join("\n");
    expect(text).toContain("plan: train-stage2");
    for (const stage of ["S ", "D ", "M ", "DF", "MF"])
      expect(text).toMatch(new RegExp(`\\n  ${stage} .* train.*tokens, ≈ \\d\\d:\\d\\d`));
    expect(text).toMatch(/total {6}5 stage\(s\) to train, 1\.02M tokens, ≈ /);
    expect(text).toMatch(/disk {7}≈ .* free/);
    expect(fs.existsSync(at("run"))).toBe(false);
    expect(fs.existsSync(at("toy-models"))).toBe(false);
  });

  it("without --with-parents, names the missing parents; compare names every missing stage at once", async () => {
    const config = toyConfig("good.json");
    lines = [];
    expect(await main(["train-stage2", "--config", config, "--dry-run"], log)).toBe(1);
    expect(lines.join("\n")).toMatch(/stage DF \(sae_df\) needs D[\s\S]*stage MF \(sae_mf\) needs M/);
    lines = [];
    expect(await main(["compare", "--config", config, "--dry-run"], log)).toBe(1);
    expect(lines.join("\n")).toContain("5 problems found before any compute");
  });
});
