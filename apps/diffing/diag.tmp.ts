import { resolveDiffingConfig } from "./src/config/diffing-config.ts";
import { loadStageSaes } from "./src/compare/compare.ts";
import { latentCosines, twoStageRanking } from "./src/compare/latent-cosines.ts";
import { leadingRightSingularVector, cosine } from "./src/compare/leading-direction.ts";
import { toyDirections } from "./src/toy/toy-pair.ts";
import * as fs from "node:fs"; import * as path from "node:path";
const raw = JSON.parse(fs.readFileSync("../../configs/diffing/default.json", "utf8"));
const cfg = resolveDiffingConfig({ ...raw, runDir: process.argv[2] }, path.resolve("../../configs/diffing"));
const s = await loadStageSaes(cfg);
const c = latentCosines(s);
const rank = twoStageRanking(c.decoder.D_DF, c.decoder.M_MF);
const u = toyDirections({ seed: Number(process.argv[3] ?? 0), plantScale: 0.75, dModel: 64, nLayers: 3, nHeads: 4, dMlp: 192 }).planted;
const d = 64; const row = (x: any, i: number) => x.weights.wDec.subarray(i * d, (i + 1) * d);
const diff = (a: Float32Array, b: Float32Array) => Float64Array.from(a, (v, j) => v - b[j]!);
for (const K of [5, 10, 20, 40]) {
  const top = rank.slice(0, K);
  const a = top.map((i) => diff(row(s.DF, i), row(s.D, i))), b = top.map((i) => diff(row(s.MF, i), row(s.M, i)));
  const f = (rows: Float64Array[]) => Math.abs(cosine(leadingRightSingularVector(rows, d).direction, u)).toFixed(3);
  console.log(K, "DF-D", f(a), "MF-M", f(b), "both", f([...a, ...b]));
}
// b_dec shift
console.log("bdec D->DF cos u", cosine(diff(s.DF.weights.bDec, s.D.weights.bDec), u).toFixed(3), "M->MF", cosine(diff(s.MF.weights.bDec, s.M.weights.bDec), u).toFixed(3));
const top = rank.slice(0, 10);
console.log("top sums", top.map((i) => (c.decoder.D_DF[i]! + c.decoder.M_MF[i]!).toFixed(2)).join(" "));
console.log("D_DF", top.map((i) => c.decoder.D_DF[i]!.toFixed(2)).join(" "), "M_MF", top.map((i) => c.decoder.M_MF[i]!.toFixed(2)).join(" "));
// all-latent DF-D leading
const all = Array.from({ length: 256 }, (_, i) => diff(row(s.DF, i), row(s.D, i)));
console.log("all DF-D lead", Math.abs(cosine(leadingRightSingularVector(all, d).direction, u)).toFixed(3));
