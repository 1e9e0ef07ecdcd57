/**
 * Seed 001's within-model gates on δ = marker − C1 (per layer, E examples), and the deferred SEM-bar tests:
 * - A (direction): #{δ_system > 0} ≥ ⌈threshold · E⌉ on segmentation A;
 * - B (SEM bar): mean(δ_system) − SEM > 0, SEM = sd(ddof 1)/√E;
 * - C (specificity): mean δ_system > mean δ_user and > mean δ_assistantPrefix;
 * - D (sink-robust): A, B and C all hold again with segmentation B's regions;
 * - C2 / C3 / C4: rule B on marker − C2, marker − C3, marker − C4 (segmentation A, system).
 */
import type {
  Contrast,
  ContrastAnalysis,
  GateName,
  GatesConfig,
  GateTable,
  GroupProfiles,
  LayerProfile,
  Segmentation,
} from "./analysis-types.ts";
import { GATE_NAMES } from "./analysis-types.ts";
import { layerWindows, windowsText } from "./windows.ts";

/** ⌈threshold · E⌉ with the product's rounding error removed first (0.7 · 10 is 7.000000000000001 in doubles). */
export function directionRequired(threshold: number, examples: number): number {
  return Math.ceil(Number((threshold * examples).toPrecision(12)));
}

/** Rule B per layer: the ±1 SEM bar lies above zero (mean − SEM > 0); no SEM (E < 2) never passes. */
export function semBarAboveZero(profile: LayerProfile): boolean[] {
  return profile.mean.map((m, l) => {
    const s = profile.sem[l];
    return s !== null && s !== undefined && m - s > 0;
  });
}

/** Gate A per layer: at least `required` examples with δ > 0 (and at least one example). */
export function directionPasses(profile: LayerProfile, required: number): boolean[] {
  return profile.positive.map((k) => profile.n > 0 && k >= required);
}

/** Gate C per layer: the system delta exceeds the user and the assistant-prefix deltas. */
export function specificityPasses(profiles: GroupProfiles, seg: Segmentation): boolean[] {
  const { system, user, assistantPrefix } = profiles[seg];
  return system.mean.map((s, l) => s > user.mean[l]! && s > assistantPrefix.mean[l]!);
}

function and(...flags: (readonly boolean[])[]): boolean[] {
  return flags[0]!.map((_, l) => flags.every((f) => f[l] === true));
}

/** A, B and C on one segmentation, with their conjunction. */
export function segmentationGates(profiles: GroupProfiles, seg: Segmentation, required: number) {
  const system = profiles[seg].system;
  const a = directionPasses(system, required);
  const b = semBarAboveZero(system);
  const c = specificityPasses(profiles, seg);
  return { a, b, c, all: and(a, b, c) };
}

/** Every gate of one model; `contrasts.c1` drives A–D, the others the deferred tests. */
export function gateTable(
  contrasts: Readonly<Record<Contrast, ContrastAnalysis>>,
  layers: readonly number[],
  config: GatesConfig,
  c4NotApplicable?: string,
): GateTable {
  const pass = {} as Record<GateName, boolean[] | null>;
  const notApplicable: Partial<Record<GateName, string>> = {};
  const c1 = contrasts.c1.profiles;
  const required = directionRequired(config.directionThreshold, contrasts.c1.n);
  if (c1 === null) {
    for (const g of ["A", "B", "C", "D"] as const) {
      pass[g] = null;
      notApplicable[g] = "no positive has a C1 position";
    }
  } else {
    const segA = segmentationGates(c1, "A", required);
    pass.A = segA.a;
    pass.B = segA.b;
    pass.C = segA.c;
    pass.D = segmentationGates(c1, "B", required).all;
  }
  for (const [gate, contrast] of [
    ["C2", "c2"],
    ["C3", "c3"],
    ["C4", "c4"],
  ] as const) {
    const profiles = contrasts[contrast].profiles;
    if (gate === "C4" && c4NotApplicable !== undefined) {
      pass[gate] = null;
      notApplicable[gate] = c4NotApplicable;
    } else if (profiles === null) {
      pass[gate] = null;
      notApplicable[gate] =
        contrast === "c4" ? "no positive has a negative of the same question" : `no positive has a ${gate} position`;
    } else pass[gate] = semBarAboveZero(profiles.A.system);
  }
  const counts = Object.fromEntries(
    GATE_NAMES.map((g) => [g, pass[g] === null ? null : pass[g].filter(Boolean).length]),
  ) as Record<GateName, number | null>;
  const gateWindows = Object.fromEntries(
    GATE_NAMES.map((g) => [g, pass[g] === null ? null : windowsText(layerWindows(pass[g], layers))]),
  ) as Record<GateName, string | null>;
  const windows = layerWindows(allGatesPass(pass, layers.length), layers);
  const counted = GATE_NAMES.map((g) => `${g} ${counts[g] === null ? "n/a" : `${counts[g]}/${layers.length}`}`);
  return {
    pass,
    counts,
    notApplicable,
    directionRequired: required,
    windows,
    windowsText: windowsText(windows),
    gateWindows,
    summary: `${counted.join(" · ")} · window ${windowsText(windows)}`,
  };
}

/** Per layer: do A, B, C and D all pass (false where they are not applicable)? */
export function allGatesPass(pass: GateTable["pass"], layers: number): boolean[] {
  const { A, B, C, D } = pass;
  if (A === null || B === null || C === null || D === null) return new Array<boolean>(layers).fill(false);
  return and(A, B, C, D);
}
