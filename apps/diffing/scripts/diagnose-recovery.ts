/**
 * Diagnoses a finished demo run: what, besides the planted u, do the top-ranked latents' decoder changes carry?
 * For each top latent: where MF fires on chat data (template tokens = system prompt, role headers, structural
 * newlines vs content), its firing rate on text (M) and chat (MF), and whether the non-u part of MF_i − M_i
 * points along the data shift E[x | MF fires, chat] − E[x | M fires, text]. Then the leading direction's non-u
 * part against the mean shifts of template and content tokens.
 * Usage (from apps/diffing): tsx scripts/diagnose-recovery.ts RUN_DIR SEED SCALE [CONFIG] [WINDOWS]
 */
import * as path from "node:path";
import { alpacaChats, chatWindows, type MaskRules, ParquetDataset, recordRows } from "@difflens/data";
import { harvest } from "@difflens/runtime";
import type { Sae } from "@difflens/sae";
import { selectBackend, Tensor } from "@difflens/tensor";
import {
  cosine,
  harvestBatches,
  latentCosines,
  leadingRightSingularVector,
  loadDiffingConfig,
  loadStageSaes,
  maskRulesOf,
  openPipelineModels,
  resolveDiffingConfig,
  type StageWindow,
  specialId,
  textWindows,
  twoStageRanking,
} from "../src/index.ts";

await selectBackend(); // DIFFLENS_BACKEND, else auto
const [runDir, seedArg, scaleArg, cfgArg, winArg] = process.argv.slice(2);
const cfgFile = path.resolve(cfgArg ?? "../../configs/diffing/default.json");
const loaded = loadDiffingConfig(cfgFile);
const { file: _f, ...plain } = loaded;
const config = resolveDiffingConfig(
  {
    ...plain,
    runDir: path.resolve(runDir!),
    toy: { ...plain.toy, seed: Number(seedArg), plantScale: Number(scaleArg), plant: true },
  },
  path.dirname(cfgFile),
  cfgFile,
);
const nWindows = Number(winArg ?? 256);
const models = await openPipelineModels(config, () => {});
const u = models.planted!;
const d = u.length;
const saes = await loadStageSaes(config);
const cos = latentCosines(saes);
const ranking = twoStageRanking(cos.decoder.D_DF, cos.decoder.M_MF);
const top = ranking.slice(0, config.compare.topK);
const rules: MaskRules = maskRulesOf(config.mask, models.tokenizer);

async function collect(
  model: typeof models.base,
  windows: AsyncIterable<StageWindow & { regions?: readonly string[] }>,
  limit: number,
) {
  const rows: number[] = [];
  const regions: string[] = [];
  const kept: StageWindow[] = [];
  let n = 0;
  const limited = async function* () {
    for await (const w of windows) {
      kept.push(w);
      for (let i = 0; i < w.length; i++)
        if (w.mask[i]) regions.push((w as { regions?: readonly string[] }).regions?.[i] ?? "text");
      yield w;
      if (++n >= limit) return;
    }
  };
  for await (const t of harvest(model, config.hook, harvestBatches(limited(), 16)))
    rows.push(...(t.data as Float32Array));
  return { x: Float32Array.from(rows), regions, n: regions.length };
}
async function* chatWithRegions() {
  const ds = await ParquetDataset.open(config.chatData.files);
  const chats = alpacaChats(
    recordRows(ds, ["instruction", "input", "output"] as const, { shuffle: true, seed: 99 }),
    models.template,
    models.tokenizer,
    { instructionIn: config.chatData.instructionIn },
  );
  yield* chatWindows(chats, {
    contextSize: config.chatData.contextSize,
    padId: specialId(models.tokenizer, config.chatData.padToken, "pad"),
    overflow: "truncate",
    maskRules: rules,
  });
}
const chat = await collect(models.chat, chatWithRegions(), nWindows);
const text = await collect(
  models.chat,
  textWindows(config.textData, models.tokenizer, rules, 99),
  Math.ceil((nWindows * 55) / config.textData.contextSize),
);
const isTemplate = (r: string) => !r.endsWith(":content") || r.startsWith("system:");

function fires(sae: Sae, x: Float32Array, n: number): Array<Array<[number, number]>> {
  const codes = sae.encode(new Tensor("f32", [n, d], x));
  const out: Array<Array<[number, number]>> = Array.from({ length: n }, () => []);
  for (let r = 0; r < n; r++)
    for (let p = codes.indptr[r]!; p < codes.indptr[r + 1]!; p++) out[r]!.push([codes.indices[p]!, codes.values[p]!]);
  return out;
}
const mfChat = fires(saes.MF, chat.x, chat.n);
const mText = fires(saes.M, text.x, text.n);
const row = (s: Sae, i: number) => s.weights.wDec.subarray(i * d, (i + 1) * d);
const minusU = (v: ArrayLike<number>) => {
  const c = cosine(v, u) * Math.hypot(...Array.from(v));
  return Float64Array.from(v, (x, j) => x - c * u[j]!);
};
function condMean(
  x: Float32Array,
  codes: Array<Array<[number, number]>>,
  latent: number,
  filter?: (r: number) => boolean,
) {
  const m = new Float64Array(d);
  let w = 0,
    count = 0;
  codes.forEach((c, r) => {
    for (const [i, v] of c)
      if (i === latent && (!filter || filter(r))) {
        count++;
        w += v;
        for (let j = 0; j < d; j++) m[j]! += v * x[r * d + j]!;
      }
  });
  return { mean: m.map((v) => v / Math.max(w, 1e-9)), count };
}
console.log(
  `run ${runDir}: chat ${chat.n} tokens (${((chat.regions.filter(isTemplate).length / chat.n) * 100).toFixed(0)}% template), text ${text.n} tokens`,
);
console.log(
  "rank latent  cos(DF-D,u) cos(MF-M,u) |MF-M|/|DF-D|  rate text(M) chat(MF)  MF fires on template  cos(nonU(MF-M), nonU(shift))  cos(nonU(MF-M), nonU(template shift))",
);
const stack: Float64Array[] = [];
top.forEach((latent, r) => {
  const cDF = Float64Array.from(row(saes.DF, latent), (v, j) => v - row(saes.D, latent)[j]!);
  const cMF = Float64Array.from(row(saes.MF, latent), (v, j) => v - row(saes.M, latent)[j]!);
  stack.push(cDF, cMF);
  const onChat = condMean(chat.x, mfChat, latent);
  const onTpl = condMean(chat.x, mfChat, latent, (rr) => isTemplate(chat.regions[rr]!));
  const onText = condMean(text.x, mText, latent);
  const shift = onChat.mean.map((v, j) => v - onText.mean[j]!);
  const tplShift = onTpl.mean.map((v, j) => v - onText.mean[j]!);
  const norm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v));
  console.log(
    `${String(r + 1).padStart(4)} ${String(latent).padStart(6)}  ${cosine(cDF, u).toFixed(3).padStart(10)} ${cosine(cMF, u).toFixed(3).padStart(11)} ${(norm(cMF) / norm(cDF)).toFixed(2).padStart(13)}  ${((onText.count / text.n) * 100).toFixed(1).padStart(8)}% ${((onChat.count / chat.n) * 100).toFixed(1).padStart(7)}%  ${((onTpl.count / Math.max(1, onChat.count)) * 100).toFixed(0).padStart(19)}%  ${cosine(minusU(cMF), minusU(shift)).toFixed(3).padStart(28)}  ${onTpl.count > 0 ? cosine(minusU(cMF), minusU(tplShift)).toFixed(3).padStart(36) : "n/a"}`,
  );
});
const lead = leadingRightSingularVector(stack, d);
const c = minusU(lead.direction);
const mean = (x: Float32Array, keep: (r: number) => boolean) => {
  const m = new Float64Array(d);
  let n = 0;
  for (let r = 0; r < x.length / d; r++)
    if (keep(r)) {
      n++;
      for (let j = 0; j < d; j++) m[j]! += x[r * d + j]!;
    }
  return m.map((v) => v / n);
};
const textMean = mean(text.x, () => true);
const tplMean = mean(chat.x, (r) => isTemplate(chat.regions[r]!));
const contentMean = mean(chat.x, (r) => !isTemplate(chat.regions[r]!));
console.log(
  `leading |cos| with u ${Math.abs(cosine(lead.direction, u)).toFixed(3)} (explains ${(lead.explained * 100).toFixed(0)}%); its non-u part vs nonU(template mean − text mean): ${cosine(c, minusU(tplMean.map((v, j) => v - textMean[j]!))).toFixed(3)}, vs nonU(content mean − text mean): ${cosine(c, minusU(contentMean.map((v, j) => v - textMean[j]!))).toFixed(3)}`,
);
const chatBase = await collect(models.base, chatWithRegions(), nWindows);
const baseContent = mean(chatBase.x, (r) => !isTemplate(chat.regions[r]!)),
  baseTpl = mean(chatBase.x, (r) => isTemplate(chat.regions[r]!));
const textBase = await collect(
  models.base,
  textWindows(config.textData, models.tokenizer, rules, 99),
  Math.ceil((nWindows * 55) / config.textData.contextSize),
);
const textBaseMean = mean(textBase.x, () => true);
const rmsOf = (x: Float32Array) => {
  const n: number[] = [];
  for (let r = 0; r < x.length / d; r++) n.push(Math.hypot(...Array.from(x.subarray(r * d, (r + 1) * d))));
  n.sort((a, b) => a - b);
  return n[n.length >> 1]!;
};
const diffVec = (a: Float64Array, b: Float64Array) => a.map((v, j) => v - b[j]!);
const plantVec = diffVec(contentMean, baseContent);
const shiftC = diffVec(baseContent, textBaseMean),
  shiftT = diffVec(baseTpl, textBaseMean);
const nrm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v));
console.log(
  `median ‖x‖ text ${rmsOf(textBase.x).toFixed(2)}; plant on content (chat − base model, mean) ‖·‖ ${nrm(plantVec).toFixed(2)} cos u ${cosine(plantVec, u).toFixed(3)}; data shift content − text (base) ‖·‖ ${nrm(shiftC).toFixed(2)} (cos u ${cosine(shiftC, u).toFixed(3)}); template − text ‖·‖ ${nrm(shiftT).toFixed(2)}`,
);
console.log(`leading's non-u part vs nonU(content − text shift, base model): ${cosine(c, minusU(shiftC)).toFixed(3)}`);
const onlyDF = leadingRightSingularVector(
    stack.filter((_, i) => i % 2 === 0),
    d,
  ),
  onlyMF = leadingRightSingularVector(
    stack.filter((_, i) => i % 2 === 1),
    d,
  );
console.log(
  `DF−D changes alone: |cos| ${Math.abs(cosine(onlyDF.direction, u)).toFixed(3)}; MF−M changes alone: |cos| ${Math.abs(cosine(onlyMF.direction, u)).toFixed(3)}`,
);
models.close();
