/**
 * pnpm bench:harvest — activations per second harvested from the Qwen1.5-0.5B-shaped random model (vocab cut to
 * 32768) at blocks.13.hook_resid_pre (runToHook: blocks 14–23 and the unembedding are never computed), on 4×256-token
 * windows with ~10 % of positions masked, and the fraction of a full forward pass that costs (measured alternately in
 * the same run). Last line: harvest_tokens_per_s=<median>.
 *
 * Token windows come from the text fixture (datasets/pile-tiny) through @difflens/data with the real Qwen
 * tokenizer; ids are folded into the cut vocabulary (id mod 32768) — it only changes which random embedding rows
 * are read, not the cost. Masks are the data layer's (separators excluded), so masked rows are dropped as in training.
 * Options: --rounds N (default 3), --backend auto|native|js|webgpu
 * (else DIFFLENS_BACKEND, else auto).
 */
import { parseArgs } from "node:util";
import { batchWindows, ParquetDataset, packTextWindows, type TokenBatch, textRows } from "@difflens/data";
import { createRandomQwen2, harvest } from "@difflens/runtime";
import { selectBackend } from "@difflens/tensor";
import { loadTokenizer } from "@difflens/tokenizer";

const { values } = parseArgs({ options: { rounds: { type: "string" }, backend: { type: "string" } } });
const rounds = Number(values.rounds ?? 3);
const backend = await selectBackend(values.backend); // before the model: its weights go to this device
const model = createRandomQwen2({
  config: {
    vocabSize: 32768,
    dModel: 1024,
    nLayers: 24,
    nHeads: 16,
    nKvHeads: 16,
    dMlp: 2816,
    ropeTheta: 1_000_000,
    tieWordEmbeddings: true,
  },
  seed: 1234,
});
const HOOK = "blocks.13.hook_resid_pre";
const ENDOFTEXT = 151643;
const tokenizer = loadTokenizer("packages/tokenizer/test/fixtures/qwen");
const pile = await ParquetDataset.open(["datasets/pile-tiny/train.parquet"]);
const windows = packTextWindows(textRows(pile, "text", { shuffle: false, seed: 0 }), tokenizer, {
  contextSize: 256,
  separatorId: ENDOFTEXT,
  maskRules: { excludeIds: [ENDOFTEXT], excludeFirstPosition: false },
});
let batch: TokenBatch | undefined;
for await (const b of batchWindows(windows, 4)) {
  batch = { ...b, ids: b.ids.map((id) => id % 32768) };
  break;
}
if (!batch) throw new Error("bench:harvest: the text fixture gave no 4×256 batch");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

console.log(`backend=${backend.name} threads=${backend.getThreads()} hook=${HOOK} batch=4x256`);
const rates: number[] = [];
const fractions: number[] = [];
for (let i = 0; i < rounds; i++) {
  let t = performance.now();
  let rows = 0;
  for await (const acts of harvest(model, HOOK, [batch])) rows += acts.shape[0]!;
  const harvestS = (performance.now() - t) / 1000;
  t = performance.now();
  await model.forward(batch);
  const forwardS = (performance.now() - t) / 1000;
  rates.push(rows / harvestS);
  fractions.push(harvestS / forwardS);
  console.log(
    `round ${i + 1}: ${rows} activations in ${harvestS.toFixed(2)} s (${(rows / harvestS).toFixed(1)}/s), full forward ${forwardS.toFixed(2)} s, fraction ${(harvestS / forwardS).toFixed(3)}`,
  );
}
console.log(`harvest_fraction_of_forward=${median(fractions).toFixed(3)}`);
console.log(`harvest_tokens_per_s=${median(rates).toFixed(1)}`);
