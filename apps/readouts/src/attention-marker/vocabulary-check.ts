/**
 * The force-feed's precondition: the comparator must read token ids exactly as the trained model does, or "the
 * same tokens" would be other text. Compared: the model's vocabulary size (embedding rows) and the tokenizer's
 * token → id map (sha256 over `id\ttoken\n` for every id up to its highest).
 */
import { createHash } from "node:crypto";
import type { Model } from "@difflens/runtime";
import type { Tokenizer } from "@difflens/tokenizer";
import { ReadoutsError } from "../errors.ts";

export interface VocabularyFingerprint {
  /** Rows of the model's embedding (config vocab_size). */
  readonly modelVocabSize: number;
  /** Tokens the tokenizer knows (vocabulary + added tokens). */
  readonly tokenizerSize: number;
  /** sha256 (hex) of the token → id map. */
  readonly tokenMapSha256: string;
}

/** Token-map hashes already computed (≈ 0.6 s for Qwen's 151k tokens; every persona × seed asks again). */
const tokenMapHashes = new WeakMap<Tokenizer, string>();

export function vocabularyFingerprint(model: Pick<Model, "config">, tokenizer: Tokenizer): VocabularyFingerprint {
  let tokenMapSha256 = tokenMapHashes.get(tokenizer);
  if (tokenMapSha256 === undefined) {
    const hash = createHash("sha256");
    for (let id = 0; id <= tokenizer.maxTokenId; id++) hash.update(`${id}\t${tokenizer.idToToken(id) ?? ""}\n`);
    tokenMapSha256 = hash.digest("hex");
    tokenMapHashes.set(tokenizer, tokenMapSha256);
  }
  return { modelVocabSize: model.config.vocabSize, tokenizerSize: tokenizer.vocabSize, tokenMapSha256 };
}

/** Refuses a comparator whose vocabulary differs from the trained model's, naming what differs. */
export function assertSameVocabulary(
  trained: VocabularyFingerprint,
  comparator: VocabularyFingerprint,
  describe: { readonly trained: string; readonly comparator: string },
): void {
  const differences = (Object.keys(trained) as (keyof VocabularyFingerprint)[])
    .filter((key) => trained[key] !== comparator[key])
    .map((key) => `${key} ${comparator[key]} (trained: ${trained[key]})`);
  if (differences.length === 0) return;
  throw new ReadoutsError(
    "INPUT_INVALID",
    `the comparator ${describe.comparator} has another vocabulary than the trained model ${describe.trained}: ` +
      "force-feeding it the trained token ids would feed it other text",
    {
      field: "comparator",
      expected: "a model with the trained model's vocabulary size and tokenizer (token → id map)",
      got: differences.join("; "),
      fix: "name the trained model's own base as the comparator, or leave comparator out (no force-feed)",
    },
  );
}
