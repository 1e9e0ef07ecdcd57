import { useBackend } from "@difflens/tensor";
import { loadDiffingConfig } from "./src/config/diffing-config.ts";
import { openPipelineModels } from "./src/models/open-models.ts";
import { textWindows, chatDataWindows, maskRulesOf } from "./src/data/windows.ts";
import { harvest } from "@difflens/runtime";
import { harvestBatches } from "./src/data/activation-stream.ts";
useBackend("auto");
const cfg = loadDiffingConfig("../../configs/diffing/default.json");
const m = await openPipelineModels(cfg, console.log);
const rules = maskRulesOf(cfg.mask, m.tokenizer);
let t = performance.now(); let n = 0; let real = 0;
const tw: any[] = [];
for await (const w of textWindows(cfg.textData, m.tokenizer, rules, 1)) { n += w.ids.length; tw.push(w); }
console.log("text windows", tw.length, "tokens", n, "s", (performance.now() - t) / 1000);
t = performance.now(); n = 0; const cw: any[] = [];
for await (const w of chatDataWindows(cfg.chatData, m.tokenizer, m.template, rules, 1)) { n += w.ids.length; real += w.length; cw.push(w); }
console.log("chat windows", cw.length, "slots", n, "real", real, "s", (performance.now() - t) / 1000);
const lens = cw.map((w) => w.length).sort((a, b) => a - b); console.log("chat len p50/p90/max", lens[lens.length >> 1], lens[Math.floor(lens.length * 0.9)], lens.at(-1));
async function* it(a: any[]) { yield* a; }
for (const [name, ws] of [["text", tw.slice(0, 1000)], ["chat", cw.slice(0, 1000)]] as const) {
  t = performance.now(); let rows = 0;
  for await (const a of harvest(m.chat, cfg.hook, harvestBatches(it(ws as any[]), 16))) rows += a.shape[0]!;
  console.log("harvest", name, rows, "rows/s", rows / ((performance.now() - t) / 1000));
}
