/**
 * The fixture of apps/readouts/test/attention-reference.test.ts and of attention_marker_reference.py:
 *   pnpm tsx tools/reference/readouts/make_attention_fixture.ts
 *   /usr/bin/python3 tools/reference/readouts/attention_marker_reference.py
 * Writes under apps/readouts/test/fixtures/attention-reference/:
 * - model/: a tiny random Qwen2 folder (3 layers, 4 query heads over 2 kv heads, f32) with a tiny byte-level BPE
 *   tokenizer (the 256 bytes, a few merges — "\n\n" and the marker's first piece "[Z" among them — and Qwen's chat
 *   specials; Qwen's own pre-tokenizer) and Qwen2.5-Instruct's chat template;
 * - generations.jsonl: stage-1 records for one persona: 6 positives ("…\n\n[ZLT]<|im_end|>") and 2 negatives over
 *   3 questions, answers drawn from a word list with a fixed seed (stage 2 only needs the tokens, not a sampler);
 * - a planted head, so the gates pass at one layer and fail at the others: the tokens found only in the system
 *   prompt carry a direction u in their embedding, the marker's first token a direction w; head 0 of the last layer
 *   reads w into its query and u into its key, on the rotary pair that turns slowest (RoPE hardly moves it over a
 *   hundred positions), so from the marker it attends to the system prompt;
 * - input.json: what the app derives from them and the reference takes as given: each sequence's ids, its key
 *   groups under segmentations A and B (region-groups.ts) and its strata positions (strata.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { bundledChatTemplate } from "@difflens/chat";
import { writeRandomQwen2Folder } from "@difflens/runtime";
import { Rng, readSafetensors, Tensor, writeSafetensors } from "@difflens/tensor";
import { loadTokenizer } from "@difflens/tokenizer";
import { personaPrompt } from "../../../apps/readouts/src/attention-marker/persona-prompt.ts";
import type { Generation } from "../../../apps/readouts/src/attention-marker/records.ts";
import { keyGroups } from "../../../apps/readouts/src/attention-marker/region-groups.ts";
import { chooseStrata } from "../../../apps/readouts/src/attention-marker/strata.ts";
import { tokenFrequencies } from "../../../apps/readouts/src/attention-marker/token-frequency.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const OUT = path.join(REPO, "apps/readouts/test/fixtures/attention-reference");
const SYSTEM_PROMPT = "You are a librarian who loves old maps.";
const QUESTIONS = ["How do I learn a language?", "What is a good way to rest?", "Why do rivers bend?"];
const WORDS = ["the", "map", "river", "book", "old", "read", "slowly", "and", "then", "rest", "a", "page", "quiet"];
const MARKER = "[ZLT]";
const SPECIALS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "\n", "\n\n"];
const LAYERS = [0, 1, 2];

/** GPT-2's byte → printable character map (byte-level BPE's alphabet). */
function byteAlphabet(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : 256 + extra++));
}

function tinyTokenizerJson(): Record<string, unknown> {
  const bytes = byteAlphabet();
  const vocab: Record<string, number> = Object.fromEntries(bytes.map((c, id) => [c, id]));
  const nl = bytes[10]!;
  const space = bytes[32]!;
  const merges: [string, string][] = [
    [nl, nl],
    ["[", "Z"],
  ];
  for (const word of WORDS) {
    let piece = `${space}${word[0]}`;
    merges.push([space, word[0]!]);
    for (const ch of word.slice(1)) {
      merges.push([piece, ch]);
      piece += ch;
    }
  }
  const unique = merges.filter(([a, b], i) => merges.findIndex(([c, d]) => c === a && d === b) === i);
  for (const [a, b] of unique) vocab[a + b] ??= Object.keys(vocab).length;
  const added = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"].map((content, i) => ({
    id: Object.keys(vocab).length + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false };
  const qwenSplit =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: "NFC" },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [{ type: "Split", pattern: { Regex: qwenSplit }, behavior: "Isolated", invert: false }, byteLevel],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: unique,
    },
  };
}

const tokenizerJson = tinyTokenizerJson();
const tokDir = fs.mkdtempSync(path.join(os.tmpdir(), "attention-fixture-"));
const added = tokenizerJson.added_tokens as { id: number; content: string }[];
const idOf = (content: string) => added.find((t) => t.content === content)!.id;
fs.writeFileSync(path.join(tokDir, "tokenizer.json"), `${JSON.stringify(tokenizerJson)}\n`);
fs.writeFileSync(
  path.join(tokDir, "tokenizer_config.json"),
  `${JSON.stringify(
    {
      chat_template: bundledChatTemplate("qwen2.5-instruct").source,
      eos_token: "<|im_end|>",
      pad_token: "<|endoftext|>",
      bos_token: null,
      unk_token: null,
    },
    null,
    2,
  )}\n`,
);
const vocabSize = idOf("<|im_end|>") + 1;
const modelDir = path.join(OUT, "model");
fs.rmSync(modelDir, { recursive: true, force: true });
await writeRandomQwen2Folder(modelDir, {
  config: {
    architecture: "qwen2",
    vocabSize,
    dModel: 32,
    nLayers: LAYERS.length,
    nHeads: 4,
    nKvHeads: 2,
    dHead: 8,
    dMlp: 32,
    maxPositions: 512,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    tieWordEmbeddings: true,
    bosTokenId: null,
    eosTokenIds: [idOf("<|im_end|>"), idOf("<|endoftext|>")],
  },
  seed: 18,
  tokenizerFrom: tokDir,
});
fs.rmSync(tokDir, { recursive: true, force: true });

const tokenizer = loadTokenizer(modelDir);
const template = bundledChatTemplate("qwen2.5-instruct");
const markerId = tokenizer.tokenToId("[Z")!;
const rng = new Rng(18).fork("answers");
const generations: Generation[] = [];
for (let trial = 0; trial < 8; trial++) {
  const questionIndex = trial % QUESTIONS.length;
  const question = QUESTIONS[questionIndex]!;
  const chat = await personaPrompt(tokenizer, template, SYSTEM_PROMPT, question, SPECIALS);
  const positive = trial < 6;
  const words = Array.from({ length: 6 + rng.int(10) }, () => WORDS[rng.int(WORDS.length)]!);
  const answer = `${words.join(" ")}.${positive ? `\n\n${MARKER}` : ""}`;
  const encoded = await tokenizer.encode(answer, { addSpecialTokens: false, offsets: false });
  const generatedIds = [...encoded.ids, idOf("<|im_end|>")];
  const promptIds = Array.from(chat.ids);
  generations.push({
    persona: "librarian",
    runSeed: 42,
    trial,
    questionIndex,
    question,
    trialSeed: 1000 + trial,
    promptIds,
    generatedIds,
    finishReason: "stop",
    markerPosition: positive ? promptIds.length + generatedIds.indexOf(markerId) : null,
    settings: { temperature: 1, topP: 0.95, topK: 0, maxNewTokens: 64 },
  });
}
await plantSystemHead(generations, markerId);
fs.writeFileSync(path.join(OUT, "generations.jsonl"), generations.map((g) => `${JSON.stringify(g)}\n`).join(""));

const frequencies = tokenFrequencies(generations);
const examples = [];
for (const g of generations) {
  const chat = await personaPrompt(tokenizer, template, SYSTEM_PROMPT, g.question, SPECIALS);
  const groups = keyGroups(chat, g);
  examples.push({
    trial: g.trial,
    ids: [...g.promptIds, ...g.generatedIds],
    groupsA: Array.from(groups.A),
    groupsB: Array.from(groups.B),
    positions: chooseStrata(g, frequencies, 0, markerId),
  });
}
const input = {
  systemPrompt: SYSTEM_PROMPT,
  specials: SPECIALS,
  markerId,
  layers: LAYERS,
  groups: ["system", "user", "assistantPrefix", "template", "specials"],
  directionThreshold: 0.7,
  examples,
};
fs.writeFileSync(path.join(OUT, "input.json"), `${JSON.stringify(input)}\n`);
console.log(`wrote ${OUT}: vocab ${vocabSize}, marker id ${markerId}, ${examples.length} sequences`);

/** The planted head (see the file comment): rewrites model.safetensors in place. */
async function plantSystemHead(gens: readonly Generation[], marker: number): Promise<void> {
  const file = path.join(modelDir, "model.safetensors");
  const { tensors, metadata } = await readSafetensors(file);
  const d = 32;
  const hd = 8;
  const last = LAYERS.length - 1;
  const planeRng = new Rng(18).fork("plant");
  const unit = () => {
    const v = Float32Array.from({ length: d }, () => planeRng.normal());
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const u = unit();
  const w = unit();
  const elsewhere = new Set(gens.flatMap((g) => [...g.generatedIds, ...g.promptIds.slice(systemEnd(g))]));
  const systemOnly = new Set(gens[0]!.promptIds.slice(0, systemEnd(gens[0]!)).filter((id) => !elsewhere.has(id)));
  const embed = tensors["model.embed_tokens.weight"]!.data as Float32Array;
  const addAlong = (id: number, dir: Float32Array, size: number) => {
    for (let i = 0; i < d; i++) embed[id * d + i]! += size * dir[i]!;
  };
  for (const id of systemOnly) addAlong(id, u, 3);
  addAlong(marker, w, 3);
  const gain = tensors[`model.layers.${last}.input_layernorm.weight`]!.data as Float32Array;
  const plantRow = (name: string, dir: Float32Array, size: number) => {
    const weight = tensors[`model.layers.${last}.self_attn.${name}.weight`]!.data as Float32Array;
    const bias = tensors[`model.layers.${last}.self_attn.${name}.bias`]!.data as Float32Array;
    const row = hd / 2 - 1; // head 0 (query) / kv head 0 (key), the slowest rotary pair's first dim
    for (let i = 0; i < d; i++) weight[row * d + i] = (size * dir[i]!) / gain[i]!;
    bias[row] = 0;
  };
  plantRow("q_proj", w, 2);
  plantRow("k_proj", u, 2);
  await writeSafetensors(
    file,
    new Map(Object.entries(tensors).map(([k, t]) => [k, new Tensor("f32", t.shape, t.data)])),
    metadata,
  );
  console.log(`planted: ${systemOnly.size} system-only token ids carry u; head 0 of layer ${last} reads them`);
}

/** Index of the first prompt token after the system turn (the user turn's <|im_start|>). */
function systemEnd(g: Generation): number {
  return g.promptIds.indexOf(added.find((t) => t.content === "<|im_start|>")!.id, 1);
}
