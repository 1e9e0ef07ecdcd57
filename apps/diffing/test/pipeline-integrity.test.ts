/**
 * Issue 15 at the app level: a run folder never mixes configs (defect 1: finished stages were reused after the
 * seed or the chat data changed, and run.json was rewritten to match), `--retrain` moves old outputs aside,
 * `compare` and `features` verify the stages they read, and no command overwrites a folder without --force.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { diffFingerprints } from "@difflens/app-kit";
import { useBackend } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, resolveDiffingConfig } from "../src/index.ts";
import { stageFingerprints } from "../src/stages/stage-fingerprint.ts";
import { PILE, tinyPipelineConfig, writeConfig, writeTinyModel } from "./tiny-pipeline.ts";

let dir: string;
let lines: string[] = [];
const log = (l: string) => lines.push(l);
const run = async (...argv: string[]) => {
  lines = [];
  return main(argv, log);
};
const output = () => lines.join("\n");
const config = { a: "", seed1: "", otherChat: "" };
const runDir = () => path.join(dir, "run");
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));
const asides = (name: string) =>
  fs.readdirSync(path.dirname(name)).filter((f) => f.startsWith(`${path.basename(name)}.retired-`));

beforeAll(async () => {
  useBackend("auto");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "diffing-integrity-"));
  await writeTinyModel(dir);
  const base = tinyPipelineConfig(dir);
  config.a = writeConfig(dir, "a.json", base);
  config.seed1 = writeConfig(dir, "seed1.json", { ...base, sae: { ...(base.sae as object), seed: 1 } });
  config.otherChat = writeConfig(dir, "other-chat.json", { ...base, chatData: { files: [PILE], contextSize: 64 } });
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("a run folder never mixes configs", () => {
  it("reuses finished stages under the same config, refuses a changed seed or chat data naming the fields", async () => {
    expect(await run("train-stage2", "--config", config.a, "--with-parents")).toBe(0);
    const record = readJson(path.join(runDir(), "run.json"));
    expect(await run("train-stage2", "--config", config.a)).toBe(0);
    expect(output().match(/already trained under this config/g)).toHaveLength(5);

    expect(await run("train-stage2", "--config", config.seed1)).toBe(2);
    expect(output()).toContain("FINGERPRINT_MISMATCH");
    expect(output()).toContain("S (sae_s, trained): sae.seed: 0 → 1");
    expect(output()).toContain("DF (sae_df, trained): sae.seed: 0 → 1; its parent D changed");
    expect(output()).toContain(
      "another run folder (--run-dir DIR), or `pnpm --filter diffing train-stage2 … --retrain S --with-parents`",
    );
    expect(output()).toContain("D, M, DF, MF are moved aside too; this command retrains D, M, DF, MF");

    expect(await run("train-stage2", "--config", config.otherChat)).toBe(2);
    expect(output()).toMatch(/D \(sae_sd, trained\): data\.files\[0\]\.sha256: [0-9a-f]{12}… → [0-9a-f]{12}…/);
    expect(output()).not.toContain("M (sae_sm");
    expect(output()).toContain("--retrain D");

    const after = readJson(path.join(runDir(), "run.json"));
    expect(after.config).toEqual(record.config); // never rewritten; refused commands add no event
    expect(after.events.map((e: { command: string }) => e.command)).toEqual(["train-stage2", "train-stage2"]);
  }, 60_000);

  it("fingerprints the toy's seed and plant (the issue's `--seed 3 --no-plant` reproduction)", () => {
    const toy = (seed: number, plant: boolean) => {
      const input = { ...tinyPipelineConfig(dir), baseModel: null, chatModel: null, toy: { seed, plant } };
      return stageFingerprints(resolveDiffingConfig(input, dir));
    };
    const [was, now] = [toy(0, true), toy(3, false)];
    expect(diffFingerprints(was.fields.S, now.fields.S).map((c) => c.field)).toEqual(["model.toy.seed"]);
    expect(diffFingerprints(was.fields.M, now.fields.M).map((c) => c.field)).toEqual([
      "model.toy.plant",
      "model.toy.plantScale",
      "model.toy.seed",
      "parent.fingerprint",
    ]);
  });

  it("compare and features verify the stages they read and never overwrite without --force", async () => {
    expect(await run("compare", "--config", config.a)).toBe(0);
    expect(await run("compare", "--config", config.a)).toBe(2);
    expect(output()).toContain("OUTPUT_EXISTS");
    expect(output()).toContain("pass --force");
    expect(await run("compare", "--config", config.seed1)).toBe(2);
    expect(output()).toContain("S (sae_s, trained): sae.seed: 0 → 1");
    expect(await run("compare", "--config", config.a, "--force")).toBe(0);
    expect(await run("features", "--config", config.a)).toBe(0);
    expect(await run("features", "--config", config.a)).toBe(2);
    expect(output()).toContain("OUTPUT_EXISTS");
    expect(await run("features", "--config", config.otherChat, "--force")).toBe(2);
    expect(output()).toContain("FINGERPRINT_MISMATCH");
    expect(output()).toContain("data.files[0].sha256");
    expect(await run("features", "--config", config.a, "--force")).toBe(0);
    expect(fs.readdirSync(runDir()).filter((f) => f.startsWith("."))).toEqual([]); // no temp folder left
  }, 60_000);

  it("--retrain moves the old outputs aside (never deleted) and records it", async () => {
    expect(await run("train-stage0", "--config", config.seed1, "--retrain", "S")).toBe(0);
    for (const s of ["S", "D", "M", "DF", "MF"]) expect(asides(path.join(runDir(), "stages", s))).toHaveLength(1);
    expect(asides(path.join(runDir(), "compare"))).toHaveLength(1);
    const old = readJson(path.join(runDir(), "stages", asides(path.join(runDir(), "stages", "S"))[0]!, "stage.json"));
    expect(old.fingerprint.sae.seed).toBe(0);
    expect(readJson(path.join(runDir(), "stages/S/stage.json")).fingerprint.sae.seed).toBe(1);
    const events = readJson(path.join(runDir(), "run.json")).events;
    expect(events.at(-1).details.retired["stages/D"]).toMatch(/^stages\/D\.retired-/);
    expect(events.at(-1).config.sae.seed).toBe(1); // the header keeps the config the folder was made with
    expect(await run("train-stage1", "--config", config.a)).toBe(2); // D needs S, which is now seed 1
    expect(output()).toContain("S (sae_s, trained): sae.seed: 1 → 0");
  }, 60_000);
});

describe("no command overwrites a folder", () => {
  it("a stage folder of unknown origin, a non-empty demo --run-dir", async () => {
    const other = path.join(dir, "other");
    fs.mkdirSync(path.join(other, "stages/S"), { recursive: true });
    fs.writeFileSync(path.join(other, "stages/S/notes.txt"), "mine");
    expect(await run("train-stage0", "--config", config.a, "--run-dir", other)).toBe(2);
    expect(output()).toContain("has no fingerprint");
    expect(await run("demo", "--run-dir", other)).toBe(2);
    expect(output()).toContain("OUTPUT_EXISTS");
    expect(fs.readFileSync(path.join(other, "stages/S/notes.txt"), "utf8")).toBe("mine");
  });
});
