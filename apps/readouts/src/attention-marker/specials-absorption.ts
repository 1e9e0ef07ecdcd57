/**
 * The seed's specials-absorption figures: how much of the marker − C1 delta segmentation A credits to a region but
 * segmentation B (structural specials stripped into their own group) moves onto the specials.
 */
import type { GroupProfiles, LayerValue, SpecialsAbsorption } from "./analysis-types.ts";
import { argMax } from "./strata-contrasts.ts";

function maxAndMean(values: readonly number[], layers: readonly number[]): { max: LayerValue; mean: number } {
  return { max: argMax(values, layers), mean: values.reduce((s, v) => s + v, 0) / values.length };
}

/** `c1`: the marker − C1 profiles; `marker`: the marker position's own fractions. */
export function specialsAbsorption(
  c1: GroupProfiles,
  marker: GroupProfiles,
  layers: readonly number[],
): SpecialsAbsorption {
  const gap = (region: "system" | "user" | "assistantPrefix" | "template") =>
    maxAndMean(
      c1.A[region].mean.map((a, l) => a - c1.B[region].mean[l]!),
      layers,
    );
  return {
    gapAMinusB: {
      system: gap("system"),
      user: gap("user"),
      assistantPrefix: gap("assistantPrefix"),
      template: gap("template"),
    },
    specialsDelta: maxAndMean(c1.B.specials.mean, layers),
    markerOnSpecials: maxAndMean(marker.B.specials.mean, layers),
  };
}
