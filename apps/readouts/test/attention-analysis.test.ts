import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { binomialTest } from "@difflens/stats";
import { describe, expect, it } from "vitest";
import type { GatesConfig } from "../src/attention-marker/analysis-types.ts";
import { analyzeAttentionMarker } from "../src/attention-marker/analyze.ts";
import { writeAttentionMarkerFigures } from "../src/attention-marker/figures.ts";
import { directionRequired } from "../src/attention-marker/gates.ts";
import { layerSignBalance } from "../src/attention-marker/sign-balance.ts";
import { headMeans } from "../src/attention-marker/strata-contrasts.ts";
import { layerWindows, windowsText } from "../src/attention-marker/windows.ts";
import { entry, readout, systemDeltaPositives } from "./attention-analysis-fixture.ts";

const GATES: GatesConfig = { directionThreshold: 0.7, alpha: 0.05 };
const trainedOf = (input: Parameters<typeof analyzeAttentionMarker>[0]) =>
  analyzeAttentionMarker(input, GATES).personas[0]!.pooled.trained;

describe("attention-marker stage 3: formulas on hand-built readouts", () => {
  it("averages heads and drops strata whose position is null", () => {
    const r = readout({
      layers: 2,
      heads: 3,
      strata: { marker: { A: { system: [0.2, 0.4] }, B: { specials: 0.1 }, headOffset: [-0.1, 0, 0.1] } },
    });
    const m = headMeans(r, 2);
    expect(m.marker!.A[0 * 5 + 0]).toBeCloseTo(0.2, 6);
    expect(m.marker!.A[1 * 5 + 0]).toBeCloseTo(0.4, 6);
    expect(m.marker!.B[1 * 5 + 4]).toBeCloseTo(0.1, 6);
    expect(m.c1).toBeNull();
  });

  it("gate A needs exactly ⌈threshold · E⌉ positive examples (7 of 10 at 0.7)", () => {
    expect(directionRequired(0.7, 10)).toBe(7); // 0.7 · 10 = 7.000000000000001 in doubles
    expect(directionRequired(0.7, 3)).toBe(3);
    expect(directionRequired(0.5, 4)).toBe(2);
    // Layer 0: 7 of 10 positive; layer 1: 6 of 10.
    const deltas = Array.from({ length: 10 }, (_, i) => [i < 7 ? 1 : -1, i < 6 ? 1 : -1]);
    const t = trainedOf([entry(systemDeltaPositives(deltas))]);
    expect(t.gates.directionRequired).toBe(7);
    expect(t.contrasts.c1.profiles!.A.system.positive).toEqual([7, 6]);
    expect(t.gates.pass.A).toEqual([true, false]);
    // Gate B: layer 0 mean 0.4, SEM √(8.4/9/10) = 0.3055; layer 1 mean 0.2, SEM √(9.6/9/10) = 0.3266.
    expect(t.contrasts.c1.profiles!.A.system.mean[0]).toBeCloseTo(0.4, 6);
    expect(t.contrasts.c1.profiles!.A.system.sem[0]).toBeCloseTo(Math.sqrt(8.4 / 9 / 10), 6);
    expect(t.contrasts.c1.profiles!.A.system.sem[1]).toBeCloseTo(Math.sqrt(9.6 / 9 / 10), 6);
    expect(t.gates.pass.B).toEqual([true, false]);
  });

  it("gate B uses SD with ddof 1: mean − SEM = 0 fails, just above passes", () => {
    // δ = [0, 0, 3]: mean 1, SD (ddof 1) √3, SEM 1 → mean − SEM = 0 (with ddof 0 the SEM would be 0.816: pass).
    // Layer 1: δ = [0.01, 0, 3]: mean 1.00333, SEM 0.99834 → passes.
    const t = trainedOf([
      entry(
        systemDeltaPositives([
          [0, 0.01],
          [0, 0],
          [3, 3],
        ]),
      ),
    ]);
    expect(t.contrasts.c1.profiles!.A.system.sem[0]).toBeCloseTo(1, 6);
    expect(t.gates.pass.B).toEqual([false, true]);
    expect(t.gates.directionRequired).toBe(3);
    expect(t.gates.pass.A).toEqual([false, false]);
  });

  it("gate C compares system with user and assistant prefix; gate D reruns A–C on segmentation B", () => {
    const positives = [0.3, 0.4, 0.5].map((s, trial) =>
      readout({
        layers: 3,
        trial,
        strata: {
          marker: {
            A: { system: s, user: [0.1, 0.6, 0.1], assistantPrefix: [0.1, 0.1, 0.1] },
            B: { system: [s, s, -s], user: 0.1, assistantPrefix: 0.1 },
          },
          c1: { A: {} },
        },
      }),
    );
    const t = trainedOf([entry(positives)]);
    expect(t.gates.pass.C).toEqual([true, false, true]);
    expect(t.gates.pass.D).toEqual([true, true, false]);
    expect(t.gates.counts).toMatchObject({ A: 3, B: 3, C: 2, D: 2 });
    expect(t.gates.windows).toEqual([[0, 0]]);
    expect(t.gates.summary).toBe("A 3/3 · B 3/3 · C 2/3 · D 2/3 · C2 n/a · C3 n/a · C4 n/a · window [0, 0]");
  });

  it("windows: contiguous runs where A–D all pass, gaps in the layers break runs", () => {
    expect(
      windowsText(layerWindows([true, true, false, true, true, true, false, true], [0, 1, 2, 3, 4, 5, 6, 7])),
    ).toBe("[0, 1] ∪ [3, 5] ∪ [7, 7]");
    expect(layerWindows([true, true, true, true], [2, 3, 5, 6])).toEqual([
      [2, 3],
      [5, 6],
    ]);
    expect(windowsText([])).toBe("∅");
    const sign = [1, 1, -1, 1, 1, 1, -1, 1];
    const deltas = [1, 2, 3].map((k) => sign.map((s) => s * k));
    const t = trainedOf([entry(systemDeltaPositives(deltas), { layers: [8, 9, 10, 11, 12, 13, 14, 15] })]);
    expect(t.gates.windows).toEqual([
      [8, 9],
      [11, 13],
      [15, 15],
    ]);
    expect(t.gates.windowsText).toBe("[8, 9] ∪ [11, 13] ∪ [15, 15]");
    expect(t.gates.gateWindows.A).toBe("[8, 9] ∪ [11, 13] ∪ [15, 15]");
  });

  it("sign balance drops |value| ≤ 1e-9 and counts them; every profile carries one", () => {
    expect(layerSignBalance([1, 1, 1, 1, 1, 0, 1e-10, -1e-10])).toEqual({
      positive: 5,
      negative: 0,
      zeros: 3,
      pValue: binomialTest(5, 5).pValue,
    });
    expect(layerSignBalance([0.2, -0.1, 0.3]).pValue).toBeCloseTo(1, 12);
    expect(layerSignBalance([0, 0])).toEqual({ positive: 0, negative: 0, zeros: 2, pValue: null });
    const t = trainedOf([
      entry(
        systemDeltaPositives([
          [1, 0, -1, 2],
          [1, 0, -1, 2],
        ]),
      ),
    ]);
    expect(t.contrasts.c1.profiles!.A.system.signBalance).toMatchObject({ positive: 2, negative: 1, zeros: 1 });
  });

  it("C2 and C3: SEM-bar separation on marker − control; C4 pairs each positive with its question's negatives", () => {
    const marker = { A: { system: 0.5 } };
    const positives = [0, 1, 2].map((q) =>
      readout({
        layers: 2,
        trial: q,
        questionIndex: q,
        strata: {
          marker,
          c1: { A: {} },
          c2: { A: { system: [0.4 - 0.05 * q, 0.5 + 0.1 * q] } },
          ...(q === 2 ? {} : { c3: { A: { system: 0.1 * q } } }),
        },
      }),
    );
    const negative = (trial: number, questionIndex: number, system: number) =>
      readout({ layers: 2, trial, questionIndex, strata: { c4: { A: { system } } } });
    // q0: two negatives (mean 0.3), q1: one (0.45), q2: none; a negative of seed 1 for q2 must not pair.
    const negatives = [negative(10, 0, 0.2), negative(11, 0, 0.4), negative(12, 1, 0.45)];
    const seed1Negative = readout({ layers: 2, runSeed: 1, trial: 13, questionIndex: 2, strata: { c4: { A: {} } } });
    const t = trainedOf([entry(positives, { negatives: [...negatives, seed1Negative] })]);
    // marker − C2: layer 0 = [0.1, 0.15, 0.2] (passes), layer 1 = [0, −0.1, −0.2] (fails).
    expect(t.contrasts.c2.profiles!.A.system.mean[0]).toBeCloseTo(0.15, 6);
    expect(t.gates.pass.C2).toEqual([true, false]);
    // marker − C3 on two examples: [0.5, 0.4]: mean 0.45, SEM 0.05.
    expect(t.contrasts.c3).toMatchObject({ n: 2, missing: 1 });
    expect(t.contrasts.c3.profiles!.A.system.sem[0]).toBeCloseTo(0.05, 6);
    expect(t.gates.pass.C3).toEqual([true, true]);
    // marker − C4: [0.5 − 0.3, 0.5 − 0.45] = [0.2, 0.05]: mean 0.125, SEM 0.075.
    expect(t.contrasts.c4).toMatchObject({ n: 2, missing: 1 });
    expect(t.contrasts.c4.profiles!.A.system.mean[1]).toBeCloseTo(0.125, 6);
    expect(t.contrasts.c4.profiles!.A.system.sem[1]).toBeCloseTo(0.075, 6);
    expect(t.gates.pass.C4).toEqual([true, true]);
  });

  it("specials absorption: seg A − seg B per region, the specials delta and the marker's mass on specials", () => {
    const positives = [0, 1].map((trial) =>
      readout({
        layers: 2,
        trial,
        strata: {
          marker: { A: { system: [0.3, 0.1] }, B: { system: [0.1, 0.1], specials: [0.6, 0.2] } },
          c1: { A: {}, B: { specials: 0.1 } },
        },
      }),
    );
    const s = trainedOf([entry(positives)]).specialsAbsorption!;
    expect(s.gapAMinusB.system.max).toEqual({ layer: 0, value: expect.closeTo(0.2, 6) });
    expect(s.gapAMinusB.system.mean).toBeCloseTo(0.1, 6);
    expect(s.specialsDelta.max).toEqual({ layer: 0, value: expect.closeTo(0.5, 6) });
    expect(s.specialsDelta.mean).toBeCloseTo(0.3, 6);
    expect(s.markerOnSpecials.mean).toBeCloseTo(0.4, 6);
  });

  it("gate F: positives' t* trajectory vs negatives' end of answer; sink reframe when seg B moves the effect to specials", () => {
    const positives = [0.5, 0.6, 0.7].map((s, trial) =>
      readout({ layers: 3, trial, strata: { marker: { A: { system: [s, s - 0.4, s - 0.4] } }, c1: { A: {} } } }),
    );
    const negatives = [0.1, 0.2, 0.3].map((s, trial) =>
      readout({ layers: 3, trial: 10 + trial, strata: { c4: { A: { system: s } } } }),
    );
    const f = trainedOf([entry(positives, { negatives })]).gateF;
    expect(f).toMatchObject({ applicable: true, pass: [true, false, false], windowLayers: 3, windowPass: 1 });
    expect(f.reframeRequired).toBe(true);
    const sunk = [1, 2, 3].map((k, trial) =>
      readout({
        layers: 2,
        trial,
        strata: {
          marker: { A: { system: 0.1 * k }, B: { system: [-0.01 * k, 0.1 * k], specials: [0.1 * k, 0] } },
          c1: { A: {} },
        },
      }),
    );
    expect(trainedOf([entry(sunk)]).sinkReframe).toEqual({ layersABC: 2, absorbed: 1, required: false });
    expect(trainedOf([entry(sunk)]).gateF).toEqual({
      applicable: false,
      reason: "missing positive or negative trajectories",
    });
  });

  it("force-feed diff-of-diffs: known per-layer values, paired SEM, margins, peaks and per-head", () => {
    const make = (model: "trained" | "comparator", rows: number[][], headOffset?: number[]) =>
      rows.map((d, trial) =>
        readout({ layers: 3, model, trial, strata: { marker: { A: { system: d }, headOffset }, c1: { A: {} } } }),
      );
    const trained = make("trained", [
      [0.1, 0.02, 0],
      [0.3, 0.04, 0],
    ]);
    const comparator = make(
      "comparator",
      [
        [0, 0.03, 0],
        [0, 0.05, 0],
      ],
      [-0.01, 0.01],
    );
    const a = analyzeAttentionMarker([entry(trained, { layers: [4, 5, 6], comparator })], GATES);
    const ff = a.personas[0]!.pooled.forceFeed!;
    const dd = ff.diffOfDiffs.B;
    expect(ff).toMatchObject({ paired: 2, unpaired: 0, peakShift: 1 });
    expect(dd.perLayer.mean.map((v) => +v.toFixed(6))).toEqual([0.2, -0.01, 0]);
    expect(dd.perLayer.sem[0]).toBeCloseTo(0.1, 6);
    expect(dd.perLayer.semExcludesZero).toEqual([true, true, false]);
    expect(dd.mean).toBeCloseTo(0.19 / 3, 6);
    expect(dd.max).toEqual({ layer: 4, value: expect.closeTo(0.2, 6) });
    expect(dd.min).toEqual({ layer: 5, value: expect.closeTo(-0.01, 6) });
    expect(dd).toMatchObject({ layersPositive: 1, comparatorAboveTrained: 1, trainedAboveComparator: 1 });
    expect(dd.signBalance).toMatchObject({ positive: 1, negative: 1, zeros: 1 });
    expect(ff.trainedPeak).toEqual({ layer: 4, value: expect.closeTo(0.2, 6) });
    expect(ff.comparatorPeak).toEqual({ layer: 5, value: expect.closeTo(0.04, 6) });
    // The comparator's head offsets cancel in the head mean but not per head.
    expect(dd.perHead[0]![0]).toBeCloseTo(0.21, 5);
    expect(dd.perHead[0]![1]).toBeCloseTo(0.19, 5);
    expect(dd.perHead[1]![1]).toBeCloseTo(-0.02, 5);
    expect(ff.summary).toMatch(/mean \+0\.0633, max \+0\.2000 \(L4\), min −0\.0100 \(L5\); 1\/3 layers > 0/);
    expect(ff.summary).toMatch(/peaks: trained L4 \(\+0\.2000\), comparator L5 \(\+0\.0400\)/);
    expect(a.personas[0]!.pooled.comparator!.gates.pass.C4).toBeNull();
    expect(a.personas[0]!.pooled.comparator!.gateF.applicable).toBe(false);
  });

  it("identical trained and comparator readouts: dd is zero everywhere, the sign balance has nothing to test", () => {
    const trained = systemDeltaPositives([
      [0.1, 0.2],
      [0.3, 0.1],
    ]);
    const comparator = trained.map((r) => ({ ...r, model: "comparator" as const }));
    const ff = analyzeAttentionMarker([entry(trained, { comparator })], GATES).personas[0]!.pooled.forceFeed!;
    expect(ff.diffOfDiffs.B).toMatchObject({
      mean: 0,
      layersPositive: 0,
      signBalance: { positive: 0, negative: 0, zeros: 2, pValue: null },
      signBalanceSignificant: false,
    });
    expect(ff.summary).toMatch(/sign balance: every layer zero/);
  });

  it("positives without a C1 position: gates A–D not applicable, said why", () => {
    const t = trainedOf([entry([readout({ layers: 2, strata: { marker: { A: { system: 0.3 } } } })])]);
    expect(t.contrasts.c1).toMatchObject({ n: 0, missing: 1, profiles: null });
    expect(t.gates.counts).toMatchObject({ A: null, D: null, C2: null });
    expect(t.gates.notApplicable.A).toMatch(/C1 position/);
    expect(t.gates.windowsText).toBe("∅");
    expect(t.peakSystemB).toBeNull();
    expect(t.specialsAbsorption).toBeNull();
  });

  it("refuses persona × seeds with different layers or readouts of different shapes, naming them", () => {
    const a = entry(systemDeltaPositives([[0.1, 0.2]]));
    expect(() => analyzeAttentionMarker([a, { ...a, runSeed: 1, layers: [0, 2] }], GATES)).toThrow(
      /persona p seed 1\.layers/,
    );
    const wide = readout({ layers: 2, heads: 3, trial: 5, strata: { marker: { A: {} }, c1: { A: {} } } });
    expect(() => analyzeAttentionMarker([{ ...a, positives: [...a.positives, wide] }], GATES)).toThrow(/trial 5/);
  });

  it("per seed and pooled; a persona × seed without positives is skipped with its reason; JSON-able", () => {
    const seed = (runSeed: number, deltas: number[][]) =>
      entry(
        systemDeltaPositives(deltas).map((r) => ({ ...r, runSeed })),
        { runSeed },
      );
    const a = analyzeAttentionMarker(
      [
        seed(1, [[0.2], [0.4], [0.1]]),
        seed(0, [[0.1], [0.3]]),
        { persona: "q", runSeed: 0, layers: [0], positives: [], negatives: [], comparator: null },
      ],
      GATES,
    );
    expect(a.skipped).toEqual([{ persona: "q", runSeed: 0, reason: expect.stringMatching(/no positives/) }]);
    const p = a.personas[0]!;
    expect(p.perSeed.map((s) => [s.runSeeds, s.positives])).toEqual([
      [[0], 2],
      [[1], 3],
    ]);
    expect(p.pooled.runSeeds).toEqual([0, 1]);
    expect(p.pooled.trained.contrasts.c1.profiles!.B.system.mean[0]).toBeCloseTo(0.22, 6);
    expect(p.pooled.trained.peakSystemB).toEqual({ layer: 0, value: expect.closeTo(0.22, 6) });
    expect(a.headline.map((r) => [r.persona, r.model, r.runSeed, r.n])).toEqual([
      ["p", "trained", "pooled", 5],
      ["p", "trained", 0, 2],
      ["p", "trained", 1, 3],
    ]);
    expect(a.headline[0]).toMatchObject({ gates: { A: 1, C4: null }, window: "[0, 0]", gateFReframeRequired: null });
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });
});

describe("attention-marker figures", () => {
  it("writes the layer profile, diff-of-diffs, per-head, segmentation and gate figures with their data", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "am-figures-"));
    try {
      const rows = (shift: number) => [1, 2, 3].map((k) => [0, 1, 2, 3].map((l) => 0.01 * k * (l + 1) + shift));
      const trained = systemDeltaPositives(rows(0), { specials: 0.05 });
      const comparator = systemDeltaPositives(rows(-0.005)).map((r) => ({ ...r, model: "comparator" as const }));
      const analysis = analyzeAttentionMarker([entry(trained, { comparator, persona: "librarian" })], GATES);
      // SVG only here (the specs are validated and rendered); PNG and PDF come from the same SVG in @difflens/plot.
      const written = await writeAttentionMarkerFigures(dir, analysis, { formats: ["svg"] });
      expect(written.map((w) => path.basename(w))).toEqual([
        "layer-profile-librarian",
        "diff-of-diffs-librarian",
        "dd-per-head-librarian",
        "segmentations-librarian",
        "gates",
      ]);
      for (const base of written)
        for (const ext of ["svg", "json", "csv"]) expect(fs.existsSync(`${base}.${ext}`)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
