import { DifflensError } from "@difflens/common";

/** Every data-layer failure: a stable `code`, a message naming the file, row group or column, and the facts. */
export class DataError extends DifflensError<DataErrorCode> {}

export type DataErrorCode =
  | "PARQUET_NOT_FOUND"
  | "PARQUET_CORRUPT"
  | "COLUMN_MISSING"
  | "COLUMN_TYPE"
  | "EMPTY_DATASET"
  | "CONTEXT_TOO_LONG"
  | "BAD_CONFIG"
  | "STORE_MISMATCH"
  | "STORE_CORRUPT"
  | "BAD_ACTIVATIONS";
