/**
 * Stage 3 of attention-marker (seed 001): from stage 2's per-head readouts to every number of the seed's tables —
 * per persona, per run seed and pooled over seeds, for the trained model and the force-fed comparator: gates A–D and
 * their windows, the deferred C2/C3/C4 tests, sign balance, specials absorption, gate F, sink reframe, and the
 * force-feed diff-of-diffs. Pure: no files; results.json stores the returned object.
 */
import type {
  AttentionMarkerAnalysis,
  Contrast,
  ContrastAnalysis,
  GatesConfig,
  HeadlineRow,
  ModelAnalysis,
  PersonaAnalysis,
  PersonaSeedAnalysis,
  PersonaSeedReadouts,
} from "./analysis-types.ts";
import { forceFeedAnalysis } from "./diff-of-diffs.ts";
import { gateF, sinkReframe } from "./gate-f.ts";
import { gateTable } from "./gates.ts";
import type { ExampleReadout, ReadoutModel } from "./records.ts";
import { specialsAbsorption } from "./specials-absorption.ts";
import {
  analysisInputError,
  contrastAnalysis,
  contrastRows,
  groupProfiles,
  type HeadMeanRow,
  headMeans,
  layerProfile,
  perHeadDelta,
} from "./strata-contrasts.ts";

const COMPARATOR_HAS_NO_NEGATIVES = "the comparator is force-fed positives only: no negative trajectories";

export function analyzeAttentionMarker(
  input: readonly PersonaSeedReadouts[],
  gates: GatesConfig,
): AttentionMarkerAnalysis {
  const layers = input[0]?.layers ?? [];
  checkShapes(input, layers);
  const skipped = input
    .filter((e) => e.positives.length === 0)
    .map((e) => ({
      persona: e.persona,
      runSeed: e.runSeed,
      reason: `no positives (${e.negatives.length} negatives): nothing to read at a marker`,
    }));
  const kept = input.filter((e) => e.positives.length > 0);
  const names = [...new Set(kept.map((e) => e.persona))];
  const personas = names.map((persona): PersonaAnalysis => {
    const seeds = kept.filter((e) => e.persona === persona).sort((a, b) => a.runSeed - b.runSeed);
    return {
      persona,
      pooled: analyzePersonaSeeds(seeds, layers, gates),
      perSeed: seeds.map((e) => analyzePersonaSeeds([e], layers, gates)),
    };
  });
  const headline = [
    ...personas.map((p) => headlineRows(p.persona, "pooled", p.pooled)),
    ...personas.flatMap((p) => p.perSeed.map((s) => headlineRows(p.persona, s.runSeeds[0]!, s))),
  ].flat();
  return { gates: { ...gates }, layers: [...layers], headline, personas, skipped };
}

function headlineRows(persona: string, runSeed: number | "pooled", a: PersonaSeedAnalysis): HeadlineRow[] {
  const row = (m: ModelAnalysis, forceFeed: string | null): HeadlineRow => ({
    persona,
    model: m.model,
    runSeed,
    n: m.examples,
    gates: m.gates.counts,
    window: m.gates.windowsText,
    peakSystemB: m.peakSystemB,
    gateFReframeRequired: m.gateF.reframeRequired ?? null,
    sinkReframeRequired: m.sinkReframe.required,
    forceFeed,
  });
  const rows = [row(a.trained, a.forceFeed?.summary ?? null)];
  if (a.comparator !== null) rows.push(row(a.comparator, null));
  return rows;
}

/** Every entry covers the same layers, and every readout has the same [layers, heads, groups] size. */
function checkShapes(input: readonly PersonaSeedReadouts[], layers: readonly number[]): void {
  let size: number | undefined;
  for (const e of input) {
    const where = `persona ${e.persona} seed ${e.runSeed}`;
    if (e.layers.length !== layers.length || e.layers.some((l, i) => l !== layers[i]))
      throw analysisInputError("persona × seed read different layers", {
        field: `${where}.layers`,
        expected: `[${layers.join(", ")}]`,
        got: `[${e.layers.join(", ")}]`,
      });
    for (const r of [...e.positives, ...e.negatives, ...(e.comparator ?? [])]) {
      const n = r.fractions.marker.A.length;
      size ??= n;
      if (n !== size)
        throw analysisInputError("readouts of different shapes", {
          field: `${where} trial ${r.trial} (${r.model}).fractions`,
          expected: `${size} values ([layers, heads, groups] as the first readout)`,
          got: `${n} values`,
        });
    }
  }
}

/** One persona over the given seeds (one seed, or all of them pooled). */
function analyzePersonaSeeds(
  seeds: readonly PersonaSeedReadouts[],
  layers: readonly number[],
  gates: GatesConfig,
): PersonaSeedAnalysis {
  const positives = seeds.flatMap((e) => e.positives);
  const negatives = seeds.flatMap((e) => e.negatives);
  const forceFed = seeds.filter((e) => e.comparator !== null);
  const comparatorReadouts = forceFed.flatMap((e) => e.comparator ?? []);
  const comparator =
    comparatorReadouts.length === 0 ? null : analyzeModel("comparator", comparatorReadouts, null, layers, gates);
  return {
    runSeeds: seeds.map((e) => e.runSeed),
    positives: positives.length,
    negatives: negatives.length,
    trained: analyzeModel("trained", positives, negatives, layers, gates),
    comparator,
    forceFeed:
      comparator === null
        ? null
        : forceFeedAnalysis(
            forceFed.flatMap((e) => e.positives),
            comparatorReadouts,
            layers,
            gates.alpha,
          ),
  };
}

/** One model on positives; `negatives` null = none were read under this model (no C4, no gate F). */
function analyzeModel(
  model: ReadoutModel,
  positives: readonly ExampleReadout[],
  negatives: readonly ExampleReadout[] | null,
  layers: readonly number[],
  config: GatesConfig,
): ModelAnalysis {
  const L = layers.length;
  const means = positives.map((r) => headMeans(r, L));
  const negativeMeans = negatives?.map((r) => ({
    means: headMeans(r, L),
    runSeed: r.runSeed,
    questionIndex: r.questionIndex,
  }));
  const contrast = (c: Contrast): ContrastAnalysis =>
    c === "c4" && negativeMeans === undefined
      ? { n: 0, missing: positives.length, profiles: null }
      : contrastAnalysis(contrastRows(c, means, positives, negativeMeans ?? null), layers);
  const contrasts = { c1: contrast("c1"), c2: contrast("c2"), c3: contrast("c3"), c4: contrast("c4") };
  const markerRows = means.map((m) => m.marker).filter((m): m is HeadMeanRow => m !== null);
  const marker = groupProfiles(markerRows, layers);
  if (marker === null)
    throw analysisInputError("positives without a marker position", {
      field: `readouts ${positives[0]?.persona} (${model}).positions.marker`,
      expected: "t* + offset on every positive",
      got: "null on every one",
    });
  const gates = gateTable(contrasts, layers, config, negatives === null ? COMPARATOR_HAS_NO_NEGATIVES : undefined);
  const c1 = contrasts.c1.profiles;
  const endOfAnswer = (negativeMeans ?? []).map((n) => n.means.c4).filter((m): m is HeadMeanRow => m !== null);
  return {
    model,
    examples: positives.length,
    partitionError: [...positives, ...(negatives ?? [])].reduce((m, r) => Math.max(m, r.partitionError), 0),
    marker,
    contrasts,
    gates,
    peakSystemB: c1?.B.system.peak ?? null,
    perHeadSystemB: perHeadDelta(positives, "B", "system", L),
    specialsAbsorption: c1 === null ? null : specialsAbsorption(c1, marker, layers),
    gateF: gateF(
      marker.B.system,
      endOfAnswer.length === 0 ? null : layerProfile(endOfAnswer, "B", "system", layers),
      gates,
      negatives === null ? COMPARATOR_HAS_NO_NEGATIVES : undefined,
    ),
    sinkReframe: sinkReframe(c1, gates),
  };
}
