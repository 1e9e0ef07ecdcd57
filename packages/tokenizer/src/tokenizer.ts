import type { Encoding as NativeEncoding, Tokenizer as NativeTokenizer } from "tokenizers";
import native from "tokenizers";
import { type BatchEncodeOptions, padEncodings } from "./encode-batch.ts";
import { TokenizerError } from "./errors.ts";
import {
  type AddedTokenInfo,
  type GenerationTokenIds,
  knownIdMask,
  readAddedTokens,
  resolveGenerationTokenIds,
  resolveSpecialTokenNames,
  type SpecialTokenNames,
} from "./special-tokens.ts";
import type { TokenBatch } from "./token-batch.ts";
import {
  type LoadTokenizerOptions,
  parseJsonSource,
  readTokenizerFolder,
  resolveModelFolder,
  type TokenizerSources,
} from "./tokenizer-files.ts";
import { codePointOffsetsToUtf16 } from "./utf16-offsets.ts";

/** Token ids of one text, with where each token came from. */
export interface TokenEncoding {
  /** Token ids. // [seq] */
  ids: Int32Array;
  /**
   * [start, end) of each token as UTF-16 indices into the JavaScript string that was encoded (`text.slice(start,
   * end)`). Tokens that split one character (byte-level pieces of an emoji) share that character's span. A
   * character the normalizer folded away (a combining mark composed by NFC) may lie inside no token's span.
   * Empty when `offsets: false` was asked for. // [seq]
   */
  offsets: Array<[number, number]>;
  /** 1 where the post-processor added the token (BOS/EOS of `addSpecialTokens`), else 0. // [seq] */
  specialTokensMask: Uint8Array;
}

/** Options of `Tokenizer.encode`. */
export interface EncodeOptions {
  /** Let the post-processor add its special tokens (BOS/EOS); transformers' default is true. Qwen adds none. */
  addSpecialTokens?: boolean;
  /** Compute UTF-16 offsets (default true); turn off for bulk tokenization that only needs ids. */
  offsets?: boolean;
  /** Keep at most this many tokens (after special tokens are added, as transformers truncates). */
  maxLength?: number;
  /** Which end truncation removes tokens from. Default "right". */
  truncationSide?: "left" | "right";
}

/** Options of `Tokenizer.decode`. */
export interface DecodeOptions {
  /** Drop tokens marked special (`<|im_start|>`, `<|endoftext|>`). Default false. */
  skipSpecialTokens?: boolean;
}

const DEFAULT_FILES = {
  tokenizerJson: "tokenizer.json",
  tokenizerConfig: "tokenizer_config.json",
  specialTokensMap: "special_tokens_map.json",
  generationConfig: "generation_config.json",
} as const;

/** A Hugging Face fast tokenizer (the Rust `tokenizers` library) with UTF-16 offsets and HF special-token rules. */
export class Tokenizer {
  /** Where the files came from (folder path or "in-memory"). */
  readonly origin: string;
  /** Tokens in the vocabulary plus added tokens (transformers' `len(tokenizer)`); = maxTokenId + 1 without holes. */
  readonly vocabSize: number;
  /** The highest id any token has. A model's embedding may have more rows (Qwen pads to 151936). */
  readonly maxTokenId: number;
  /** Every entry of tokenizer.json's `added_tokens`. */
  readonly addedTokens: readonly AddedTokenInfo[];
  /** The added tokens flagged special (control tokens such as `<|im_start|>`). */
  readonly specialTokens: readonly AddedTokenInfo[];
  /** bos/eos/pad/unk as strings, from tokenizer_config.json overridden by special_tokens_map.json. */
  readonly specialTokenNames: Readonly<SpecialTokenNames>;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  readonly unkTokenId: number | null;
  /** From generation_config.json when present: the ids generation stops on (may be several). */
  readonly generation: Readonly<GenerationTokenIds>;
  /** The parsed tokenizer_config.json (chat templates live here), or null. */
  readonly tokenizerConfig: Readonly<Record<string, unknown>> | null;

  readonly #native: NativeTokenizer;
  readonly #known: Uint8Array;
  readonly #specialIds: Set<number>;
  #addedBySpecials: number | null = null;

  private constructor(sources: TokenizerSources) {
    const origin = sources.origin ?? "in-memory";
    const file = (name: string) => (origin === "in-memory" ? `${name} (in-memory)` : `${origin}/${name}`);
    const tokenizerFile = file(DEFAULT_FILES.tokenizerJson);
    const json = parseJsonSource(sources.tokenizerJson, tokenizerFile);
    const text = typeof sources.tokenizerJson === "string" ? sources.tokenizerJson : JSON.stringify(json);
    try {
      this.#native = native.Tokenizer.fromString(text);
    } catch (cause) {
      throw new TokenizerError(
        "TOKENIZER_REJECTED",
        "the tokenizers library could not build a tokenizer from this file",
        { file: tokenizerFile, got: String((cause as Error)?.message ?? cause) },
        { cause },
      );
    }
    const optionalJson = (v: string | Record<string, unknown> | null | undefined, name: string) =>
      v === null || v === undefined ? null : parseJsonSource(v, file(name));
    this.origin = origin;
    this.tokenizerConfig = optionalJson(sources.tokenizerConfig, DEFAULT_FILES.tokenizerConfig);
    const specialMap = optionalJson(sources.specialTokensMap, DEFAULT_FILES.specialTokensMap);
    const generationConfig = optionalJson(sources.generationConfig, DEFAULT_FILES.generationConfig);

    this.addedTokens = Object.freeze(readAddedTokens(json, tokenizerFile));
    this.specialTokens = Object.freeze(this.addedTokens.filter((t) => t.special));
    this.#specialIds = new Set(this.specialTokens.map((t) => t.id));
    this.#known = knownIdMask(json, [...this.addedTokens], tokenizerFile);
    this.vocabSize = this.#native.getVocabSize(true);
    this.maxTokenId = this.#known.length - 1;
    this.specialTokenNames = Object.freeze(
      resolveSpecialTokenNames(this.tokenizerConfig as Record<string, unknown> | null, specialMap, {
        tokenizerConfig: file(DEFAULT_FILES.tokenizerConfig),
        specialTokensMap: file(DEFAULT_FILES.specialTokensMap),
      }),
    );
    const idOf = (name: keyof SpecialTokenNames): number | null => {
      const token = this.specialTokenNames[name];
      if (typeof token !== "string") return null;
      const id = this.#native.tokenToId(token);
      if (id === null) {
        throw new TokenizerError("UNKNOWN_SPECIAL_TOKEN", `${name}_token is not in the vocabulary`, {
          file: file(DEFAULT_FILES.tokenizerConfig),
          field: `${name}_token`,
          got: JSON.stringify(token),
        });
      }
      return id;
    };
    this.bosTokenId = idOf("bos");
    this.eosTokenId = idOf("eos");
    this.padTokenId = idOf("pad");
    this.unkTokenId = idOf("unk");
    this.generation = Object.freeze(resolveGenerationTokenIds(generationConfig, file(DEFAULT_FILES.generationConfig)));
  }

  /** Builds a tokenizer from file contents already in memory (text or parsed objects). */
  static fromSources(sources: TokenizerSources): Tokenizer {
    return new Tokenizer(sources);
  }

  /** Loads a model folder, a Hub repo folder (`models--ORG--NAME`) or a repo id from the Hub cache. */
  static load(path: string, options: LoadTokenizerOptions = {}): Tokenizer {
    return new Tokenizer(readTokenizerFolder(resolveModelFolder(path, options)));
  }

  /** Encodes one text. Async because the binding runs the Rust encoder off the main thread. */
  async encode(text: string, options: EncodeOptions = {}): Promise<TokenEncoding> {
    const encoding = await this.#encodeNative(text, options);
    return toTokenEncoding(text, encoding, options.offsets ?? true, options.addSpecialTokens ?? true);
  }

  /**
   * Encodes many texts in one call to the binding's batch path (parallel in Rust). Rows are unpadded; use
   * `encodeBatch` for a padded [batch, seq] block.
   */
  async encodeMany(texts: readonly string[], options: EncodeOptions = {}): Promise<TokenEncoding[]> {
    if (options.maxLength !== undefined) {
      return Promise.all(texts.map((t) => this.encode(t, options)));
    }
    const encodings = await this.#native.encodeBatch([...texts], {
      addSpecialTokens: options.addSpecialTokens ?? true,
    });
    const withOffsets = options.offsets ?? true;
    return encodings.map((e, i) =>
      toTokenEncoding(texts[i] as string, e, withOffsets, options.addSpecialTokens ?? true),
    );
  }

  /** Encodes, truncates and pads texts into one `TokenBatch` ([batchSize, seqLen] ids and attention mask, offsets). */
  async encodeBatch(
    texts: readonly string[],
    options: BatchEncodeOptions,
  ): Promise<TokenBatch & { readonly offsets: Array<Array<[number, number]>> }> {
    const encodeOptions: EncodeOptions = { offsets: options.offsets ?? true };
    if (options.addSpecialTokens !== undefined) encodeOptions.addSpecialTokens = options.addSpecialTokens;
    if (options.truncation === true) {
      if (options.maxLength === undefined) {
        throw new TokenizerError("INVALID_OPTION", "truncation needs maxLength", {
          field: "maxLength",
          expected: "a positive integer",
          got: "undefined",
        });
      }
      encodeOptions.maxLength = options.maxLength;
      if (options.truncationSide !== undefined) encodeOptions.truncationSide = options.truncationSide;
    }
    const rows = await this.encodeMany(texts, encodeOptions);
    const padId = options.padTokenId ?? this.padTokenId;
    if (padId === null) {
      throw new TokenizerError("INVALID_OPTION", "this tokenizer has no pad token", {
        file: this.origin,
        field: "pad_token",
        fix: "pass padTokenId (e.g. the eos id); padded positions are masked out anyway",
      });
    }
    return padEncodings(rows, { ...options, padTokenId: padId });
  }

  /** Decodes ids to text. Ids the tokenizer does not know throw TOKEN_ID_OUT_OF_RANGE (the binding would drop them). */
  async decode(ids: ArrayLike<number>, options: DecodeOptions = {}): Promise<string> {
    return this.#native.decode(this.#checkedIds(ids), options.skipSpecialTokens ?? false);
  }

  /** Decodes many id sequences in one call. */
  async decodeMany(rows: ReadonlyArray<ArrayLike<number>>, options: DecodeOptions = {}): Promise<string[]> {
    return this.#native.decodeBatch(
      rows.map((r) => this.#checkedIds(r)),
      options.skipSpecialTokens ?? false,
    );
  }

  /** The id of a token string (vocabulary or added token), or null. */
  tokenToId(token: string): number | null {
    return this.#native.tokenToId(token) ?? null;
  }

  /** The token string of an id (byte-level form for BPE, e.g. "Ġworld"), or null when the id is unknown. */
  idToToken(id: number): string | null {
    if (!this.#isKnown(id)) return null;
    return this.#native.idToToken(id) ?? null;
  }

  /** Token strings of many ids; throws on unknown ids. */
  idsToTokens(ids: ArrayLike<number>): string[] {
    return this.#checkedIds(ids).map((id) => this.#native.idToToken(id) as string);
  }

  /** Whether an id is one of the special added tokens. */
  isSpecialId(id: number): boolean {
    return this.#specialIds.has(id);
  }

  /** The text as the tokenizer's normalizer sees it (NFC for Qwen); offsets still index the original text. */
  normalize(text: string): string {
    const normalizer = this.#native.getNormalizer();
    return normalizer ? normalizer.normalizeString(text) : text;
  }

  async #encodeNative(text: string, options: EncodeOptions): Promise<NativeEncoding> {
    const addSpecialTokens = options.addSpecialTokens ?? true;
    if (options.maxLength === undefined) return this.#native.encode(text, null, { addSpecialTokens });
    if (!Number.isInteger(options.maxLength) || options.maxLength < 1) {
      throw new TokenizerError("INVALID_OPTION", "maxLength must be a positive integer", {
        field: "maxLength",
        got: String(options.maxLength),
      });
    }
    // transformers truncates before the post-processor adds its tokens, keeping room for them.
    const reserved = addSpecialTokens ? await this.#tokensAddedByPostProcessor() : 0;
    const raw = await this.#native.encode(text, null, { addSpecialTokens: false });
    const keep = Math.max(0, options.maxLength - reserved);
    if (raw.getLength() > keep) raw.truncate(keep, 0, options.truncationSide === "left" ? "left" : "right");
    return addSpecialTokens ? this.#native.postProcess(raw, null, true) : raw;
  }

  async #tokensAddedByPostProcessor(): Promise<number> {
    if (this.#addedBySpecials === null) {
      const empty = await this.#native.encode("", null, { addSpecialTokens: true });
      this.#addedBySpecials = empty.getLength();
    }
    return this.#addedBySpecials;
  }

  #isKnown(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.#known.length && this.#known[id] === 1;
  }

  #checkedIds(ids: ArrayLike<number>): number[] {
    const out = Array.from(ids);
    for (let i = 0; i < out.length; i++) {
      const id = out[i] as number;
      if (!this.#isKnown(id)) {
        throw new TokenizerError("TOKEN_ID_OUT_OF_RANGE", `token id at index ${i} is not in the vocabulary`, {
          file: this.origin,
          expected: `an id of this tokenizer (0 ≤ id < ${this.#known.length}, no holes)`,
          got: String(id),
          fix: "ids past the tokenizer's vocabulary (padding rows of a model's embedding) cannot be decoded",
        });
      }
    }
    return out;
  }
}

function toTokenEncoding(
  text: string,
  encoding: NativeEncoding,
  withOffsets: boolean,
  addedSpecials: boolean,
): TokenEncoding {
  const ids = Int32Array.from(encoding.getIds());
  return {
    ids,
    offsets: withOffsets ? codePointOffsetsToUtf16(text, encoding.getOffsets()) : [],
    // Each getter copies a whole array across N-API; without added specials the mask is all zeros anyway.
    specialTokensMask: addedSpecials ? Uint8Array.from(encoding.getSpecialTokensMask()) : new Uint8Array(ids.length),
  };
}

/** Loads a tokenizer from a model folder, a Hub repo folder or a cached repo id. See `Tokenizer.load`. */
export function loadTokenizer(path: string, options: LoadTokenizerOptions = {}): Tokenizer {
  return Tokenizer.load(path, options);
}

/** Builds a tokenizer from in-memory file contents (tests, bundles). See `Tokenizer.fromSources`. */
export function tokenizerFromSources(sources: TokenizerSources): Tokenizer {
  return Tokenizer.fromSources(sources);
}
