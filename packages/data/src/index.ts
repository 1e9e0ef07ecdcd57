// @difflens/data: Parquet datasets, token streams, masks and activation stores (no model inside).
export { DataError, type DataErrorCode } from "./errors.ts";
export { ParquetFile, type RowGroupRef } from "./parquet/parquet-file.ts";
export { ParquetDataset, type DatasetOrder, type RowGroupBatch } from "./parquet/dataset.ts";
export { textRows, tokenRows, recordRows } from "./parquet/columns.ts";
export { batchWindows, type BatchWindowsOptions, type TokenWindow, type TextEncoder } from "./tokens/token-window.ts";
/** The one token-batch type, declared in @difflens/tokenizer (what `batchWindows` yields). */
export type { TokenBatch } from "@difflens/tokenizer";
export { packTextWindows, type PackTextOptions } from "./tokens/pack-text.ts";
export { chatWindows, type ChatWindow, type ChatWindowOptions, type TokenizedChat } from "./tokens/chat-windows.ts";
export { applyMaskRules, outlierNormMask, DEFAULT_MASK_RULES, type MaskRules } from "./tokens/mask.ts";
export { ActivationStoreWriter } from "./store/store-writer.ts";
export { ActivationStore, type StoreReadOptions } from "./store/store-reader.ts";
export { ShuffleBuffer } from "./store/shuffle-buffer.ts";
export { STORE_FORMAT, STORE_VERSION, type StoreManifest, type StoreProvenance } from "./store/manifest.ts";
export { alpacaChats, regionLabels, type AlpacaChatOptions } from "./chat/alpaca-chats.ts";
