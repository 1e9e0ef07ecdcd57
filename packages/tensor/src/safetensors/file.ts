import * as fs from "node:fs";
import * as os from "node:os";
import type { DType, Storage } from "../dtype.ts";
import { DTYPE_BYTES } from "../dtype.ts";
import { Tensor } from "../tensor.ts";
import { SafetensorsError } from "./errors.ts";
import {
  LENGTH_PREFIX_BYTES,
  parseHeader,
  readHeaderLength,
  type SafetensorsHeader,
  type SafetensorsTensorInfo,
} from "./header.ts";
import { defaultMapFile, defaultMapRange, type MapFile, type MapRange } from "./mmap.ts";
import { checkOptionKeys } from "./options.ts";

export interface OpenSafetensorsOptions {
  /**
   * Memory-map the file through the native add-on when it can (default true): `get` then returns zero-copy views.
   * false, or no add-on: each `get` reads just that tensor's bytes with a positional read.
   */
  mmap?: boolean;
  /** Replaces the add-on's mapper (tests, or a caller with its own mapping). */
  mapFile?: MapFile;
  /** Replaces the add-on's per-range mapper, used for files larger than one ArrayBuffer can hold. */
  mapRange?: MapRange;
}

/** How tensor bytes are fetched: from a memory map, with positional reads, or from a buffer read eagerly. */
export type SafetensorsAccess = "mmap" | "pread" | "memory";

/** fs.readSync reads at most 2^31 − 1 bytes per call. */
const MAX_READ_CHUNK = 1 << 30;
/** Node 20's limit on typed-array length (elements). */
const MAX_TYPED_ARRAY_LENGTH = 2 ** 32;
/** Files larger than this are mapped one tensor at a time (one ArrayBuffer cannot cover them). */
const MAX_WHOLE_FILE_MAP_BYTES = 2 ** 32;

/**
 * One open safetensors file: the header is parsed and validated at open, tensor bytes are read only by `get`.
 * With a memory map, `get` returns a view into the mapping when the tensor's absolute offset is a multiple of its
 * element size, and a copy otherwise — typed arrays cannot start at a misaligned byte offset, and files from writers
 * that do not pad the header to 8 bytes put tensors at odd offsets.
 */
export class SafetensorsFile {
  readonly path: string;
  readonly access: SafetensorsAccess;
  /** Why a memory map was asked for but not used (no add-on, or the mapping failed); undefined otherwise. */
  readonly mmapUnavailableReason: string | undefined;
  readonly header: SafetensorsHeader;
  private fd: number | null;
  private bytes: ArrayBuffer | null;
  /** Set when the file is mapped tensor by tensor (files over 4 GiB): maps [offset, offset + length) of fd. */
  private readonly mapRange: MapRange | null;
  private closed = false;

  /** Use `openSafetensors`; this constructor takes ownership of `fd` and `bytes`. */
  constructor(
    path: string,
    header: SafetensorsHeader,
    source: {
      fd: number | null;
      bytes: ArrayBuffer | null;
      access: SafetensorsAccess;
      mmapUnavailableReason?: string;
      mapRange?: MapRange;
    },
  ) {
    this.path = path;
    this.mmapUnavailableReason = source.mmapUnavailableReason;
    this.header = header;
    this.fd = source.fd;
    this.bytes = source.bytes;
    this.access = source.access;
    this.mapRange = source.mapRange ?? null;
  }

  /** The `__metadata__` record ({} when the file has none). */
  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  /** Tensor names in data-section order. */
  keys(): string[] {
    return [...this.header.tensors.keys()];
  }

  has(name: string): boolean {
    return this.header.tensors.has(name);
  }

  info(name: string): SafetensorsTensorInfo {
    const info = this.header.tensors.get(name);
    if (info === undefined) {
      throw new SafetensorsError(
        "TENSOR_NOT_FOUND",
        `no such tensor; the file holds ${this.header.tensors.size}${suggestKeys(name, this.header.tensors.keys())}`,
        { file: this.path, tensor: name },
      );
    }
    return info;
  }

  /** The tensor as a Tensor of our dtype: a view of the mapping when possible, else a fresh buffer. */
  get(name: string): Tensor {
    const info = this.info(name);
    const dtype = info.dtype;
    if (dtype === null) {
      throw new SafetensorsError(
        "UNSUPPORTED_DTYPE",
        `unsupported dtype ${info.formatDtype} for tensor "${name}" in file ${this.path}: a Tensor holds F32, F16, BF16, I32, I64, U8 and BOOL — use getBytes("${name}") for the raw little-endian bytes`,
        { file: this.path, tensor: name },
      );
    }
    const count = info.byteLength / DTYPE_BYTES[dtype];
    this.checkLength(name, count, `${count} ${dtype} elements`);
    const { buffer, byteOffset } = this.readRegion(name, info, DTYPE_BYTES[dtype]);
    return new Tensor(dtype, info.shape, makeStorage(dtype, buffer, byteOffset, count));
  }

  /** The tensor's raw bytes (any dtype, little-endian as stored): a view when memory-mapped, else a copy. */
  getBytes(name: string): Uint8Array {
    const info = this.info(name);
    this.checkLength(name, info.byteLength, `${info.byteLength} bytes`);
    const { buffer, byteOffset } = this.readRegion(name, info, 1);
    return new Uint8Array(buffer, byteOffset, info.byteLength);
  }

  /**
   * Releases the file descriptor and this object's reference to the mapping. Tensors already returned stay valid:
   * the mapping is released when the last view of it is garbage-collected.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const fd = this.fd;
    this.fd = null;
    this.bytes = null;
    if (fd !== null) fs.closeSync(fd);
  }

  /** Node 20 typed arrays hold at most 2^32 elements. */
  private checkLength(name: string, length: number, what: string): void {
    if (length > MAX_TYPED_ARRAY_LENGTH) {
      throw new SafetensorsError(
        "TENSOR_TOO_LARGE",
        `${what} exceed the ${MAX_TYPED_ARRAY_LENGTH} elements one typed array can hold in this runtime`,
        { file: this.path, tensor: name },
      );
    }
  }

  private readRegion(
    name: string,
    info: SafetensorsTensorInfo,
    alignment: number,
  ): { buffer: ArrayBuffer; byteOffset: number } {
    if (this.closed) throw new SafetensorsError("CLOSED", "the file was closed", { file: this.path, tensor: name });
    if (this.bytes !== null) {
      if (info.byteOffset % alignment === 0) return { buffer: this.bytes, byteOffset: info.byteOffset };
      // Misaligned for this element type: copy into a fresh (aligned) buffer.
      return { buffer: this.bytes.slice(info.byteOffset, info.byteOffset + info.byteLength), byteOffset: 0 };
    }
    if (this.fd === null)
      throw new SafetensorsError("CLOSED", "the file was closed", { file: this.path, tensor: name });
    if (this.mapRange !== null && info.byteOffset % alignment === 0) {
      // A mapping of just this tensor (page-aligned inside the add-on); misaligned tensors are read into a copy.
      let mapped: ArrayBuffer | null;
      try {
        mapped = this.mapRange(this.fd, info.byteOffset, info.byteLength);
      } catch (err) {
        throw new SafetensorsError("IO_ERROR", `mapping the tensor failed: ${(err as Error)?.message ?? String(err)}`, {
          file: this.path,
          tensor: name,
        });
      }
      if (mapped !== null) return { buffer: mapped, byteOffset: 0 };
    }
    const buffer = allocate(info.byteLength, this.path, name);
    preadFully(this.fd, buffer, 0, info.byteLength, info.byteOffset, this.path, name);
    return { buffer, byteOffset: 0 };
  }
}

/**
 * Opens a safetensors file: reads and validates the header (never the data), then memory-maps the file when asked
 * and possible. Every bad-input failure is a SafetensorsError naming the file (and the tensor).
 */
export async function openSafetensors(path: string, options: OpenSafetensorsOptions = {}): Promise<SafetensorsFile> {
  return openSafetensorsSync(path, options);
}

/** The synchronous form of `openSafetensors`. */
export function openSafetensorsSync(path: string, options: OpenSafetensorsOptions = {}): SafetensorsFile {
  checkOptionKeys(options, ["mmap", "mapFile", "mapRange"], "openSafetensors", path);
  assertLittleEndianHost(path);
  const fd = openForRead(path);
  try {
    const { header, size } = readValidatedHeader(fd, path);
    let mapped: { bytes: ArrayBuffer | null; reason?: string } = { bytes: null };
    if (options.mmap !== false && size > MAX_WHOLE_FILE_MAP_BYTES) {
      // One ArrayBuffer cannot cover the file: map each tensor's range when it is read, keeping the descriptor.
      const mapRange = options.mapRange ?? defaultMapRange();
      let probe: string | null;
      try {
        probe = mapRange(fd, 0, 0) !== null ? null : "the native add-on (with mmapRange) is not available";
      } catch (err) {
        probe = `mapping failed: ${(err as Error)?.message ?? String(err)}`;
      }
      if (probe === null) return new SafetensorsFile(path, header, { fd, bytes: null, access: "mmap", mapRange });
      mapped = { bytes: null, reason: probe };
    } else if (options.mmap !== false) {
      mapped =
        header.dataStart === size
          ? { bytes: null, reason: "the file has no tensor data to map" }
          : tryMap(options.mapFile ?? defaultMapFile(), path, header);
    }
    const { bytes, reason } = mapped;
    // A mapping keeps the file's pages reachable by itself; the descriptor is only needed for positional reads.
    if (bytes !== null) fs.closeSync(fd);
    return new SafetensorsFile(path, header, {
      fd: bytes !== null ? null : fd,
      bytes,
      access: bytes !== null ? "mmap" : "pread",
      ...(reason === undefined ? {} : { mmapUnavailableReason: reason }),
    });
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** Reads a whole file eagerly: one read of the file, then every tensor as a view of that buffer (aligned ones). */
export async function readSafetensors(
  path: string,
): Promise<{ tensors: Record<string, Tensor>; metadata: Readonly<Record<string, string>> }> {
  assertLittleEndianHost(path);
  const fd = openForRead(path);
  let file: SafetensorsFile;
  try {
    const { header, size } = readValidatedHeader(fd, path);
    const bytes = allocate(size, path, undefined);
    preadFully(fd, bytes, 0, size, 0, path, undefined);
    file = new SafetensorsFile(path, header, { fd: null, bytes, access: "memory" });
  } finally {
    fs.closeSync(fd);
  }
  const tensors: Record<string, Tensor> = {};
  for (const name of file.keys()) {
    Object.defineProperty(tensors, name, {
      value: file.get(name),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { tensors, metadata: file.metadata };
}

function readValidatedHeader(fd: number, path: string): { header: SafetensorsHeader; size: number } {
  let size: number;
  try {
    size = fs.fstatSync(fd).size;
  } catch (err) {
    throw ioError(path, err);
  }
  const prefix = new Uint8Array(LENGTH_PREFIX_BYTES);
  preadFully(fd, prefix.buffer, 0, Math.min(LENGTH_PREFIX_BYTES, size), 0, path, undefined);
  const headerLength = readHeaderLength(prefix, size, path);
  const headerBytes = new Uint8Array(headerLength);
  preadFully(fd, headerBytes.buffer, 0, headerLength, LENGTH_PREFIX_BYTES, path, undefined);
  return { header: parseHeader(headerBytes, size, path), size };
}

function tryMap(
  mapFile: MapFile,
  path: string,
  header: SafetensorsHeader,
): { bytes: ArrayBuffer | null; reason?: string } {
  let bytes: ArrayBuffer | null;
  try {
    bytes = mapFile(path);
  } catch (err) {
    // The mapper could not map this file (special file, address space): positional reads still work.
    return { bytes: null, reason: `mapping failed: ${(err as Error)?.message ?? String(err)}` };
  }
  if (bytes === null) return { bytes: null, reason: "the native add-on is not available" };
  let end = header.dataStart;
  for (const info of header.tensors.values()) end = Math.max(end, info.byteOffset + info.byteLength);
  // The file changed between the header read and the mapping: the views would be garbage, so refuse.
  if (bytes.byteLength < end) {
    throw new SafetensorsError(
      "OFFSETS_OUT_OF_RANGE",
      `the mapping has ${bytes.byteLength} bytes but the header needs ${end}: the file shrank while it was being opened`,
      { file: path },
    );
  }
  return { bytes };
}

/** Reads `length` bytes at file `position` into `buffer` at `offset`, in chunks (a typed array and one read are capped). */
function preadFully(
  fd: number,
  buffer: ArrayBufferLike,
  offset: number,
  length: number,
  position: number,
  path: string,
  tensor: string | undefined,
): void {
  let done = 0;
  while (done < length) {
    const want = Math.min(length - done, MAX_READ_CHUNK);
    let got: number;
    try {
      got = fs.readSync(fd, new Uint8Array(buffer, offset + done, want), 0, want, position + done);
    } catch (err) {
      throw ioError(path, err, tensor);
    }
    if (got === 0) {
      throw new SafetensorsError(
        "OFFSETS_OUT_OF_RANGE",
        `the file ended at byte ${position + done} while reading ${length} bytes at ${position}: it was truncated after it was opened`,
        tensor === undefined ? { file: path } : { file: path, tensor },
      );
    }
    done += got;
  }
}

function allocate(byteLength: number, path: string, tensor: string | undefined): ArrayBuffer {
  try {
    return new ArrayBuffer(byteLength);
  } catch (err) {
    throw new SafetensorsError(
      "ALLOCATION_FAILED",
      `cannot allocate ${byteLength} bytes (${(err as Error).message}); memory-map the file instead (the add-on) or free memory`,
      tensor === undefined ? { file: path } : { file: path, tensor },
    );
  }
}

function openForRead(path: string): number {
  try {
    return fs.openSync(path, "r");
  } catch (err) {
    throw ioError(path, err);
  }
}

function ioError(path: string, err: unknown, tensor?: string): SafetensorsError {
  const e = err as NodeJS.ErrnoException;
  const why =
    e?.code === "ENOENT" ? "no such file" : e?.code === "EISDIR" ? "it is a directory" : String(e?.message ?? err);
  return new SafetensorsError("IO_ERROR", why, tensor === undefined ? { file: path } : { file: path, tensor });
}

let hostChecked = false;
function assertLittleEndianHost(path: string): void {
  if (hostChecked) return;
  if (os.endianness() !== "LE") {
    throw new SafetensorsError(
      "BIG_ENDIAN_HOST",
      "safetensors data is little-endian and this reader does not byte-swap",
      { file: path },
    );
  }
  hostChecked = true;
}

function makeStorage(dtype: DType, buffer: ArrayBuffer, byteOffset: number, count: number): Storage {
  switch (dtype) {
    case "f32":
      return new Float32Array(buffer, byteOffset, count);
    case "f16":
    case "bf16":
      return new Uint16Array(buffer, byteOffset, count);
    case "i32":
      return new Int32Array(buffer, byteOffset, count);
    case "i64":
      return new BigInt64Array(buffer, byteOffset, count);
    case "u8":
    case "bool":
      return new Uint8Array(buffer, byteOffset, count);
  }
}

function suggestKeys(name: string, keys: Iterable<string>): string {
  const near: string[] = [];
  const stem = name.split(".").slice(-2).join(".");
  for (const k of keys) {
    if (k.endsWith(stem) || name.endsWith(k.split(".").slice(-2).join("."))) near.push(k);
    if (near.length === 3) break;
  }
  return near.length === 0 ? " tensors" : ` tensors; similar names: ${near.map((k) => JSON.stringify(k)).join(", ")}`;
}
