import * as fs from "node:fs";
import * as path from "node:path";
import { toFloat32Array } from "@difflens/tensor";
import { loadStageSaes, openPipelineModels } from "diffing";
import { beforeAll, describe, expect, test } from "vitest";
import type { StageName } from "../src/api/diffing-types.ts";
import { DashboardError } from "../src/errors.ts";
import { LatentStatsReader } from "../src/runs/diffing-latent-stats.ts";
import type { DiscoveredRun } from "../src/runs/discovered-run.ts";
import { featureExport } from "../src/runs/feature-export.ts";
import { featurePage } from "../src/runs/feature-page.ts";
import { diffingFixtureConfig, diffingFixtureRun, FIXTURE_D_SAE } from "./fixture/diffing-run.ts";

let run: DiscoveredRun;
beforeAll(async () => {
  const dir = await diffingFixtureRun();
  const runJson = JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8")) as Record<string, unknown>;
  run = { id: ".", dir, kind: "diffing", runJson, errors: [] };
});

describe("featurePage", () => {
  test("MF: contexts base and chat, cosines, chat-model logits, the density histogram, other stages", async () => {
    const page = await featurePage(run, "MF", 7);
    expect(page.errors).toEqual([]);
    expect(page).toMatchObject({ stage: "MF", latent: 7, dSae: FIXTURE_D_SAE, hook: "blocks.1.hook_resid_pre" });
    expect(page.contexts.base?.stage).toBe("D");
    expect(page.contexts.chat?.stage).toBe("MF");
    const ex = page.contexts.chat!.examples[0]!;
    expect(ex.tokens).toHaveLength(ex.values.length);
    expect(ex.values[ex.maxPosition]).toBeCloseTo(ex.maxValue, 3);
    expect(Object.keys(page.cosines.encoder)).toEqual(["S→D", "S→M", "D→DF", "M→MF"]);
    expect(page.logits?.unembedding).toBe("chat");
    const pos = page.logits!.positive.map((l) => l.value);
    expect(pos).toHaveLength(20);
    expect(pos).toEqual([...pos].sort((a, b) => b - a));
    expect(page.logits!.negative[0]!.value).toBeLessThan(page.logits!.negative[19]!.value);
    expect(typeof page.logits!.positive[0]!.token).toBe("string");
    const density = page.density!;
    expect(density.edges).toHaveLength(density.counts.length + 1);
    const fired = density.counts.reduce((a, b) => a + b, 0);
    expect(fired).toBe(Math.round(density.frequency * density.tokens));
    // The base side's stored density (D, from the contexts) is the D stage file's frequency.
    const d = await featurePage(run, "D", 7);
    expect(d.logits?.unembedding).toBe("base");
    expect(d.density!.frequency).toBeCloseTo(page.contexts.base!.density, 9);
    expect(d.density!.edges.at(-1)).toBeCloseTo(page.contexts.base!.maxValue, 4);
    expect(page.otherStages).toEqual(["S", "D", "M", "DF"]);
  });

  test("bad stage → BAD_REQUEST, latent outside the SAE → NOT_FOUND", async () => {
    await expect(featurePage(run, "XX" as StageName, 0)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const err = await featurePage(run, "S", FIXTURE_D_SAE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DashboardError);
    expect((err as DashboardError).code).toBe("NOT_FOUND");
  });
});

test("stored logits match W_dec[i] · W_Uᵀ in float64 (base for S and D, chat for M, DF and MF)", async () => {
  const config = diffingFixtureConfig(run.dir);
  const models = await openPipelineModels(config, () => {});
  try {
    const saes = await loadStageSaes(config, "test");
    for (const [stage, side] of [
      ["D", "base"],
      ["MF", "chat"],
    ] as const) {
      const wU = toFloat32Array(models[side].weights.lmHead); // [vocab, dModel]
      const dModel = saes[stage].dIn;
      const reader = await LatentStatsReader.open(run, stage);
      for (const latent of [0, 13, FIXTURE_D_SAE - 1]) {
        const dec = saes[stage].weights.wDec.subarray(latent * dModel, (latent + 1) * dModel);
        const row = reader.row(latent);
        const float64 = (id: number) => {
          let acc = 0;
          for (let k = 0; k < dModel; k++) acc += dec[k]! * wU[id * dModel + k]!;
          return acc;
        };
        let best = -Infinity;
        for (let id = 0; id < wU.length / dModel; id++) best = Math.max(best, float64(id));
        expect(row.positive[0]!.value).toBeCloseTo(best, 4);
        for (const { id, value } of [...row.positive, ...row.negative]) expect(value).toBeCloseTo(float64(id), 4);
      }
    }
  } finally {
    models.close();
  }
});

test("featureExport: a Neuronpedia (SAEDashboard) batch with one feature", async () => {
  const out = (await featureExport(run, "MF", 7)) as {
    layer: number;
    features: Record<string, unknown>[];
  };
  expect(out.layer).toBe(1);
  const f = out.features[0]!;
  expect(f.feature_index).toBe(7);
  expect(f.pos_str).toHaveLength(20);
  expect(f.pos_values).toHaveLength(20);
  expect(f.neg_str).toHaveLength(20);
  expect((f.freq_hist_data_bar_values as number[]).length).toBe((f.freq_hist_data_bar_heights as number[]).length);
  expect(f.frac_nonzero).toBeGreaterThanOrEqual(0);
  const acts = f.activations as { tokens: string[]; values: number[]; qualifying_token_index: number }[];
  expect(acts.length).toBeGreaterThan(0);
  expect(acts[0]!.tokens).toHaveLength(acts[0]!.values.length);
  expect(JSON.parse(JSON.stringify(out))).toEqual(out);
});
