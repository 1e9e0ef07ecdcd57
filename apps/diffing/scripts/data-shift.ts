/**
 * How far chat data sits from text data at the hook, against the plant: mean activation of chat content tokens,
 * of template tokens (system prompt, role headers, structural newlines) and of text, in the base and chat models.
 * Usage (from apps/diffing): tsx scripts/data-shift.ts SEED SCALE [CONFIG] [WINDOWS]
 */
import * as path from "node:path";
import { alpacaChats, chatWindows, ParquetDataset, recordRows } from "@difflens/data";
import { harvest } from "@difflens/runtime";
import { selectBackend } from "@difflens/tensor";
import {
  cosine,
  harvestBatches,
  loadDiffingConfig,
  maskRulesOf,
  openPipelineModels,
  resolveDiffingConfig,
  type StageWindow,
  specialId,
  textWindows,
} from "../src/index.ts";

await selectBackend(); // DIFFLENS_BACKEND, else auto
const [seedArg, scaleArg, cfgArg, winArg] = process.argv.slice(2);
const cfgFile = path.resolve(cfgArg ?? "../../configs/diffing/default.json");
const { file: _f, ...plain } = loadDiffingConfig(cfgFile);
const config = resolveDiffingConfig(
  { ...plain, toy: { ...plain.toy, seed: Number(seedArg), plantScale: Number(scaleArg), plant: true } },
  path.dirname(cfgFile),
  cfgFile,
);
const n = Number(winArg ?? 256);
const models = await openPipelineModels(config, () => {});
const u = models.planted!;
const d = u.length;
const rules = maskRulesOf(config.mask, models.tokenizer);
async function collect(
  model: typeof models.base,
  windows: AsyncIterable<StageWindow & { regions?: readonly string[] }>,
  limit: number,
) {
  const rows: number[] = [],
    regions: string[] = [];
  let k = 0;
  const limited = async function* () {
    for await (const w of windows) {
      for (let i = 0; i < w.length; i++) if (w.mask[i]) regions.push(w.regions?.[i] ?? "text");
      yield w;
      if (++k >= limit) return;
    }
  };
  for await (const t of harvest(model, process.env.HOOK ?? config.hook, harvestBatches(limited(), 16)))
    rows.push(...(t.data as Float32Array));
  return { x: Float32Array.from(rows), regions };
}
async function* chats() {
  const ds = await ParquetDataset.open(config.chatData.files);
  const c = alpacaChats(
    recordRows(ds, ["instruction", "input", "output"] as const, { shuffle: true, seed: 99 }),
    models.template,
    models.tokenizer,
    { instructionIn: config.chatData.instructionIn },
  );
  yield* chatWindows(c, {
    contextSize: config.chatData.contextSize,
    padId: specialId(models.tokenizer, config.chatData.padToken, "pad"),
    overflow: "truncate",
    maskRules: rules,
  });
}
const isContent = (r: string) => r === "user:content" || r === "assistant:content";
const mean = (x: Float32Array, keep: (r: number) => boolean) => {
  const m = new Float64Array(d);
  let c = 0;
  for (let r = 0; r < x.length / d; r++)
    if (keep(r)) {
      c++;
      for (let j = 0; j < d; j++) m[j]! += x[r * d + j]!;
    }
  return m.map((v) => v / c);
};
const norm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v));
const sub = (a: Float64Array, b: Float64Array) => a.map((v, j) => v - b[j]!);
const cb = await collect(models.base, chats(), n),
  cc = await collect(models.chat, chats(), n);
const tb = await collect(
  models.base,
  textWindows(config.textData, models.tokenizer, rules, 99),
  Math.ceil((n * 55) / config.textData.contextSize),
);
const norms = Array.from({ length: tb.x.length / d }, (_, r) => norm(tb.x.subarray(r * d, (r + 1) * d))).sort(
  (a, b) => a - b,
);
const text = mean(tb.x, () => true);
const content = mean(cb.x, (r) => isContent(cb.regions[r]!)),
  template = mean(cb.x, (r) => !isContent(cb.regions[r]!));
const plant = sub(
  mean(cc.x, (r) => isContent(cc.regions[r]!)),
  content,
);
console.log(
  `seed ${seedArg} scale ${scaleArg}: median ‖x‖ (text) ${norms[norms.length >> 1]!.toFixed(2)}; plant on content ‖·‖ ${norm(plant).toFixed(2)} (cos u ${cosine(plant, u).toFixed(3)}); data shift content−text ${norm(sub(content, text)).toFixed(2)} (cos u ${cosine(sub(content, text), u).toFixed(3)}); template−text ${norm(sub(template, text)).toFixed(2)}`,
);
models.close();
