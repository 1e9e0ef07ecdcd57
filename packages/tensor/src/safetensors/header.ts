import type { DType } from "../dtype.ts";
import { formatDtypeBits, isSafetensorsDtype, type SafetensorsDtype, toOurDtype } from "./dtypes.ts";
import { SafetensorsError } from "./errors.ts";
import { HeaderJsonError, JsonNumber, type JsonObject, type JsonValue, parseStrictJson } from "./header-json.ts";

/** Bytes of the little-endian u64 header-length prefix. */
export const LENGTH_PREFIX_BYTES = 8;
/** The reference library refuses headers longer than this (100 MB); so do we, before allocating anything. */
export const MAX_HEADER_BYTES = 100_000_000;
export const METADATA_KEY = "__metadata__";

/** Where one tensor lives and what it holds. */
export interface SafetensorsTensorInfo {
  /** Our dtype, or null when a Tensor cannot hold the format dtype (F64, I8, F8_*, …; see `formatDtype`). */
  readonly dtype: DType | null;
  /** The dtype as the file spells it. */
  readonly formatDtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Absolute position of the first byte in the file (8 + header length + begin). */
  readonly byteOffset: number;
  readonly byteLength: number;
  /** `data_offsets` as written: relative to the start of the data section. */
  readonly dataOffsets: readonly [number, number];
}

export interface SafetensorsHeader {
  /** Length of the JSON header in bytes (the u64 prefix). */
  readonly headerLength: number;
  /** Absolute offset of the data section: 8 + headerLength. */
  readonly dataStart: number;
  /** Tensors in data-section order (ascending offsets). */
  readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>;
  /** The `__metadata__` record ({} when absent). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Reads the u64 header length from the first 8 bytes and checks it against the limit and the file size. */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < LENGTH_PREFIX_BYTES || prefix.length < LENGTH_PREFIX_BYTES) {
    throw new SafetensorsError(
      "HEADER_TOO_SMALL",
      `the file has ${fileSize} bytes, fewer than the 8-byte header-length prefix — not a safetensors file, or truncated`,
      { file },
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, LENGTH_PREFIX_BYTES).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      "HEADER_TOO_LARGE",
      `the header length prefix says ${n} bytes, more than the ${MAX_HEADER_BYTES}-byte limit — not a safetensors file, or corrupt`,
      { file },
    );
  }
  const headerLength = Number(n);
  if (LENGTH_PREFIX_BYTES + headerLength > fileSize) {
    throw new SafetensorsError(
      "HEADER_LENGTH_EXCEEDS_FILE",
      `the header length prefix says ${headerLength} bytes, but the file has only ${fileSize - LENGTH_PREFIX_BYTES} after the prefix — the file is truncated`,
      { file },
    );
  }
  return headerLength;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses and validates the header bytes of a file of `fileSize` bytes. Strict, like the reference library: the
 * tensors' byte ranges must tile the data section exactly — starting at 0, no holes, no overlaps, ending at the end
 * of the file. A hole would be bytes no tensor owns (a sign of a broken writer), trailing bytes a sign of a
 * concatenated or half-overwritten file; accepting either would hide corruption.
 */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const headerLength = headerBytes.length;
  const dataStart = LENGTH_PREFIX_BYTES + headerLength;
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch {
    throw new SafetensorsError("HEADER_NOT_UTF8", `the ${headerLength}-byte header is not valid UTF-8`, { file });
  }
  if (text.charCodeAt(0) !== 0x7b) {
    throw new SafetensorsError(
      "HEADER_NOT_OBJECT",
      `the header must start with '{', got ${JSON.stringify(text.slice(0, 16))}`,
      { file },
    );
  }
  let root: JsonValue;
  try {
    root = parseStrictJson(text);
  } catch (err) {
    if (!(err instanceof HeaderJsonError)) throw err;
    if (err.kind === "duplicate") {
      const tensor = err.path.length === 0 ? err.key : err.path[0];
      const where = err.path.length === 0 ? "the header" : `the entry of "${err.path[0]}"`;
      throw new SafetensorsError(
        "DUPLICATE_KEY",
        `key ${JSON.stringify(err.key)} appears twice in ${where}; a JSON parser would silently keep the last`,
        tensor === undefined ? { file } : { file, tensor },
      );
    }
    throw new SafetensorsError("HEADER_NOT_JSON", `the header is not valid JSON: ${err.message}`, { file });
  }
  if (!(root instanceof Map)) {
    throw new SafetensorsError("HEADER_NOT_OBJECT", "the header JSON is not an object", { file });
  }

  let metadata: Readonly<Record<string, string>> = Object.freeze({});
  const entries: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }> = [];
  for (const [name, value] of root) {
    if (name === METADATA_KEY) {
      metadata = parseMetadata(value, file);
      continue;
    }
    entries.push({ name, ...parseTensorEntry(name, value, file) });
  }

  // Tile check in offset order; ties (empty tensors) by end then name so the error names are deterministic.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const dataLength = fileSize - dataStart;
  let expected = 0;
  let previous: string | undefined;
  for (const e of entries) {
    if (e.begin > expected) {
      throw new SafetensorsError(
        "OFFSETS_GAP",
        previous === undefined
          ? `the first tensor starts at data offset ${e.begin}, not 0: ${e.begin} bytes belong to no tensor`
          : `it starts at data offset ${e.begin}, but "${previous}" ends at ${expected}: a hole of ${e.begin - expected} bytes`,
        { file, tensor: e.name },
      );
    }
    if (e.begin < expected) {
      throw new SafetensorsError(
        "OFFSETS_OVERLAP",
        `its bytes [${e.begin}, ${e.end}) overlap "${previous}", which ends at ${expected}`,
        { file, tensor: e.name },
      );
    }
    if (e.end > dataLength) {
      throw new SafetensorsError(
        "OFFSETS_OUT_OF_RANGE",
        `its bytes [${e.begin}, ${e.end}) end past the data section, which has ${dataLength} bytes — the file is truncated`,
        { file, tensor: e.name },
      );
    }
    expected = e.end;
    previous = e.name;
  }
  if (expected !== dataLength) {
    throw new SafetensorsError(
      "TRAILING_BYTES",
      `the tensors cover ${expected} bytes of the data section, but the file has ${dataLength} — ${dataLength - expected} bytes after the last tensor`,
      { file },
    );
  }

  const tensors = new Map<string, SafetensorsTensorInfo>();
  for (const e of entries) {
    tensors.set(
      e.name,
      Object.freeze({
        dtype: toOurDtype(e.dtype),
        formatDtype: e.dtype,
        shape: Object.freeze(e.shape),
        byteOffset: dataStart + e.begin,
        byteLength: e.end - e.begin,
        dataOffsets: Object.freeze([e.begin, e.end]) as readonly [number, number],
      }),
    );
  }
  return { headerLength, dataStart, tensors, metadata };
}

function parseMetadata(value: JsonValue, file: string): Readonly<Record<string, string>> {
  if (value === null) return Object.freeze({});
  if (!(value instanceof Map)) {
    throw new SafetensorsError(
      "BAD_METADATA",
      `"__metadata__" must be an object of strings, got ${describeJson(value)}`,
      { file },
    );
  }
  const pairs: Array<[string, string]> = [];
  for (const [key, v] of value) {
    if (typeof v !== "string") {
      throw new SafetensorsError(
        "BAD_METADATA",
        `"__metadata__"."${key}" must be a string, got ${describeJson(v)} — the format allows only string values`,
        { file },
      );
    }
    pairs.push([key, v]);
  }
  // Object.fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.freeze(Object.fromEntries(pairs));
}

function parseTensorEntry(
  name: string,
  value: JsonValue,
  file: string,
): { dtype: SafetensorsDtype; shape: number[]; begin: number; end: number } {
  const facts = { file, tensor: name };
  if (!(value instanceof Map)) {
    throw new SafetensorsError(
      "BAD_TENSOR_INFO",
      `the entry must be an object with dtype, shape and data_offsets, got ${describeJson(value)}`,
      facts,
    );
  }
  const entry: JsonObject = value;
  const dtype = entry.get("dtype");
  const shape = entry.get("shape");
  const offsets = entry.get("data_offsets");
  for (const [field, v] of [
    ["dtype", dtype],
    ["shape", shape],
    ["data_offsets", offsets],
  ] as const) {
    if (v === undefined) throw new SafetensorsError("BAD_TENSOR_INFO", `the entry has no "${field}"`, facts);
  }
  if (typeof dtype !== "string") {
    throw new SafetensorsError(
      "BAD_TENSOR_INFO",
      `"dtype" must be a string, got ${describeJson(dtype ?? null)}`,
      facts,
    );
  }
  if (!isSafetensorsDtype(dtype)) {
    throw new SafetensorsError("UNKNOWN_DTYPE", `dtype ${JSON.stringify(dtype)} is not a safetensors dtype`, facts);
  }
  if (!Array.isArray(shape)) {
    throw new SafetensorsError(
      "BAD_SHAPE",
      `"shape" must be an array of non-negative integers, got ${describeJson(shape ?? null)}`,
      facts,
    );
  }
  let elements = 1;
  const dims: number[] = [];
  for (const d of shape) {
    if (typeof d !== "number" || d < 0) {
      throw new SafetensorsError(
        "BAD_SHAPE",
        `"shape" must hold non-negative integers, got ${describeJson(d)} in ${describeJson(shape)}`,
        facts,
      );
    }
    dims.push(d);
    elements *= d;
    if (!Number.isSafeInteger(elements)) {
      throw new SafetensorsError("BAD_SHAPE", `shape ${describeJson(shape)} has more than 2^53 elements`, facts);
    }
  }
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    throw new SafetensorsError(
      "BAD_OFFSETS",
      `"data_offsets" must be [begin, end], got ${describeJson(offsets ?? null)}`,
      facts,
    );
  }
  const [begin, end] = offsets;
  if (typeof begin !== "number" || typeof end !== "number" || begin < 0 || end < begin) {
    throw new SafetensorsError(
      "BAD_OFFSETS",
      `"data_offsets" must be two integers 0 ≤ begin ≤ end, got ${describeJson(offsets)}`,
      facts,
    );
  }
  const bits = formatDtypeBits(dtype);
  const totalBits = elements * bits;
  if (!Number.isSafeInteger(totalBits) || totalBits % 8 !== 0 || totalBits / 8 !== end - begin) {
    const need = totalBits % 8 === 0 ? `${totalBits / 8} bytes` : `${totalBits} bits, not a whole number of bytes`;
    throw new SafetensorsError(
      "SIZE_MISMATCH",
      `${dtype} × shape [${dims.join(", ")}] needs ${need}, but data_offsets [${begin}, ${end}] span ${end - begin}`,
      facts,
    );
  }
  return { dtype, shape: dims, begin, end };
}

function describeJson(v: JsonValue): string {
  if (v instanceof JsonNumber) return v.text;
  if (v instanceof Map) return "an object";
  const text = Array.isArray(v)
    ? JSON.stringify(v, (_k, x: unknown) => (x instanceof JsonNumber ? x.value : x instanceof Map ? "{…}" : x))
    : JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
