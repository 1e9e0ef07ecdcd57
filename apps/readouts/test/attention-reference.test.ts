/**
 * The app against the independent numpy reference (tools/reference/readouts/attention_marker_reference.py, f64):
 * the key groups and strata the fixture maker saved, the per-layer per-head attention fractions, the marker − C1
 * system deltas (mean over heads) and gates A–D (computed by stage 3's `analyzeAttentionMarker`), on the fixture's tiny planted Qwen2 (gates pass at layer 2 only).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { analyzeAttentionMarker } from "../src/attention-marker/analyze.ts";
import { type AttentionReadout, readAttention } from "../src/attention-marker/attention-readout.ts";
import { personaPrompt } from "../src/attention-marker/persona-prompt.ts";
import { fractionIndex, REGION_GROUPS, STRATA } from "../src/attention-marker/records.ts";
import { keyGroups } from "../src/attention-marker/region-groups.ts";
import { chooseStrata } from "../src/attention-marker/strata.ts";
import { tokenFrequencies } from "../src/attention-marker/token-frequency.ts";
import { type AttentionFixture, fixtureItems, loadAttentionFixture } from "./attention-fixture.ts";

let fx: AttentionFixture;
let readouts: AttentionReadout[];
const TOLERANCE = 1e-5;

beforeAll(async () => {
  fx = await loadAttentionFixture();
  const items = await fixtureItems(fx);
  readouts = await readAttention(fx.model, items, {
    layers: fx.input.layers,
    batchSize: 3,
    partitionTolerance: 0.005,
    label: null,
  });
});

describe("attention-marker stage 2 vs the numpy reference", () => {
  it("derives the key groups and strata the reference was given", async () => {
    const frequencies = tokenFrequencies(fx.generations);
    for (const [e, g] of fx.generations.entries()) {
      const chat = await personaPrompt(fx.tokenizer, fx.template, fx.input.systemPrompt, g.question, fx.input.specials);
      const groups = keyGroups(chat, g);
      const saved = fx.input.examples[e]!;
      expect(Array.from(groups.A)).toEqual(saved.groupsA);
      expect(Array.from(groups.B)).toEqual(saved.groupsB);
      expect(chooseStrata(g, frequencies, 0, fx.input.markerId)).toEqual(saved.positions);
    }
  });

  it("matches every fraction (layer × head × group, each stratum, both segmentations) to 1e-5", () => {
    const H = fx.model.config.nHeads;
    let worst = 0;
    let compared = 0;
    fx.reference.examples.forEach((ref, e) => {
      const app = readouts[e]!;
      expect(app.trial).toBe(ref.trial);
      for (const stratum of STRATA) {
        const expected = ref.fractions[stratum];
        if (expected === undefined) {
          expect(app.positions[stratum]).toBeNull();
          expect(Number.isNaN(app.fractions[stratum].A[0])).toBe(true);
          continue;
        }
        for (const seg of ["A", "B"] as const) {
          expected[seg].forEach((heads, li) =>
            heads.forEach((groups, h) =>
              groups.forEach((value, g) => {
                worst = Math.max(worst, Math.abs(app.fractions[stratum][seg][fractionIndex(li, h, g, H)]! - value));
                compared++;
              }),
            ),
          );
        }
      }
    });
    expect(compared).toBe(3120);
    expect(worst).toBeLessThan(TOLERANCE);
    expect(Math.max(...readouts.map((r) => r.partitionError))).toBeLessThan(1e-5);
  });

  it("matches the marker − C1 system deltas (mean over heads) and, through stage 3's analysis, gates A–D", () => {
    const H = fx.model.config.nHeads;
    const L = fx.input.layers.length;
    for (const seg of ["A", "B"] as const) {
      const expected = seg === "A" ? fx.reference.deltaSystemA : fx.reference.deltaSystemB;
      const deltas = systemDeltas(readouts, seg, H, L);
      expect(deltas.length).toBe(fx.reference.E);
      deltas.forEach((row, e) => row.forEach((d, l) => expect(Math.abs(d - expected[e]![l]!)).toBeLessThan(TOLERANCE)));
    }
    const analysis = analyzeAttentionMarker(
      [
        {
          persona: "librarian",
          runSeed: 42,
          layers: fx.input.layers,
          positives: readouts.filter((r) => r.positions.marker !== null),
          negatives: readouts.filter((r) => r.positions.marker === null),
          comparator: null,
        },
      ],
      { directionThreshold: fx.input.directionThreshold, alpha: 0.05 },
    );
    const trained = analysis.personas[0]!.perSeed[0]!.trained;
    const ref = fx.reference.gatesA;
    const c1 = trained.contrasts.c1.profiles!;
    expect(trained.contrasts.c1.n).toBe(fx.reference.E);
    c1.A.system.mean.forEach((m, l) => expect(Math.abs(m - ref.mean[l]![0]!)).toBeLessThan(TOLERANCE));
    c1.A.system.sem.forEach((sem, l) => expect(Math.abs(sem! - ref.semSystem[l]!)).toBeLessThan(TOLERANCE));
    expect(c1.A.system.positive).toEqual(ref.positiveSystem);
    const pass = trained.gates.pass;
    expect([pass.A, pass.B, pass.C, pass.D]).toEqual([ref.A, ref.B, ref.C, fx.reference.gateD]);
    expect(fx.reference.gateD).toEqual([false, false, true]); // the plant: head 0 of layer 2 reads the system prompt
  });
});

/** Per positive with marker and C1, per layer: mean over heads of (marker − C1) system fraction. → [E][layers] */
function systemDeltas(readouts: readonly AttentionReadout[], seg: "A" | "B", H: number, L: number): number[][] {
  const system = REGION_GROUPS.indexOf("system");
  return readouts
    .filter((r) => r.positions.marker !== null && r.positions.c1 !== null)
    .map((r) =>
      Array.from({ length: L }, (_, l) => {
        let sum = 0;
        for (let h = 0; h < H; h++) {
          const i = fractionIndex(l, h, system, H);
          sum += r.fractions.marker[seg][i]! - r.fractions.c1[seg][i]!;
        }
        return sum / H;
      }),
    );
}
