import { useBackend } from "@difflens/tensor";
import { resolveDiffingConfig } from "./src/config/diffing-config.ts";
import { cosine } from "./src/compare/leading-direction.ts";
import { toyDirections } from "./src/toy/toy-pair.ts";
import { openPipelineModels } from "./src/models/open-models.ts";
import { chatDataWindows, textWindows, maskRulesOf } from "./src/data/windows.ts";
import { harvestBatches } from "./src/data/activation-stream.ts";
import { harvest } from "@difflens/runtime";
import * as fs from "node:fs"; import * as path from "node:path";
useBackend("auto");
const raw = JSON.parse(fs.readFileSync("../../configs/diffing/default.json", "utf8"));
for (const scale of [0.5, 0.75, 1]) {
  const seed = Number(process.argv[2] ?? 0);
  const cfg = resolveDiffingConfig({ ...raw, toy: { ...raw.toy, seed, plantScale: scale, cacheDir: process.argv[3] ?? raw.toy.cacheDir } }, path.resolve("../../configs/diffing"));
  const m = await openPipelineModels(cfg, () => {});
  const rules = maskRulesOf(cfg.mask, m.tokenizer);
  const ws: any[] = []; for await (const w of chatDataWindows(cfg.chatData, m.tokenizer, m.template, rules, 3)) { ws.push(w); if (ws.length >= 200) break; }
  const tw: any[] = []; for await (const w of textWindows(cfg.textData, m.tokenizer, rules, 3)) { tw.push(w); if (tw.length >= 50) break; }
  async function* it(a: any[]) { yield* a; }
  const get = async (model: any, a: any[]) => { const out: Float32Array[] = []; for await (const x of harvest(model, cfg.hook, harvestBatches(it(a), 16))) out.push(x.data as Float32Array); const n = out.reduce((t, x) => t + x.length, 0); const r = new Float32Array(n); let o = 0; for (const x of out) { r.set(x, o); o += x.length; } return r; };
  const b = await get(m.base, ws), c = await get(m.chat, ws);
  const d = 64, rows = b.length / d; const mean = new Float64Array(d); let nd = 0; const norms: number[] = []; const bn: number[] = [];
  for (let r = 0; r < rows; r++) { let s = 0, sb = 0; for (let i = 0; i < d; i++) { const v = c[r * d + i]! - b[r * d + i]!; mean[i]! += v / rows; s += v * v; sb += b[r*d+i]! ** 2; } norms.push(Math.sqrt(s)); bn.push(Math.sqrt(sb)); }
  const u = toyDirections({ seed, plantScale: scale, dModel: 64, nLayers: 3, nHeads: 4, dMlp: 192 }).planted;
  norms.sort((a, b) => a - b); bn.sort((a, b) => a - b);
  const tb = await get(m.base, tw), tc = await get(m.chat, tw); let mx = 0; for (let i = 0; i < tb.length; i++) mx = Math.max(mx, Math.abs(tb[i]! - tc[i]!));
  console.log("seed", seed, "scale", scale, "cos(meanΔ,u)", cosine(mean, u).toFixed(3), "median‖Δ‖", norms[norms.length >> 1]!.toFixed(3), "median‖x‖", bn[bn.length >> 1]!.toFixed(3), "text max|Δ|", mx);
}
