/**
 * Issue 15, defects 3, 5, 6 and 7 and the preflight of `train` / `finetune`: a finetune starts from an SAE of any
 * format with the source in its lineage; the parent's hook, widths, activation rule, k and normalisation are checked
 * (the hook can be overridden, with a warning in the lineage); `--resume` refuses another parent; every input is
 * checked before anything is created, all problems at once; `--dry-run` writes nothing; paths on the command line
 * resolve from where the command was typed.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeRandomQwen2Folder } from "@difflens/runtime";
import {
  initParams,
  newTrainState,
  resolveSaeTrainConfig,
  Sae,
  writeSaeFolder,
  writeSaeLens,
  writeSparsify,
} from "@difflens/sae";
import { Rng, useBackend } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, qwenTokenizerFile } from "../src/index.ts";

const REPO = path.resolve(__dirname, "../../..");
const HOOK = "blocks.1.hook_resid_pre";
const DICTIONARY_LEARNING = path.join(REPO, "packages/sae/test/fixtures/dictionary-learning"); // BatchTopK, d_in 16, d_sae 64, k 4
let dir: string;
let lines: string[] = [];
const log = (l: string) => lines.push(l);
const at = (...p: string[]) => path.join(dir, ...p);
const readJson = (...p: string[]) => JSON.parse(fs.readFileSync(at(...p), "utf8"));
const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const finetune = (from: string, out: string, ...more: string[]) =>
  main(["finetune", "--from", from, "--config", at("finetune.json"), "--out", at(out), ...more], log);

/** Our checkpoint folder with random weights, as a run of 40 steps would have left it. */
async function ourSae(
  folder: string,
  o: { hook: string; k: number; normalize: "none" | "unit-mean-squared-norm" },
): Promise<void> {
  const cfg = resolveSaeTrainConfig({ dIn: 16, dSae: 64, k: o.k, hookName: o.hook, normalizeActivations: o.normalize });
  const rng = new Rng(3);
  const state = newTrainState(initParams(16, 64, rng, new Float32Array(16)), cfg, rng);
  Object.assign(state, { step: 40, tokensSeen: 40 * 256 }); // trained here: its normalisation is a recorded recipe
  await writeSaeFolder(folder, state, cfg, []);
}

beforeAll(async () => {
  useBackend("auto");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "diffing-parents-"));
  await writeRandomQwen2Folder(at("model"), {
    config: { vocabSize: 151936, dModel: 16, nLayers: 2, nHeads: 2, dMlp: 32, tieWordEmbeddings: true },
    seed: 5,
  });
  for (const f of ["tokenizer.json", "tokenizer_config.json"])
    fs.copyFileSync(path.join(path.dirname(qwenTokenizerFile()), f), at("model", f));
  const sae = { dSae: 64, k: 4, batchSize: 256, lrWarmupSteps: 1, checkpointEverySteps: 5 };
  const common = {
    model: "model",
    hook: HOOK,
    sae,
    tokens: 256 * 3,
    harvest: { windowsPerForward: 8, shuffleRows: 1024 },
    wandb: { mode: "offline" },
  };
  const text = { files: [path.join(REPO, "datasets/pile-tiny/train.parquet")], contextSize: 32 };
  const chat = { files: [path.join(REPO, "datasets/alpaca-tiny/train.parquet")], contextSize: 96 };
  fs.writeFileSync(at("train.json"), JSON.stringify({ ...common, textData: text, outDir: "runs/s" }));
  fs.writeFileSync(at("finetune.json"), JSON.stringify({ ...common, chatData: chat, outDir: "runs/d" }));
  const rng = new Rng(7);
  const weights = {
    ...initParams(16, 64, rng, new Float32Array(16)),
    wEnc: Float32Array.from({ length: 1024 }, () => rng.normal() * 0.25),
  };
  const topk = new Sae({ dIn: 16, dSae: 64, activation: { kind: "topk", k: 4 } }, weights);
  await writeSaeLens(at("saelens"), topk, { hookName: HOOK });
  await writeSparsify(at("sparsify"), topk);
  fs.mkdirSync(at("dictionary-topk"));
  fs.copyFileSync(path.join(DICTIONARY_LEARNING, "ae.pt"), at("dictionary-topk", "ae.pt"));
  const dlConfig = JSON.parse(fs.readFileSync(path.join(DICTIONARY_LEARNING, "config.json"), "utf8"));
  const trainer = { ...dlConfig.trainer, dict_class: "AutoEncoderTopK", trainer_class: "TopKTrainer" };
  fs.writeFileSync(at("dictionary-topk", "config.json"), JSON.stringify({ ...dlConfig, trainer }));
  await ourSae(at("ours-blocks0"), { hook: "blocks.0.hook_resid_pre", k: 4, normalize: "unit-mean-squared-norm" });
  await ourSae(at("ours"), { hook: HOOK, k: 4, normalize: "unit-mean-squared-norm" });
  await ourSae(at("ours-k8"), { hook: HOOK, k: 8, normalize: "none" });
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("finetune from any SAE format (defect 3)", () => {
  it("finetunes a SAELens folder, with its format, path and sha256 in the lineage", async () => {
    expect(await finetune(at("saelens"), "runs/from-saelens")).toBe(0);
    const ft = readJson("runs/from-saelens/train.json");
    const lineage = readJson("runs/from-saelens", ft.checkpoint, "cfg.json").difflens.lineage;
    expect(lineage[0].path).toBe(at("runs/from-saelens/parent"));
    expect(lineage[1]).toMatchObject({
      format: "saelens",
      path: at("saelens"),
      sha256: sha256(at("saelens/sae_weights.safetensors")),
    });
    expect(ft.parent).toMatchObject({ format: "saelens", hook: HOOK, warnings: [] });
  }, 30_000);

  // The sparsify run replaces the SAELens one (--force: written beside it, its staged parent's path rewritten).
  it.each([
    ["sparsify", "sae.safetensors", "runs/from-saelens", ["--force"]],
    ["dictionary-topk", "ae.pt", "runs/from-dictionary-topk", []],
  ])(
    "finetunes a %s folder, noting its unrecorded hook",
    async (name, weights, out, more) => {
      expect(await finetune(at(name), out, ...more)).toBe(0);
      const ft = readJson(out, "train.json");
      const [staged, source] = readJson(out, ft.checkpoint, "cfg.json").difflens.lineage;
      expect(staged.path).toBe(at(out, "parent"));
      expect(fs.existsSync(path.join(staged.path, "cfg.json"))).toBe(true);
      expect(source).toMatchObject({
        format: name === "sparsify" ? "sparsify" : "dictionary_learning",
        sha256: sha256(at(name, weights)),
      });
      expect(source.warnings[0]).toContain(`records no hook; assumed to be ${HOOK}`);
    },
    30_000,
  );

  it("refuses a BatchTopK parent naming both activation rules, and creates nothing", async () => {
    lines = [];
    expect(await finetune(DICTIONARY_LEARNING, "runs/batchtopk")).toBe(1);
    expect(lines.join("\n")).toMatch(/PARENT_MISMATCH.*activation: parent "batchtopk", config "topk"/);
    expect(fs.existsSync(at("runs/batchtopk"))).toBe(false);
  });
});

describe("parent checks (defect 5)", () => {
  it("refuses a parent trained on another hook, naming both; --override-hook records a warning in the lineage", async () => {
    lines = [];
    expect(await finetune(at("ours-blocks0"), "runs/hook")).toBe(1);
    expect(lines.join("\n")).toContain('hook: parent "blocks.0.hook_resid_pre", config "blocks.1.hook_resid_pre"');
    expect(fs.existsSync(at("runs/hook"))).toBe(false); // no run folder, no W&B folder
    expect(await finetune(at("ours-blocks0"), "runs/hook", "--override-hook")).toBe(0);
    const ft = readJson("runs/hook/train.json");
    const source = readJson("runs/hook", ft.checkpoint, "cfg.json").difflens.lineage[1];
    expect(source).toMatchObject({ format: "difflens", path: at("ours-blocks0") });
    expect(source.warnings[0]).toContain(
      "parent trained on blocks.0.hook_resid_pre, finetuned on blocks.1.hook_resid_pre",
    );
  }, 30_000);

  it("names every mismatch at once: k and normalisation", async () => {
    lines = [];
    expect(await finetune(at("ours-k8"), "runs/k8")).toBe(1);
    const text = lines.join("\n");
    expect(text).toContain("k: parent 8, config 4");
    expect(text).toContain('normalisation: parent "none", config "unit-mean-squared-norm"');
  });
});

describe("--resume with another --from (defect 6)", () => {
  it("refuses, naming the parent the run was started from and the one given", async () => {
    expect(await finetune(at("ours"), "runs/six")).toBe(0);
    lines = [];
    expect(await finetune(at("sparsify"), "runs/six", "--resume")).toBe(1);
    const text = lines.join("\n");
    expect(text).toContain(
      `--resume with --from ${at("sparsify")}, but the run in ${at("runs/six")} was started from ${at("ours")}`,
    );
  }, 30_000);
});

describe("preflight and --dry-run", () => {
  it("reports every problem at once before creating anything", async () => {
    const fake = at("fake-chat.parquet");
    fs.writeFileSync(fake, "instruction\tinput\toutput\nsay hi\t\thi\n");
    const config = readJson("finetune.json");
    config.chatData.files = [fake, at("missing.parquet")];
    config.mask = { excludeTokens: ["<|im_start|>", "<|no_such_token|>"] };
    fs.writeFileSync(at("bad.json"), JSON.stringify(config));
    lines = [];
    const status = await main(
      ["finetune", "--from", at("no-parent"), "--config", at("bad.json"), "--out", at("runs/bad")],
      log,
    );
    expect(status).toBe(1);
    const text = lines.join("\n");
    expect(text).toContain("PREFLIGHT_FAILED");
    for (const part of ["PARQUET_CORRUPT", "fake-chat.parquet", "PARQUET_NOT_FOUND", "<|no_such_token|>", "no-parent"])
      expect(text).toContain(part);
    expect(fs.existsSync(at("runs/bad"))).toBe(false);
  });

  it("--dry-run prints the plan and writes nothing", async () => {
    lines = [];
    expect(await finetune(at("saelens"), "runs/dry", "--dry-run")).toBe(0);
    const text = lines.join("\n");
    for (const part of ["plan: finetune", "saelens", "training  3 steps × 256 rows", "time      ≈", "disk      ≈"])
      expect(text).toContain(part);
    expect(fs.existsSync(at("runs/dry"))).toBe(false);
  });
});

describe("paths on the command line (defect 7)", () => {
  it("resolve from where the command was typed (INIT_CWD under pnpm), not the app's folder", async () => {
    const before = process.env.INIT_CWD;
    process.env.INIT_CWD = dir;
    try {
      lines = [];
      expect(await main(["train", "--config", "train.json", "--out", "runs/typed-here", "--dry-run"], log)).toBe(0);
      expect(lines.join("\n")).toContain(`→ ${at("runs/typed-here")}`);
    } finally {
      if (before === undefined) delete process.env.INIT_CWD;
      else process.env.INIT_CWD = before;
    }
  });
});
