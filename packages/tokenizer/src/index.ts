// @difflens/tokenizer: Hugging Face tokenizers behind a typed API with exact UTF-16 offsets.
export { Tokenizer, loadTokenizer, tokenizerFromSources } from "./tokenizer.ts";
export type { TokenEncoding, EncodeOptions, DecodeOptions } from "./tokenizer.ts";
export { padTokenRows } from "./token-batch.ts";
export type { TokenBatch, PadTokenRowsOptions } from "./token-batch.ts";
export { padEncodings } from "./encode-batch.ts";
export type { BatchEncodeOptions } from "./encode-batch.ts";
export { TokenizerError } from "./errors.ts";
export type { TokenizerErrorCode, TokenizerErrorFacts } from "./errors.ts";
export type { AddedTokenInfo, SpecialTokenNames, GenerationTokenIds } from "./special-tokens.ts";
export type { TokenizerSources, LoadTokenizerOptions } from "./tokenizer-files.ts";
export { resolveHubSnapshot } from "./hub-cache.ts";
export { codePointToUtf16Table, codePointOffsetsToUtf16 } from "./utf16-offsets.ts";
export { DEFAULT_BATCH_ENCODE_OPTIONS, resolveBatchEncodeOptions } from "./resolve-options.ts";
