// What a user's project does with the installed tarballs: one real call into every package. The pack-install test
// typechecks this file against the packages' .d.ts, compiles it and runs it with plain node (no tsx, no source
// condition). Usage: node consumer.js TOKENIZER_DIR PARQUET_FILE OUT_DIR; prints one JSON line of facts.
import assert from "node:assert/strict";
import { join } from "node:path";
import { openRunFolder, writeJsonLines } from "@difflens/app-kit";
import { bundledChatTemplate, SystemConditions, tokenizeChat } from "@difflens/chat";
import { didYouMean } from "@difflens/common";
import { ParquetDataset, textRows } from "@difflens/data";
import { lines, saveFigure } from "@difflens/plot";
import { createRandomQwen2 } from "@difflens/runtime";
import { Sae } from "@difflens/sae";
import { mean } from "@difflens/stats";
import { gemm, nativeAvailable, Tensor, useBackend } from "@difflens/tensor";
import { loadTokenizer } from "@difflens/tokenizer";
import { init } from "@difflens/wandb";

const [tokenizerDir, parquetFile, outDir] = process.argv.slice(2);
if (!tokenizerDir || !parquetFile || !outDir) throw new Error("usage: consumer TOKENIZER_DIR PARQUET_FILE OUT_DIR");

assert.equal(mean([1, 2, 3]), 2);
assert.match(didYouMean("dsea", ["dSae", "k"]), /dSae/);
writeJsonLines(join(openRunFolder(join(outDir, "run")), "rows.jsonl"), [{ a: 1 }]);

useBackend("auto");
const native = nativeAvailable();
const row = new Tensor("f32", [1, 2], Float32Array.of(1, 2));
assert.deepEqual([...gemm(row, new Tensor("f32", [2, 1], Float32Array.of(3, 4))).data], [11]);

const tokenizer = loadTokenizer(tokenizerDir);
const { ids } = await tokenizer.encode("Hello world", { addSpecialTokens: false });
assert.ok(ids.length > 0);
const template = bundledChatTemplate("qwen2.5-instruct"); // read from the package's templates/ at run time
const chat = await tokenizeChat(tokenizer, template, [{ role: "user", content: "2+2?" }], {
  condition: SystemConditions.modelDefault(),
  addGenerationPrompt: true,
});
assert.ok(chat.ids.length > ids.length);

const config = { vocabSize: 50, dModel: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 24 };
const model = createRandomQwen2({ config, seed: 3 });
assert.deepEqual((await model.forward([1, 2, 3])).shape, [1, 3, 50]);

const weights = { wEnc: new Float32Array(6).fill(1), bEnc: new Float32Array(3), wDec: new Float32Array(6).fill(1) };
const sae = new Sae({ dIn: 2, dSae: 3, activation: { kind: "topk", k: 1 } }, { ...weights, bDec: new Float32Array(2) });
assert.deepEqual(sae.forward(new Tensor("f32", [1, 2], Float32Array.of(1, 1))).shape, [1, 2]); // [batch, dIn]

const dataset = await ParquetDataset.open([parquetFile]);
for await (const text of textRows(dataset, "text", { shuffle: false, seed: 0 })) {
  assert.equal(typeof text, "string");
  break;
}

const figure = lines({ title: "installed", x: [0, 1, 2], series: [{ name: "a", y: [0, 1, 4] }] });
await saveFigure(figure, join(outDir, "figure"));

const run = init({ project: "pack-install", mode: "offline", dir: join(outDir, "wandb") }, () => {});
run.log({ loss: 1 }, 0);
await run.finish({ exitCode: 0 });

console.log(JSON.stringify({ native: native.ok, nativeReason: native.reason ?? null, wandbFolder: run.folder }));
