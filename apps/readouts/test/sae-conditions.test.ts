import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pairedMaxT } from "@difflens/stats";
import { readSafetensors } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.ts";
import { resolveSaeConditionsConfig } from "../src/sae-conditions/config.ts";
import { runSaeConditions } from "../src/sae-conditions/run-sae-conditions.ts";
import { D_SAE, PROMPTS, tinyConfig, writeTinySetup } from "./sae-conditions-fixture.ts";

let dir: string;
const quiet = () => {};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sae-conditions-"));
  await writeTinySetup(dir);
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("sae-conditions end to end on a tiny random model and random SAEs", () => {
  it("writes results, figures, activations and run.json at last-prompt-token", async () => {
    const runDir = path.join(dir, "run-last");
    const config = resolveSaeConditionsConfig(tinyConfig(dir, { runDir }), dir);
    const results = await runSaeConditions(config, { runDir, log: quiet });
    expect(results.layers.map((l) => l.layer)).toEqual([0, 1]);
    const l1 = results.layers[1]!;
    expect(l1.encodeRule).toMatchObject({ requested: "threshold", applied: "topk", k: 4 });
    l1.similarity.matrix.forEach((row, i) => expect(row[i]).toBeCloseTo(1, 6));
    expect(l1.trackA).toHaveLength(1);
    expect(l1.trackA![0]!.pair).toEqual(["model-default", "custom:You are a helpful assistant."]);
    expect(l1.trackA![0]!.pValue).toBeGreaterThan(0);
    expect(l1.trackB).toHaveLength(6);
    for (const b of l1.trackB) {
      const c = b.counts;
      expect(c.tested + c.degenerate + c.inactive).toBe(D_SAE);
      for (const f of b.top) expect(f.link).toBe(`https://example.org/1/${f.latent}`);
    }
    expect(l1.degeneracy).toEqual([]);
    // The Qwen default system prompt differs from the custom one by its identity tokens.
    const lex = results.lexicalDifferences.find((d) => d.pair[1] === "custom:You are a helpful assistant.")!;
    expect(lex.onlyInA.join("")).toContain("Qwen");
    expect(results.behaviour).toHaveLength(2);
    expect(results.behaviour![0]!.gaps).toHaveLength(PROMPTS.length);
    const saved = await readSafetensors(path.join(runDir, "activations/layer_1.safetensors"));
    expect(saved.tensors.acts!.shape).toEqual([4, PROMPTS.length, D_SAE]);
    expect(saved.tensors.resid!.shape).toEqual([4, PROMPTS.length, 16]);
    expect(saved.tensors.token_values).toBeUndefined();
    expect(saved.tensors.tracka_null_sets_0!.shape).toEqual([50, 2]);
    // The saved activations and signs reproduce the reported Track B exactly.
    const P = PROMPTS.length;
    const acts = saved.tensors.acts!.data as Float32Array;
    const block = (c: number) => ({ data: acts.subarray(c * P * D_SAE, (c + 1) * P * D_SAE), rows: P, cols: D_SAE });
    const again = pairedMaxT(block(0), block(1), {
      alpha: 0.05,
      signs: saved.tensors.trackb_signs_0!.data as Int32Array,
    });
    expect(again.passFamilywise.length).toBe(l1.trackB[0]!.counts.familywise);
    for (const f of l1.trackB[0]!.top) expect(again.pFamilywise[f.latent]).toBe(f.pFamilywise);
    const json = JSON.parse(fs.readFileSync(path.join(runDir, "results.json"), "utf8"));
    expect(json.layers[1].trackB[0].counts).toEqual(l1.trackB[0]!.counts);
    for (const ext of ["png", "pdf", "svg"])
      expect(fs.existsSync(path.join(runDir, `figures/similarity-heatmap.${ext}`))).toBe(true);
    expect(fs.existsSync(path.join(runDir, "figures/track-b-counts.png"))).toBe(true);
    expect(fs.existsSync(path.join(runDir, "figures/behaviour-layer1.png"))).toBe(true);
    expect(fs.readFileSync(path.join(runDir, "top-features.md"), "utf8")).toContain("https://example.org/1/");
    const record = JSON.parse(fs.readFileSync(path.join(runDir, "run.json"), "utf8"));
    expect(record.events[0].command).toBe("sae-conditions");
  }, 60_000);

  it("flags last-system-token as degenerate and reports no p-values for its pairs", async () => {
    const runDir = path.join(dir, "run-system");
    const raw = tinyConfig(dir, {
      runDir,
      position: "last-system-token",
      behaviour: undefined,
      layers: [1],
      saes: { "1": path.join(dir, "sae1") },
      trackA: undefined,
    });
    const results = await runSaeConditions(resolveSaeConditionsConfig(raw, dir), {
      runDir,
      log: quiet,
      figures: false,
    });
    const l = results.layers[0]!;
    expect(l.degeneracy.map((w) => w.condition)).toEqual(results.conditions.map((c) => c.label));
    expect(results.warnings.length).toBeGreaterThan(0);
    expect(results.warnings[0]).toContain("last-prompt-token");
    for (const b of l.trackB) {
      expect(b.allDegenerate).toBe(true);
      expect(b.counts.familywise).toBe(0);
      expect(b.top).toEqual([]);
    }
  }, 60_000);

  it("two readout positions from one forward pass equal two one-position runs; an identical-text pair is degenerate", async () => {
    const positions = ["last-prompt-token", "all:user:content"];
    const conditions = [
      "model-default",
      "custom:You are a helpful assistant.",
      { label: "helpful-again", condition: "custom:You are a helpful assistant." },
    ];
    const run = async (name: string, position: string | string[]) => {
      const runDir = path.join(dir, name);
      const raw = tinyConfig(dir, { runDir, position, conditions, layers: [1], saes: { "1": path.join(dir, "sae1") } });
      const lines: string[] = [];
      const results = await runSaeConditions(resolveSaeConditionsConfig(raw, dir), {
        runDir,
        log: (line) => lines.push(line),
        figures: name === "run-both",
      });
      return { runDir, results, lines };
    };
    const both = await run("run-both", positions);
    expect(both.results.positions).toEqual(positions);
    const readouts = [both.results, ...both.results.readouts];
    for (const [r, position] of positions.entries()) {
      const one = await run(`run-${r}`, position);
      const [a, b] = [readouts[r]!, one.results];
      expect(a.position).toBe(position);
      // The readout's own results (ReadoutResults), the activation file's path aside.
      const strip = ({ position, conditions, layers, warnings, behaviour }: typeof a) => ({
        ...{ position, conditions, warnings, behaviour },
        layers: layers.map((l) => ({ ...l, activations: "" })),
      });
      expect(strip(a)).toEqual(strip(b));
      expect(b.layers[0]!.activations).toBe("activations/layer_1.safetensors");
      const slug = position.replace(/:/g, "-");
      expect(a.layers[0]!.activations).toBe(`activations/${slug}/layer_1.safetensors`);
      const [x, y] = await Promise.all(
        [path.join(both.runDir, a.layers[0]!.activations), path.join(one.runDir, b.layers[0]!.activations)].map((f) =>
          readSafetensors(f),
        ),
      );
      for (const name of Object.keys(y!.tensors)) expect(x!.tensors[name]!.data).toEqual(y!.tensors[name]!.data);
      expect(fs.existsSync(path.join(both.runDir, `figures/${slug}/similarity-heatmap.png`))).toBe(true);
    }
    // The identical-text pair: every latent inactive, flagged in results.json and on the console.
    const json = JSON.parse(fs.readFileSync(path.join(both.runDir, "results.json"), "utf8"));
    for (const readout of [json, ...json.readouts]) {
      const dup = readout.layers[0].trackB.find((b: { pair: string[] }) => b.pair[0]!.startsWith("custom:"));
      expect(dup.pair).toEqual(["custom:You are a helpful assistant.", "helpful-again"]);
      expect(dup).toMatchObject({ allDegenerate: true, counts: { familywise: 0, perFeature: 0, tested: 0 } });
      expect(readout.warnings.join("\n")).toMatch(/assistant\. vs helpful-again is a degenerate pair: nothing passes/);
    }
    expect(both.lines.join("\n")).toMatch(
      /assistant\. vs helpful-again: degenerate pair — no latent to test, nothing passes/,
    );
    expect(fs.readFileSync(path.join(both.runDir, "track-b-counts.md"), "utf8")).toContain("| all:user:content | 1 |");
  }, 60_000);

  it("CLI: --dry-run writes nothing; an existing run folder needs --force; all:user:content keeps token-level codes", async () => {
    const runDir = path.join(dir, "run-cli");
    const file = path.join(dir, "cli.json");
    fs.writeFileSync(
      file,
      JSON.stringify(
        tinyConfig(dir, {
          runDir,
          position: "all:user:content",
          trackA: undefined,
          behaviour: undefined,
          layers: [0],
          saes: { "0": path.join(dir, "sae0") },
        }),
      ),
    );
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    expect(await main(["sae-conditions", "--config", file, "--dry-run"], log)).toBe(0);
    expect(lines.join("\n")).toMatch(/forward passes: 24 items, \d+ tokens/);
    expect(fs.existsSync(runDir)).toBe(false);
    fs.mkdirSync(runDir);
    fs.writeFileSync(path.join(runDir, "keep.txt"), "x");
    lines.length = 0;
    expect(await main(["sae-conditions", "--config", file], log)).toBe(2);
    expect(lines.join("\n")).toMatch(/OUTPUT_EXISTS/);
    expect(await main(["sae-conditions", "--config", file, "--force", "--seed", "4"], log)).toBe(0);
    expect(fs.existsSync(path.join(runDir, "keep.txt"))).toBe(false);
    expect(lines.join("\n")).toContain(`outputs: ${runDir}`);
    const results = JSON.parse(fs.readFileSync(path.join(runDir, "results.json"), "utf8"));
    expect(results.seed).toBe(4);
    expect(results.unit).toContain("exchangeable unit");
    const saved = await readSafetensors(path.join(runDir, "activations/layer_0.safetensors"));
    const t = saved.tensors;
    const rowStart = t.token_row_start!.data as Int32Array;
    expect(rowStart.length).toBe(4 * PROMPTS.length + 1);
    const indptr = t.token_indptr!.data as Int32Array;
    expect(indptr.length).toBe(rowStart[rowStart.length - 1]! + 1);
    // Item 0's per-prompt vector is the mean of its tokens' codes.
    const acts = t.acts!.data as Float32Array;
    const dense = new Float64Array(D_SAE);
    const n = rowStart[1]! - rowStart[0]!;
    for (let r = rowStart[0]!; r < rowStart[1]!; r++)
      for (let q = indptr[r]!; q < indptr[r + 1]!; q++)
        dense[(t.token_indices!.data as Int32Array)[q]!]! += (t.token_values!.data as Float32Array)[q]! / n;
    for (let j = 0; j < D_SAE; j++) expect(acts[j]).toBeCloseTo(dense[j]!, 5);
  }, 60_000);
});
