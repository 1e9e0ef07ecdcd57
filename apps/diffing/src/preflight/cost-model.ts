/**
 * What a stage will cost before it runs: seconds per trained row (harvest + SAE step) and checkpoint bytes.
 * Rates come from measurements (README, "Cost of the real experiment"): a fixed cost per computed position and per
 * SAE row (the toy demo, where FLOPs are negligible) plus a cost per FLOP fitted to Qwen1.5-0.5B harvested to
 * blocks.13 (`pnpm bench:harvest`, 461 tok/s) and a d_in 1024 × d_sae 32768 SAE (`pnpm bench:sae`, 2509 tok/s), both
 * on 2 cores. A finished stage of the same run (same model and data) gives its own measured rate, which wins.
 */
import type { StageWindow } from "../data/windows.ts";

const HARVEST_S_PER_POSITION = 2.5e-5;
const HARVEST_S_PER_FLOP = 6.17e-12;
const SAE_S_PER_ROW = 1e-5;
const SAE_S_PER_WEIGHT = 1.16e-11;
/** A run keeps its latest checkpoint and one before it, and writes the next beside them. */
export const CHECKPOINTS_AT_PEAK = 3;

export interface ModelShape {
  readonly dModel: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly dHead: number;
  readonly dMlp: number;
}

/** Forward FLOPs per position up to the hook's layer (the harvest stops there); attention over `contextSize` keys. */
export function harvestFlopsPerPosition(shape: ModelShape, hookLayer: number, contextSize: number): number {
  const q = shape.nHeads * shape.dHead,
    kv = shape.nKvHeads * shape.dHead;
  const matmuls = shape.dModel * (q + 2 * kv) + q * shape.dModel + 3 * shape.dModel * shape.dMlp;
  const perLayer = 2 * matmuls + 4 * contextSize * q;
  return Math.max(0, hookLayer) * perLayer;
}

export interface RowCost {
  readonly harvestS: number;
  readonly saeS: number;
}

/**
 * Seconds per trained row. `trainedFraction`: trained rows per computed position (padding, masked tokens and
 * untrained chat regions are computed but not trained on), measured on the data's first windows.
 */
export function secondsPerRow(o: {
  flopsPerPosition: number;
  trainedFraction: number;
  dIn: number;
  dSae: number;
}): RowCost {
  const perPosition = HARVEST_S_PER_POSITION + HARVEST_S_PER_FLOP * o.flopsPerPosition;
  return {
    harvestS: perPosition / Math.max(0.01, o.trainedFraction),
    saeS: SAE_S_PER_ROW + SAE_S_PER_WEIGHT * o.dIn * o.dSae,
  };
}

/** Bytes of one training checkpoint: the SAE (two [d_sae, d_in] matrices + biases) and Adam's two moments of it. */
export function checkpointBytes(dIn: number, dSae: number): number {
  const params = 2 * dSae * dIn + dSae + dIn;
  const stateJson = 24 * dSae; // two per-latent counters as JSON text
  return 4 * params + 4 * (2 * params + dSae + dIn) + stateJson + 4096;
}

/**
 * Trained rows per computed position over the first `n` windows of a dataset (1 when it yields none). A window's
 * right padding is not computed (the harvest trims it), its masked tokens are.
 */
export async function trainedFraction(windows: AsyncIterable<StageWindow>, n = 16): Promise<number> {
  let trained = 0,
    positions = 0,
    seen = 0;
  for await (const w of windows) {
    for (let i = 0; i < w.mask.length; i++) trained += w.mask[i]!;
    positions += w.length;
    if (++seen >= n) break;
  }
  return positions === 0 ? 1 : trained / positions;
}
