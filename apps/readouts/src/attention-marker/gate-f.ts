/**
 * Gate F and sink_reframe_required, defined from the seed's text (seed 001 names both; its code is not ours):
 * - Gate F compares the positive and negative trajectories: per layer, the head-mean attention on system content
 *   (segmentation B) at t* of positives, against the same at the end-of-answer position of negatives (all of the
 *   persona's negatives, unpaired). A layer passes when the SEM bars separate: (P − SEM_P) > (N + SEM_N).
 *   `reframeRequired`: fewer than half of the A–D window's layers pass F — the within-model concentration is then an
 *   end-of-answer property rather than specific to marker emission, and the reading must be reframed. Not applicable
 *   without both trajectories (the force-fed comparator reads positives only, as in the seed).
 * - sink_reframe_required: the seg-A effect lives on structural specials rather than on system content (see
 *   SinkReframe in analysis-types.ts).
 */
import type { GateF, GateTable, GroupProfiles, LayerProfile, SinkReframe } from "./analysis-types.ts";
import { allGatesPass } from "./gates.ts";

/** Per layer: the SEM bars of `above` and `below` do not overlap, `above` on top. */
export function semBarsSeparate(above: LayerProfile, below: LayerProfile): boolean[] {
  return above.mean.map((a, l) => {
    const sa = above.sem[l];
    const sb = below.sem[l];
    return sa !== null && sa !== undefined && sb !== null && sb !== undefined && a - sa > below.mean[l]! + sb;
  });
}

export function gateF(
  positive: LayerProfile | null,
  negative: LayerProfile | null,
  gates: GateTable,
  notApplicable?: string,
): GateF {
  if (notApplicable !== undefined) return { applicable: false, reason: notApplicable };
  if (positive === null || negative === null)
    return { applicable: false, reason: "missing positive or negative trajectories" };
  const pass = semBarsSeparate(positive, negative);
  const window = allGatesPass(gates.pass, pass.length);
  const windowLayers = window.filter(Boolean).length;
  const windowPass = window.filter((w, l) => w && pass[l]).length;
  return {
    applicable: true,
    positive,
    negative,
    pass,
    count: pass.filter(Boolean).length,
    windowLayers,
    windowPass,
    reframeRequired: windowPass * 2 < windowLayers,
  };
}

/** Layers where A, B, C pass on seg A; "absorbed" = D fails there and δ_specials(B) > δ_system(B). */
export function sinkReframe(c1: GroupProfiles | null, gates: GateTable): SinkReframe {
  const { A, B, C, D } = gates.pass;
  if (c1 === null || A === null || B === null || C === null || D === null)
    return { layersABC: 0, absorbed: 0, required: false };
  let layersABC = 0;
  let absorbed = 0;
  A.forEach((a, l) => {
    if (!(a && B[l] && C[l])) return;
    layersABC++;
    if (!D[l] && c1.B.specials.mean[l]! > c1.B.system.mean[l]!) absorbed++;
  });
  return { layersABC, absorbed, required: absorbed * 2 > layersABC };
}
