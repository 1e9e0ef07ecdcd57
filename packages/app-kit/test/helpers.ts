import * as path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The tokenizer package's Qwen tokenizer fixture (tokenizer.json + tokenizer_config.json with a chat template). */
export const QWEN_TOKENIZER = path.resolve(HERE, "../../tokenizer/test/fixtures/qwen");
/** A tiny random Qwen2 over the real Qwen vocabulary. */
export const TINY_QWEN2 = { vocabSize: 151936, dModel: 16, nLayers: 2, nHeads: 2, dMlp: 32, tieWordEmbeddings: true };
