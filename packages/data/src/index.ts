// @difflens/data: Parquet datasets, token streams, masks and activation stores (no model inside).

/** The one token-batch type, declared in @difflens/tokenizer (what `batchWindows` yields). */
export type { TokenBatch } from "@difflens/tokenizer";
export { type AlpacaChatOptions, alpacaChats, regionLabels } from "./chat/alpaca-chats.ts";
export { DataError, type DataErrorCode } from "./errors.ts";
export { recordRows, textRows, tokenRows } from "./parquet/columns.ts";
export { type DatasetOrder, ParquetDataset, type RowGroupBatch } from "./parquet/dataset.ts";
export { ParquetFile, type RowGroupRef } from "./parquet/parquet-file.ts";
export { STORE_FORMAT, STORE_VERSION, type StoreManifest, type StoreProvenance } from "./store/manifest.ts";
export { ShuffleBuffer } from "./store/shuffle-buffer.ts";
export { ActivationStore, type StoreReadOptions } from "./store/store-reader.ts";
export { ActivationStoreWriter } from "./store/store-writer.ts";
export { type ChatWindow, type ChatWindowOptions, chatWindows, type TokenizedChat } from "./tokens/chat-windows.ts";
export { applyMaskRules, DEFAULT_MASK_RULES, type MaskRules, outlierNormMask } from "./tokens/mask.ts";
export { type PackTextOptions, packTextWindows } from "./tokens/pack-text.ts";
export { type BatchWindowsOptions, batchWindows, type TextEncoder, type TokenWindow } from "./tokens/token-window.ts";
