import { useBackend } from "@difflens/tensor";
import { resolveDiffingConfig } from "./src/config/diffing-config.ts";
import { loadStageSaes } from "./src/compare/compare.ts";
import { latentCosines, twoStageRanking } from "./src/compare/latent-cosines.ts";
import { cosine } from "./src/compare/leading-direction.ts";
import { toyDirections } from "./src/toy/toy-pair.ts";
import { openPipelineModels } from "./src/models/open-models.ts";
import { chatDataWindows, maskRulesOf } from "./src/data/windows.ts";
import { harvestBatches } from "./src/data/activation-stream.ts";
import { harvest } from "@difflens/runtime";
import * as fs from "node:fs"; import * as path from "node:path";
useBackend("auto");
const raw = JSON.parse(fs.readFileSync("../../configs/diffing/default.json", "utf8"));
const cfg = resolveDiffingConfig({ ...raw, sae: { ...raw.sae, dSae: Number(process.argv[3] ?? 256) }, runDir: process.argv[2] }, path.resolve("../../configs/diffing"));
const s = await loadStageSaes(cfg);
const c = latentCosines(s);
const rank = twoStageRanking(c.decoder.D_DF, c.decoder.M_MF);
const u = toyDirections({ seed: 0, plantScale: 0.75, dModel: 64, nLayers: 3, nHeads: 4, dMlp: 192 }).planted;
const m = await openPipelineModels(cfg, () => {});
const rules = maskRulesOf(cfg.mask, m.tokenizer);
const ws: any[] = []; for await (const w of chatDataWindows(cfg.chatData, m.tokenizer, m.template, rules, 3)) { ws.push(w); if (ws.length >= 400) break; }
async function* it() { yield* ws; }
const dSae = s.DF.dSae; const freq = new Float64Array(dSae); let n = 0;
for await (const a of harvest(m.chat, cfg.hook, harvestBatches(it(), 16))) { const codes = s.DF.encode(a); n += a.shape[0]!; for (const i of codes.indices) freq[i]!++; }
const d = 64; const row = (x: any, i: number) => x.weights.wDec.subarray(i * d, (i + 1) * d);
const nrm = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((t, v, j) => t + (v - b[j]!) ** 2, 0));
const dens = Array.from(freq, (f) => f / n).sort((a, b) => a - b);
console.log("median density", dens[dens.length >> 1]!.toFixed(4));
for (const i of rank.slice(0, 12)) console.log(i, "dens", (freq[i]! / n).toFixed(4), "|dDF|", nrm(row(s.DF, i), row(s.D, i)).toFixed(3), "|dMF|", nrm(row(s.MF, i), row(s.M, i)).toFixed(3), "cosD u", cosine(row(s.D, i), u).toFixed(2), "cosDF u", cosine(row(s.DF, i), u).toFixed(2));
// latents aligned with u in DF
const al = Array.from({ length: dSae }, (_, i) => i).sort((a, b) => Math.abs(cosine(row(s.DF, b), u)) - Math.abs(cosine(row(s.DF, a), u)));
for (const i of al.slice(0, 5)) console.log("u-aligned", i, "rank", rank.indexOf(i) + 1, "dens", (freq[i]! / n).toFixed(4), "cosDF", cosine(row(s.DF, i), u).toFixed(2), "cosD", cosine(row(s.D, i), u).toFixed(2), "cosM", cosine(row(s.M, i), u).toFixed(2), "cosMF", cosine(row(s.MF, i), u).toFixed(2), "cosS", cosine(row(s.S, i), u).toFixed(2));
