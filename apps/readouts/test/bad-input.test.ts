/** The acceptance list of bad inputs: each is one line naming the file/field and what was expected, exit 2, no run folder. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.ts";
import { tinyConfig, writeLines, writeTinySae, writeTinySetup } from "./sae-conditions-fixture.ts";

let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bad-input-"));
  await writeTinySetup(dir);
  await writeTinySae(path.join(dir, "sae-narrow"), 3, 8);
  fs.mkdirSync(path.join(dir, "sae-empty"));
  writeLines(path.join(dir, "bad-prompts.jsonl"), [{ id: "a", text: "Hello there." }, '{"id": "b", "txt": "oops"}']);
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function runWith(
  name: string,
  patch: Record<string, unknown>,
): Promise<{ code: number; errors: string[]; runDir: string }> {
  const runDir = path.join(dir, `run-${name}`);
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(tinyConfig(dir, { runDir, ...patch })));
  const lines: string[] = [];
  const code = await main(["sae-conditions", "--config", file], (line) => lines.push(line));
  return { code, errors: lines.filter((l) => l !== "" && !l.startsWith("backend:")), runDir };
}

describe("sae-conditions refuses bad input before writing anything (exit 2, one line)", () => {
  const cases: Array<[string, () => Record<string, unknown>, RegExp]> = [
    [
      "malformed prompt line",
      () => ({ prompts: path.join(dir, "bad-prompts.jsonl") }),
      /bad-prompts\.jsonl:2: expected \{"id".*"text"/,
    ],
    [
      "SAE d_in ≠ hook width",
      () => ({ saes: { "0": path.join(dir, "sae0"), "1": path.join(dir, "sae-narrow") } }),
      /saes\.1: .*sae-narrow reads d_in = 8; expected 16, the width of blocks\.1\.hook_resid_post/,
    ],
    [
      "layer beyond the model",
      () => ({ layers: [5], saes: { "5": path.join(dir, "sae0") }, trackA: undefined }),
      /layers: layer 5 is beyond the model .*2 layers.*expected 0–1/,
    ],
    [
      "unknown condition label",
      () => ({ trackA: { latents: { "1": [3] }, pairs: [["model-default", "custm"]] } }),
      /trackA\.pairs\[0\]\[1\]: unknown condition label "custm".*expected one of/,
    ],
    [
      "missing SAE file",
      () => ({ saes: { "0": path.join(dir, "sae0"), "1": path.join(dir, "sae-empty") } }),
      /saes\.1: .*sae-empty: no SAE format recognised/,
    ],
    [
      "missing SAE folder",
      () => ({ saes: { "0": path.join(dir, "sae0"), "1": path.join(dir, "sae-nowhere") } }),
      /saes\.1: .*sae-nowhere: no such folder; expected an SAE folder/,
    ],
  ];
  for (const [name, patch, message] of cases) {
    it(name, async () => {
      const r = await runWith(name.replace(/\W+/g, "-"), patch());
      if (process.env.SHOW_ERRORS) console.log(r.errors.join("\n"));
      expect(r.code).toBe(2);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatch(message);
      expect(fs.existsSync(r.runDir)).toBe(false);
    }, 30_000);
  }
});
