import type { DifflensErrorOptions, ErrorFacts } from "@difflens/common";
import { TensorError } from "../errors.ts";

/**
 * Stable codes for everything that can be wrong with a safetensors file, a sharded checkpoint or a write request.
 * Callers switch on these; messages may be reworded, codes never.
 */
export type SafetensorsErrorCode =
  /** The file cannot be opened or read (missing, permission, I/O error). */
  | "IO_ERROR"
  /** The file is shorter than the 8-byte header-length prefix. */
  | "HEADER_TOO_SMALL"
  /** The header length prefix exceeds 100 MB (the reference library's limit). */
  | "HEADER_TOO_LARGE"
  /** The header length prefix points past the end of the file (typically a truncated file). */
  | "HEADER_LENGTH_EXCEEDS_FILE"
  /** The header bytes are not valid UTF-8. */
  | "HEADER_NOT_UTF8"
  /** The header is not valid JSON (syntax, lone surrogate escape, nesting too deep, number out of range). */
  | "HEADER_NOT_JSON"
  /** The header is JSON, but not an object starting with `{`. */
  | "HEADER_NOT_OBJECT"
  /** A key appears twice in one JSON object of the header (JSON.parse would silently keep the last). */
  | "DUPLICATE_KEY"
  /** `__metadata__` is not an object of string values. */
  | "BAD_METADATA"
  /** A tensor entry is not an object or lacks / mistypes `dtype`, `shape` or `data_offsets`. */
  | "BAD_TENSOR_INFO"
  /** A dtype string the safetensors format does not define. */
  | "UNKNOWN_DTYPE"
  /** A format dtype this package cannot hold in a Tensor (F64, I8, F8_*, …): raw bytes are still readable. */
  | "UNSUPPORTED_DTYPE"
  /** A shape with a negative, non-integer or overflowing dimension. */
  | "BAD_SHAPE"
  /** `data_offsets` is not two non-negative integers with begin ≤ end. */
  | "BAD_OFFSETS"
  /** Two tensors' byte ranges overlap. */
  | "OFFSETS_OVERLAP"
  /** The byte ranges do not tile the data section from 0 (a hole, or a first tensor not at 0). */
  | "OFFSETS_GAP"
  /** A tensor's range ends past the end of the file (typically a truncated file). */
  | "OFFSETS_OUT_OF_RANGE"
  /** The file continues after the last tensor's bytes. */
  | "TRAILING_BYTES"
  /** dtype size × number of elements disagrees with end − begin. */
  | "SIZE_MISMATCH"
  /** `get`/`info` of a name the file (or checkpoint) does not hold. */
  | "TENSOR_NOT_FOUND"
  /** A tensor longer than one typed array can be in this runtime (2^32 elements in Node 20). */
  | "TENSOR_TOO_LARGE"
  /** The memory for a tensor (or an eagerly read file) could not be allocated. */
  | "ALLOCATION_FAILED"
  /** Use of a file after `close()`. */
  | "CLOSED"
  /** Neither `model.safetensors` nor `model.safetensors.index.json` where a checkpoint was expected. */
  | "CHECKPOINT_NOT_FOUND"
  /** `model.safetensors.index.json` is not valid JSON or lacks a string→string `weight_map`. */
  | "BAD_INDEX"
  /** A shard named by the index does not exist. */
  | "MISSING_SHARD"
  /** A key listed in the index is absent from the shard the index names. */
  | "INDEX_KEY_NOT_IN_SHARD"
  /** The same tensor name appears in two shards. */
  | "DUPLICATE_TENSOR"
  /** A tensor name the writer refuses (`__metadata__`, not well-formed UTF-16). */
  | "INVALID_NAME"
  /** A metadata value or key that is not a well-formed string. */
  | "INVALID_METADATA"
  /** An options object with an unknown key or an invalid value. */
  | "INVALID_OPTIONS"
  /** A tensor handed to the writer whose dtype or storage the writer cannot encode. */
  | "INVALID_TENSOR"
  /** This host is big-endian; the format is little-endian and we do not byte-swap. */
  | "BIG_ENDIAN_HOST";

/** The facts attached to a safetensors error. */
export interface SafetensorsErrorFacts extends ErrorFacts {
  /** The file the problem is in (or the index file, for checkpoint problems). */
  readonly file: string;
  /** The tensor the problem concerns, when there is one. */
  readonly tensor?: string;
}

/**
 * Every bad-input failure of the safetensors reader and writer: a stable `code`, the file and the tensor. The
 * message read back is `safetensors CODE for tensor "T" in FILE: message`.
 */
export class SafetensorsError extends TensorError<SafetensorsErrorCode> {
  declare readonly facts: Readonly<SafetensorsErrorFacts>;

  constructor(
    code: SafetensorsErrorCode,
    message: string,
    facts: SafetensorsErrorFacts,
    options: DifflensErrorOptions = {},
  ) {
    const where = facts.tensor === undefined ? `in ${facts.file}` : `for tensor "${facts.tensor}" in ${facts.file}`;
    super(code, `safetensors ${code} ${where}: ${message}`, facts, options);
  }

  /** Shorthand for `facts.file`. */
  get file(): string {
    return this.facts.file;
  }

  /** Shorthand for `facts.tensor`. */
  get tensor(): string | undefined {
    return this.facts.tensor;
  }
}
