/** What the trainer logs to: structurally what @difflens/wandb's run offers, so sae does not depend on it. */
export interface MetricsLogger {
  log(metrics: Record<string, number>, step: number): void;
}

/** Latent density histogram: log10 of firing frequency over a window, in decade bins. */
export function densityHistogram(fireCounts: Float64Array, windowTokens: number): Record<string, number> {
  const out: Record<string, number> = { "density_hist/never": 0 };
  for (let e = -8; e < 0; e++) out[`density_hist/1e${e}_to_1e${e + 1}`] = 0;
  if (windowTokens <= 0) return out;
  for (let j = 0; j < fireCounts.length; j++) {
    const c = fireCounts[j]!;
    if (c === 0) {
      out["density_hist/never"]!++;
      continue;
    }
    const e = Math.max(-8, Math.min(-1, Math.floor(Math.log10(c / windowTokens))));
    out[`density_hist/1e${e}_to_1e${e + 1}`]!++;
  }
  return out;
}
