/** Hand-built stage-2 readouts with known per-layer values, for stage 3's tests. */
import type { PersonaSeedReadouts } from "../src/attention-marker/analysis-types.ts";
import {
  type ExampleReadout,
  fractionIndex,
  REGION_GROUPS,
  type ReadoutModel,
  type RegionGroup,
  STRATA,
  type Stratum,
} from "../src/attention-marker/records.ts";

/** Per group: one value for every layer, or one per layer. Missing groups are 0. */
export type GroupValues = Partial<Record<RegionGroup, number | readonly number[]>>;
/** Segmentation A's values, B's (default: A's), and an optional per-head offset (averages out when it sums to 0). */
export interface StratumValues {
  readonly A: GroupValues;
  readonly B?: GroupValues;
  readonly headOffset?: readonly number[];
}

const POSITIONS: Record<Stratum, number> = { marker: 40, c1: 10, c2: 35, c3: 22, c4: 30 };

export function readout(o: {
  layers: number;
  heads?: number;
  trial?: number;
  questionIndex?: number;
  runSeed?: number;
  persona?: string;
  model?: ReadoutModel;
  partitionError?: number;
  strata: Partial<Record<Stratum, StratumValues>>;
}): ExampleReadout {
  const heads = o.heads ?? 2;
  const size = o.layers * heads * REGION_GROUPS.length;
  const fill = (values: GroupValues | undefined, offset: readonly number[] | undefined): Float32Array => {
    const out = new Float32Array(size).fill(values === undefined ? Number.NaN : 0);
    if (values === undefined) return out;
    REGION_GROUPS.forEach((group, g) => {
      const v = values[group] ?? 0;
      for (let l = 0; l < o.layers; l++) {
        for (let h = 0; h < heads; h++) {
          out[fractionIndex(l, h, g, heads)] = (typeof v === "number" ? v : v[l]!) + (offset?.[h] ?? 0);
        }
      }
    });
    return out;
  };
  const positions = {} as Record<Stratum, number | null>;
  const fractions = {} as Record<Stratum, { A: Float32Array; B: Float32Array }>;
  for (const s of STRATA) {
    const spec = o.strata[s];
    positions[s] = spec === undefined ? null : POSITIONS[s];
    fractions[s] = { A: fill(spec?.A, spec?.headOffset), B: fill(spec?.B ?? spec?.A, spec?.headOffset) };
  }
  return {
    persona: o.persona ?? "p",
    runSeed: o.runSeed ?? 0,
    trial: o.trial ?? 0,
    questionIndex: o.questionIndex ?? 0,
    model: o.model ?? "trained",
    positions,
    fractions,
    partitionError: o.partitionError ?? 0,
  };
}

/** Positives whose marker − C1 delta on system (both segmentations) is deltas[example][layer]; C1 is all zeros. */
export function systemDeltaPositives(
  deltas: readonly (readonly number[])[],
  extra: GroupValues = {},
): ExampleReadout[] {
  const layers = deltas[0]!.length;
  return deltas.map((d, trial) =>
    readout({ layers, trial, strata: { marker: { A: { ...extra, system: d } }, c1: { A: {} } } }),
  );
}

export function entry(
  positives: readonly ExampleReadout[],
  o: {
    layers?: readonly number[];
    negatives?: readonly ExampleReadout[];
    comparator?: readonly ExampleReadout[] | null;
    persona?: string;
    runSeed?: number;
  } = {},
): PersonaSeedReadouts {
  const n = positives[0]?.fractions.marker.A.length ?? 0;
  return {
    persona: o.persona ?? "p",
    runSeed: o.runSeed ?? 0,
    layers: o.layers ?? Array.from({ length: n / (2 * REGION_GROUPS.length) }, (_, l) => l),
    positives,
    negatives: o.negatives ?? [],
    comparator: o.comparator ?? null,
  };
}
