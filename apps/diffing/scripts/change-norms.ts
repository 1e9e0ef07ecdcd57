/**
 * Mean size of the decoder changes D→DF and M→MF over all latents, split into the part along the planted u and
 * the rest, for finished demo runs (reads demo/recovery.json for u). A control run gives the pure training drift;
 * comparing runs trained with other lengths / learning rates tells drift from a systematic, plant-induced change.
 * Usage (from apps/diffing): tsx scripts/change-norms.ts RUN_DIR [RUN_DIR…]
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { loadSae } from "@difflens/sae";

const dirs = process.argv.slice(2);
for (const dir of dirs) {
  const rec = JSON.parse(fs.readFileSync(path.join(dir, "demo/recovery.json"), "utf8"));
  const u = rec.planted as number[];
  const load = async (s: string) =>
    loadSae(path.join(dir, JSON.parse(fs.readFileSync(path.join(dir, "stages", s, "stage.json"), "utf8")).checkpoint));
  const [D, DF, M, MF] = [await load("D"), await load("DF"), await load("M"), await load("MF")];
  const d = D.dIn;
  const stats = (a: typeof D, b: typeof D) => {
    let all = 0,
      along = 0,
      n = 0;
    for (let i = 0; i < a.dSae; i++) {
      let sq = 0,
        dot = 0;
      for (let j = 0; j < d; j++) {
        const v = b.weights.wDec[i * d + j]! - a.weights.wDec[i * d + j]!;
        sq += v * v;
        dot += v * u[j]!;
      }
      all += Math.sqrt(sq);
      along += Math.abs(dot);
      n++;
    }
    return `mean |Δ| ${(all / n).toFixed(4)}, mean |Δ·u| ${(along / n).toFixed(4)}, mean |Δ⊥u| ${Math.sqrt(Math.max(0, (all / n) ** 2 - (along / n) ** 2)).toFixed(4)}`;
  };
  console.log(`${path.basename(dir)}: D→DF ${stats(D, DF)} | M→MF ${stats(M, MF)}`);
}
