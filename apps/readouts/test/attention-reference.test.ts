/**
 * The app against the independent numpy reference (tools/reference/readouts/attention_marker_reference.py, f64):
 * the key groups and strata the fixture maker saved, the per-layer per-head attention fractions, the marker − C1
 * system deltas (mean over heads) and gates A–D, on the fixture's tiny planted Qwen2 (gates pass at layer 2 only).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type AttentionReadout, readAttention } from "../src/attention-marker/attention-readout.ts";
import { personaPrompt } from "../src/attention-marker/persona-prompt.ts";
import { fractionIndex, REGION_GROUPS, STRATA } from "../src/attention-marker/records.ts";
import { keyGroups } from "../src/attention-marker/region-groups.ts";
import { chooseStrata } from "../src/attention-marker/strata.ts";
import { tokenFrequencies } from "../src/attention-marker/token-frequency.ts";
import { type AttentionFixture, loadAttentionFixture } from "./attention-fixture.ts";

let fx: AttentionFixture;
let readouts: AttentionReadout[];
const TOLERANCE = 1e-5;

beforeAll(async () => {
  fx = await loadAttentionFixture();
  const frequencies = tokenFrequencies(fx.generations);
  const items = await Promise.all(
    fx.generations.map(async (generation) => ({
      generation,
      chat: await personaPrompt(
        fx.tokenizer,
        fx.template,
        fx.input.systemPrompt,
        generation.question,
        fx.input.specials,
      ),
      positions: chooseStrata(generation, frequencies, 0, fx.input.markerId),
      model: "trained" as const,
    })),
  );
  readouts = readAttention(fx.model, items, {
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

  it("matches the marker − C1 system deltas (mean over heads) and gates A–D", () => {
    for (const seg of ["A", "B"] as const) {
      const deltas = systemDeltas(readouts, seg, fx.model.config.nHeads, fx.input.layers.length);
      const expected = seg === "A" ? fx.reference.deltaSystemA : fx.reference.deltaSystemB;
      expect(deltas.length).toBe(fx.reference.E);
      deltas.forEach((row, e) => row.forEach((d, l) => expect(Math.abs(d - expected[e]![l]!)).toBeLessThan(TOLERANCE)));
      const gates = referenceGates(readouts, seg, fx.model.config.nHeads, fx.input.layers.length, 0.7);
      const ref = seg === "A" ? fx.reference.gatesA : fx.reference.gatesB;
      expect(gates.A).toEqual(ref.A);
      expect(gates.B).toEqual(ref.B);
      expect(gates.C).toEqual(ref.C);
      expect(gates.positiveSystem).toEqual(ref.positiveSystem);
    }
    const b = referenceGates(readouts, "B", fx.model.config.nHeads, fx.input.layers.length, 0.7);
    expect(b.A.map((a, l) => a && b.B[l] && b.C[l])).toEqual(fx.reference.gateD);
    expect(fx.reference.gateD).toEqual([false, false, true]); // the plant: head 0 of layer 2 reads the system prompt
  });
});

const group = (name: (typeof REGION_GROUPS)[number]) => REGION_GROUPS.indexOf(name);

/** Per positive with marker and C1, per layer: mean over heads of (marker − C1) fraction on `g`. → [E][layers] */
function deltas(readouts: readonly AttentionReadout[], seg: "A" | "B", H: number, L: number, g: number): number[][] {
  return readouts
    .filter((r) => r.positions.marker !== null && r.positions.c1 !== null)
    .map((r) =>
      Array.from({ length: L }, (_, l) => {
        let sum = 0;
        for (let h = 0; h < H; h++) {
          const i = fractionIndex(l, h, g, H);
          sum += r.fractions.marker[seg][i]! - r.fractions.c1[seg][i]!;
        }
        return sum / H;
      }),
    );
}

function systemDeltas(readouts: readonly AttentionReadout[], seg: "A" | "B", H: number, L: number): number[][] {
  return deltas(readouts, seg, H, L, group("system"));
}

/** Gates A–C from issue 18's formulas (stage 3 owns the app's version; this checks the reference's). */
function referenceGates(
  readouts: readonly AttentionReadout[],
  seg: "A" | "B",
  H: number,
  L: number,
  threshold: number,
) {
  const [system, user, prefix] = ["system", "user", "assistantPrefix"].map((name) =>
    deltas(readouts, seg, H, L, group(name as "system")),
  ) as [number[][], number[][], number[][]];
  const E = system.length;
  const mean = (rows: number[][], l: number) => rows.reduce((s, r) => s + r[l]!, 0) / E;
  const layers = Array.from({ length: L }, (_, l) => l);
  const positiveSystem = layers.map((l) => system.filter((r) => r[l]! > 0).length);
  const sem = layers.map((l) => {
    const m = mean(system, l);
    return Math.sqrt(system.reduce((s, r) => s + (r[l]! - m) ** 2, 0) / (E - 1) / E);
  });
  return {
    positiveSystem,
    A: layers.map((l) => positiveSystem[l]! >= Math.ceil(threshold * E)),
    B: layers.map((l) => mean(system, l) - sem[l]! > 0),
    C: layers.map((l) => mean(system, l) > mean(user, l) && mean(system, l) > mean(prefix, l)),
  };
}
