import { TokenizerError } from "./errors.ts";

/** One entry of `added_tokens` in tokenizer.json. */
export interface AddedTokenInfo {
  id: number;
  content: string;
  /** True for control tokens (`<|im_start|>`); false for added tokens that are ordinary text (`<think>`). */
  special: boolean;
}

/** The special-token names a tokenizer declares, as Hugging Face resolves them (strings, not ids). */
export interface SpecialTokenNames {
  bos: string | null;
  eos: string | null;
  pad: string | null;
  unk: string | null;
  additional: string[];
}

/** What `generation_config.json` says about stopping and padding; it can list several end ids. */
export interface GenerationTokenIds {
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
}

type JsonObject = Record<string, unknown>;

const NAME_FIELDS = [
  ["bos", "bos_token"],
  ["eos", "eos_token"],
  ["pad", "pad_token"],
  ["unk", "unk_token"],
] as const;

/**
 * Resolves bos/eos/pad/unk the way transformers' `from_pretrained` does: `tokenizer_config.json` first, then every
 * key present in `special_tokens_map.json` replaces it. A value is a string, an AddedToken-like object with
 * `content`, or null (Qwen declares `bos_token: null`: it has no BOS).
 */
export function resolveSpecialTokenNames(
  tokenizerConfig: JsonObject | null,
  specialTokensMap: JsonObject | null,
  files: { tokenizerConfig: string; specialTokensMap: string },
): SpecialTokenNames {
  const names: SpecialTokenNames = { bos: null, eos: null, pad: null, unk: null, additional: [] };
  for (const [source, file] of [
    [tokenizerConfig, files.tokenizerConfig],
    [specialTokensMap, files.specialTokensMap],
  ] as const) {
    if (source === null) continue;
    for (const [key, field] of NAME_FIELDS) {
      if (field in source) names[key] = tokenContent(source[field], file, field);
    }
    if ("additional_special_tokens" in source) {
      const list = source["additional_special_tokens"];
      if (!Array.isArray(list)) {
        throw new TokenizerError("TOKENIZER_FILE_MALFORMED", "additional_special_tokens is not a list", {
          file,
          field: "additional_special_tokens",
          expected: "an array of strings or {content} objects",
          got: typeof list,
        });
      }
      names.additional = list.map((v, i) => tokenContent(v, file, `additional_special_tokens[${i}]`) ?? "");
    }
  }
  return names;
}

function tokenContent(value: unknown, file: string, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "object" && typeof (value as JsonObject)["content"] === "string") {
    return (value as JsonObject)["content"] as string;
  }
  throw new TokenizerError("TOKENIZER_FILE_MALFORMED", "a special token must be a string, {content: string} or null", {
    file,
    field,
    expected: "string | {content: string} | null",
    got: JSON.stringify(value)?.slice(0, 80) ?? String(value),
  });
}

/** Reads `generation_config.json`; `eos_token_id` may be one id or a list (Qwen2.5-Instruct: [151645, 151643]). */
export function resolveGenerationTokenIds(generationConfig: JsonObject | null, file: string): GenerationTokenIds {
  const out: GenerationTokenIds = { bosTokenId: null, eosTokenIds: [], padTokenId: null };
  if (generationConfig === null) return out;
  out.bosTokenId = optionalId(generationConfig["bos_token_id"], file, "bos_token_id");
  const eos = generationConfig["eos_token_id"];
  if (Array.isArray(eos)) {
    out.eosTokenIds = eos.map((v, i) => optionalId(v, file, `eos_token_id[${i}]`) ?? -1).filter((v) => v >= 0);
  } else {
    const one = optionalId(eos, file, "eos_token_id");
    if (one !== null) out.eosTokenIds = [one];
  }
  out.padTokenId = optionalId(generationConfig["pad_token_id"], file, "pad_token_id");
  return out;
}

function optionalId(value: unknown, file: string, field: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  throw new TokenizerError("TOKENIZER_FILE_MALFORMED", "a token id must be a non-negative integer", {
    file,
    field,
    expected: "non-negative integer",
    got: JSON.stringify(value),
  });
}

/** `added_tokens` of a parsed tokenizer.json, validated. */
export function readAddedTokens(tokenizerJson: JsonObject, file: string): AddedTokenInfo[] {
  const raw = tokenizerJson["added_tokens"] ?? [];
  if (!Array.isArray(raw)) {
    throw new TokenizerError("TOKENIZER_FILE_MALFORMED", "added_tokens is not a list", {
      file,
      field: "added_tokens",
      expected: "array",
      got: typeof raw,
    });
  }
  return raw.map((entry: unknown, i: number) => {
    const e = entry as JsonObject;
    if (typeof e?.["id"] !== "number" || typeof e["content"] !== "string") {
      throw new TokenizerError("TOKENIZER_FILE_MALFORMED", "an added token needs a numeric id and a string content", {
        file,
        field: `added_tokens[${i}]`,
        expected: "{id: number, content: string, special: boolean}",
        got: JSON.stringify(entry)?.slice(0, 80),
      });
    }
    return { id: e["id"], content: e["content"], special: e["special"] === true };
  });
}

/**
 * Marks every id the tokenizer can decode: the model vocabulary (an object for BPE/WordPiece/WordLevel, a list of
 * [piece, score] for Unigram) plus the added tokens. Vocabularies can have holes, so a range check is not enough.
 */
export function knownIdMask(tokenizerJson: JsonObject, added: AddedTokenInfo[], file: string): Uint8Array {
  const model = tokenizerJson["model"] as JsonObject | undefined;
  const vocab = model?.["vocab"];
  const ids: number[] = [];
  if (Array.isArray(vocab)) {
    for (let i = 0; i < vocab.length; i++) ids.push(i);
  } else if (vocab !== null && typeof vocab === "object") {
    for (const v of Object.values(vocab as JsonObject)) if (typeof v === "number") ids.push(v);
  } else {
    throw new TokenizerError("TOKENIZER_FILE_MALFORMED", "model.vocab is missing", {
      file,
      field: "model.vocab",
      expected: "an object (token → id) or a list of [piece, score]",
      got: vocab === undefined ? "nothing" : typeof vocab,
    });
  }
  for (const t of added) ids.push(t.id);
  let max = -1;
  for (const id of ids) if (id > max) max = id;
  const mask = new Uint8Array(max + 1);
  for (const id of ids) if (id >= 0) mask[id] = 1;
  return mask;
}
