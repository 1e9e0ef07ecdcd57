// @difflens/tokenizer: Hugging Face tokenizers behind a typed API with exact UTF-16 offsets.

export type { BatchEncodeOptions } from "./encode-batch.ts";
export { padEncodings } from "./encode-batch.ts";
export type { TokenizerErrorCode, TokenizerErrorFacts } from "./errors.ts";
export { TokenizerError } from "./errors.ts";
export { resolveHubSnapshot } from "./hub-cache.ts";
export { DEFAULT_BATCH_ENCODE_OPTIONS, resolveBatchEncodeOptions } from "./resolve-options.ts";
export type { AddedTokenInfo, GenerationTokenIds, SpecialTokenNames } from "./special-tokens.ts";
export type { PadTokenRowsOptions, TokenBatch } from "./token-batch.ts";
export { padTokenRows } from "./token-batch.ts";
export type { DecodeOptions, EncodeOptions, TokenEncoding } from "./tokenizer.ts";
export { loadTokenizer, Tokenizer, tokenizerFromSources } from "./tokenizer.ts";
export type { LoadTokenizerOptions, TokenizerSources } from "./tokenizer-files.ts";
export { codePointOffsetsToUtf16, codePointToUtf16Table } from "./utf16-offsets.ts";
