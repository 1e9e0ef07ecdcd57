/** Every data-layer failure: a stable `code` plus the facts a person needs (file, row group, column). */
export class DataError extends Error {
  readonly code: DataErrorCode;
  constructor(code: DataErrorCode, message: string) {
    super(message);
    this.name = "DataError";
    this.code = code;
  }
}

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
