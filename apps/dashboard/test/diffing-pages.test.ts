import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { STAGES } from "../src/api/diffing-types.ts";
import { diffingRun, log10Histogram } from "../src/runs/diffing-run.ts";
import { diffingScatter } from "../src/runs/diffing-scatter.ts";
import type { DiscoveredRun } from "../src/runs/discovered-run.ts";
import { featurePage } from "../src/runs/feature-page.ts";
import { diffingFixtureRun, FIXTURE_D_SAE } from "./fixture/diffing-run.ts";

function runAt(dir: string): DiscoveredRun {
  const runJson = JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8")) as Record<string, unknown>;
  return { id: ".", dir, kind: "diffing", runJson, errors: [] };
}

describe("diffing run pages on the fixture run", () => {
  let run: DiscoveredRun;
  beforeAll(async () => {
    run = runAt(await diffingFixtureRun());
  });

  test("run page: five stages, the ranking, a density histogram per stage, the figures, no errors", async () => {
    const page = await diffingRun(run);
    expect(page.errors).toEqual([]);
    expect(page.name).toBe("dashboard-fixture");
    expect(page.dSae).toBe(FIXTURE_D_SAE);
    expect(page.stages.map((s) => [s.stage, s.status])).toEqual(STAGES.map((s) => [s, "done"]));
    expect(page.top).toHaveLength(5);
    expect(page.densityHistograms.map((h) => h.stage)).toEqual([...STAGES]);
    for (const h of page.densityHistograms) {
      expect(h.counts.reduce((a, b) => a + b, 0) + h.dead).toBe(FIXTURE_D_SAE);
      expect(h.edgesLog10).toHaveLength(h.counts.length + 1);
      expect(h.edgesLog10.at(-1)).toBeCloseTo(0, 9);
    }
    expect(page.figures.map((f) => f.file)).toContain("compare/two-stage-decoder.json");
    expect(page.figures.every((f) => f.png?.endsWith(".png"))).toBe(true);
  });

  test("scatter: one point per latent, ranks 1..dSae, every latent has contexts (features --latents all)", async () => {
    for (const space of ["decoder", "encoder"] as const) {
      const s = await diffingScatter(run, space);
      expect(s.errors).toEqual([]);
      expect(s.points).toHaveLength(FIXTURE_D_SAE);
      expect(new Set(s.points.map((p) => p.latent)).size).toBe(FIXTURE_D_SAE);
      expect(s.points.map((p) => p.rank)).toEqual(Array.from({ length: FIXTURE_D_SAE }, (_, i) => i + 1));
      expect(s.points.every((p) => p.hasContexts)).toBe(true);
    }
  });

  test("log10 histogram: bins from 1/tokens to 1, dead latents apart", () => {
    const h = log10Histogram(Int32Array.from([0, 1, 10, 100, 1000]), 1000);
    expect(h.dead).toBe(1);
    expect(h.edgesLog10[0]).toBe(-3);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(4);
    expect(h.counts.at(-1)).toBe(1); // frequency 1 lands in the last bin
  });
});

describe("a damaged run folder: error panels naming the file, the rest still served", () => {
  let dir: string;
  beforeAll(async () => {
    const fixture = await diffingFixtureRun();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dash-damaged-"));
    for (const sub of ["compare", "features"])
      fs.cpSync(path.join(fixture, sub), path.join(dir, sub), { recursive: true });
    fs.copyFileSync(path.join(fixture, "run.json"), path.join(dir, "run.json"));
    for (const s of ["S", "D", "M", "MF"]) {
      fs.mkdirSync(path.join(dir, "stages", s), { recursive: true });
      fs.copyFileSync(path.join(fixture, "stages", s, "stage.json"), path.join(dir, "stages", s, "stage.json"));
    }
    const features = path.join(dir, "features", "features.json");
    fs.writeFileSync(features, fs.readFileSync(features, "utf8").slice(0, 500)); // truncated
    const stats = path.join(dir, "features", "latent-stats-MF.safetensors");
    fs.writeFileSync(stats, fs.readFileSync(stats).subarray(0, 300)); // truncated
    fs.rmSync(path.join(dir, "features", "logit-tokens.json"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("run page names the missing stage and the truncated stats file", async () => {
    const page = await diffingRun(runAt(dir));
    const files = page.errors.map((e) => e.file);
    expect(files).toContain("stages/DF/stage.json");
    expect(files).toContain("features/latent-stats-MF.safetensors");
    expect(page.stages.find((s) => s.stage === "DF")?.status).toBe("missing");
    expect(page.densityHistograms.map((h) => h.stage)).toEqual(["S", "D", "M"]);
    expect(page.top).toHaveLength(5);
  });

  test("scatter keeps its points; the truncated features.json is named with line and column", async () => {
    const s = await diffingScatter(runAt(dir), "decoder");
    expect(s.points).toHaveLength(FIXTURE_D_SAE);
    expect(s.points.some((p) => p.hasContexts)).toBe(false);
    expect(s.errors).toHaveLength(1);
    expect(s.errors[0]!.file).toBe("features/features.json");
    expect(s.errors[0]!.message).toMatch(/features\/features\.json:\d+:\d+: not valid JSON/);
  });

  test("feature page: cosines still there; contexts, MF stats and token strings each have a panel", async () => {
    const page = await featurePage(runAt(dir), "MF", 3);
    expect(Object.keys(page.cosines.decoder)).toEqual(["S→D", "S→M", "D→DF", "M→MF"]);
    expect(page.contexts.base).toBeNull();
    expect(page.logits).toBeNull();
    expect(page.density).toBeNull();
    const files = page.errors.map((e) => e.file);
    expect(files).toEqual(expect.arrayContaining(["features/features.json", "features/latent-stats-MF.safetensors"]));
    const d = await featurePage(runAt(dir), "D", 3);
    expect(d.logits?.positive[0]?.token).toMatch(/^#\d+$/); // ids without logit-tokens.json
    expect(d.errors.map((e) => e.file)).toContain("features/logit-tokens.json");
    expect(d.otherStages).toEqual(["S", "M", "MF"]);
  });
});
