import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { tempPathBeside } from "@difflens/common";
import { DTYPE_BYTES } from "../dtype.ts";
import { Tensor } from "../tensor.ts";
import { formatDtypeRank, toFormatDtype } from "./dtypes.ts";
import { SafetensorsError } from "./errors.ts";
import { LENGTH_PREFIX_BYTES, METADATA_KEY } from "./header.ts";

export type TensorMap = Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>;

/** Where each tensor goes in a file we write, and the header bytes that say so. */
export interface SafetensorsLayout {
  /** The u64 length prefix followed by the JSON header, padded with spaces to a multiple of 8 bytes. */
  readonly prefixAndHeader: Uint8Array;
  /** Tensors in file order with their data-section offsets. */
  readonly entries: ReadonlyArray<{ name: string; tensor: Tensor; begin: number; end: number }>;
  /** Total bytes of the file. */
  readonly fileSize: number;
}

/**
 * Lays tensors out the way the reference library (huggingface/safetensors `serialize`) does, so our files are
 * byte-identical to its files for the same input: tensors sorted by descending dtype alignment rank, then by name
 * (byte-wise UTF-8); compact JSON (`__metadata__` first, then tensors in that order, each as dtype, shape,
 * data_offsets); the header padded with spaces to a multiple of 8 so every tensor starts 8-aligned relative to
 * the data section. The reference writes metadata keys in hash-map order, which is random; we sort them, so our
 * output is deterministic and matches the reference whenever it has at most one metadata key.
 */
export function planSafetensorsLayout(
  tensors: TensorMap,
  metadata?: Readonly<Record<string, string>>,
  file = "<memory>",
): SafetensorsLayout {
  const named = tensorEntries(tensors);
  for (const [name, tensor] of named) checkTensor(name, tensor, file);
  named.sort(
    ([an, at], [bn, bt]) =>
      formatDtypeRank(toFormatDtype(bt.dtype)) - formatDtypeRank(toFormatDtype(at.dtype)) || compareUtf8(an, bn),
  );

  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`${JSON.stringify(METADATA_KEY)}:${metadataJson(metadata, file)}`);
  const entries: Array<{ name: string; tensor: Tensor; begin: number; end: number }> = [];
  let offset = 0;
  for (const [name, tensor] of named) {
    const begin = offset;
    const end = begin + tensor.size * DTYPE_BYTES[tensor.dtype];
    offset = end;
    entries.push({ name, tensor, begin, end });
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${toFormatDtype(tensor.dtype)}","shape":[${tensor.shape.join(",")}],"data_offsets":[${begin},${end}]}`,
    );
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const prefixAndHeader = new Uint8Array(LENGTH_PREFIX_BYTES + padded).fill(0x20, LENGTH_PREFIX_BYTES + json.length);
  new DataView(prefixAndHeader.buffer).setBigUint64(0, BigInt(padded), true);
  prefixAndHeader.set(json, LENGTH_PREFIX_BYTES);
  return { prefixAndHeader, entries, fileSize: prefixAndHeader.length + offset };
}

/** The whole file in memory (small files, tests). */
export function serializeSafetensors(tensors: TensorMap, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const layout = planSafetensorsLayout(tensors, metadata);
  const out = new Uint8Array(layout.fileSize);
  out.set(layout.prefixAndHeader, 0);
  for (const e of layout.entries) out.set(tensorBytes(e.tensor), layout.prefixAndHeader.length + e.begin);
  return out;
}

/**
 * Writes a safetensors file atomically: streamed into a temp file beside it, fsync, then renamed over
 * `path` — a reader sees the old file or the complete new one, never a half-written one.
 */
export async function writeSafetensors(
  path: string,
  tensors: TensorMap,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const layout = planSafetensorsLayout(tensors, metadata, path);
  await writeStreamedAtomic(path, async (handle) => {
    let position = 0;
    const put = async (bytes: Uint8Array): Promise<void> => {
      for (let done = 0; done < bytes.length; ) {
        const { bytesWritten } = await handle.write(bytes, done, Math.min(bytes.length - done, WRITE_CHUNK), position);
        done += bytesWritten;
        position += bytesWritten;
      }
    };
    await put(layout.prefixAndHeader);
    for (const e of layout.entries) await put(tensorBytes(e.tensor));
  });
}

const WRITE_CHUNK = 1 << 30;

/**
 * Runs `fill` on a fresh temp file beside `target`, fsyncs it, renames it over `target`; removes it on failure.
 * `writeFileAtomic` of @difflens/common for content that is streamed (gigabytes of tensors) instead of held whole.
 */
export async function writeStreamedAtomic(
  target: string,
  fill: (handle: fsp.FileHandle) => Promise<void>,
): Promise<void> {
  const tmp = tempPathBeside(target);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, "wx");
    await fill(handle);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, target);
  } catch (err) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    if (err instanceof SafetensorsError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new SafetensorsError("IO_ERROR", `could not write: ${e?.message ?? String(err)}`, { file: target });
  }
  await syncDirectory(path.dirname(target));
}

/** Makes the rename durable; some filesystems refuse to fsync a directory, which only costs durability. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, "r");
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export function tensorEntries(tensors: TensorMap): Array<[string, Tensor]> {
  if (tensors instanceof Map) return [...(tensors as ReadonlyMap<string, Tensor>).entries()];
  return Object.keys(tensors).map((k) => [k, (tensors as Readonly<Record<string, Tensor>>)[k] as Tensor]);
}

function checkTensor(name: string, tensor: Tensor, file: string): void {
  if (name === METADATA_KEY) {
    throw new SafetensorsError("INVALID_NAME", `"${METADATA_KEY}" is reserved for the metadata record`, {
      file,
      tensor: name,
    });
  }
  if (!isWellFormedUtf16(name)) {
    throw new SafetensorsError(
      "INVALID_NAME",
      "the name holds a lone UTF-16 surrogate and cannot be written as UTF-8",
      { file, tensor: name },
    );
  }
  if (!(tensor instanceof Tensor) || !Object.hasOwn(DTYPE_BYTES, tensor.dtype)) {
    throw new SafetensorsError("INVALID_TENSOR", "not a Tensor of a dtype this writer knows", { file, tensor: name });
  }
  if (tensor.dtype === "bool") {
    const data = tensor.data as Uint8Array;
    for (let i = 0; i < data.length; i++) {
      if (data[i]! > 1) {
        throw new SafetensorsError(
          "INVALID_TENSOR",
          `bool element ${i} is ${data[i]}; BOOL bytes must be 0 or 1 (readers such as torch misread other values)`,
          { file, tensor: name },
        );
      }
    }
  }
}

function metadataJson(metadata: Readonly<Record<string, string>>, file: string): string {
  const keys = Object.keys(metadata).sort(compareUtf8);
  const parts: string[] = [];
  for (const key of keys) {
    const value: unknown = metadata[key];
    if (typeof value !== "string" || !isWellFormedUtf16(value) || !isWellFormedUtf16(key)) {
      throw new SafetensorsError(
        "INVALID_METADATA",
        `metadata ${JSON.stringify(key)} must map to a well-formed string, got ${typeof value === "string" ? "a string with a lone surrogate" : typeof value}`,
        { file },
      );
    }
    parts.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
  }
  return `{${parts.join(",")}}`;
}

function tensorBytes(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Byte-wise comparison of the UTF-8 encodings (= code point order), as Rust and Python order strings. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca - cb;
    if (ca > 0xffff) i++;
  }
  return a.length - b.length;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when the string has no lone surrogate, i.e. it has a UTF-8 encoding (String#isWellFormed is ES2024). */
export function isWellFormedUtf16(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}
