/**
 * A strict reader of NumPy `.npy` arrays (what `np.save` writes and `np.savez` zips): magic `\x93NUMPY`, format
 * version 1.0 (2-byte header length), 2.0 or 3.0 (4-byte; 3.0's header is UTF-8), then a Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` and the raw values.
 *
 * Accepted: little-endian floats `<f4`, `<f2`, `<f8` (and `|V2`/`<V2` read as bfloat16 only when asked: ml_dtypes'
 * bfloat16 is saved as a 2-byte void, which says nothing about its meaning), C order. Refused, naming the array:
 * object arrays (`|O`, whose values are pickles — never unpickled here), structured or sub-array dtypes, big-endian,
 * integer dtypes, Fortran order, a header that is not exactly that dict, and a data size that does not match.
 */
import { bf16ArrayToF32, f16ArrayToF32 } from "@difflens/tensor";
import { SaeError } from "../errors.ts";

export type NpyDType = "f32" | "f16" | "f64" | "bf16";

/** One array, widened or narrowed to float32 (the SAE's precision). */
export interface NpyArray {
  /** The dtype stored in the file. */
  dtype: NpyDType;
  shape: number[];
  /** Row-major values. // [prod(shape)] */
  values: Float32Array;
}

export interface ReadNpyOptions {
  /** Read a 2-byte void (`|V2`, `<V2`) as bfloat16. Default false: refused, the error says why. */
  voidAsBf16?: boolean;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DESCR: Record<string, NpyDType> = { "<f4": "f32", "<f2": "f16", "<f8": "f64" };
const ITEM_BYTES: Record<NpyDType, number> = { f32: 4, f16: 2, f64: 8, bf16: 2 };

/** Parses one `.npy` file's bytes; `name` (e.g. "params.npz:W_enc") is what errors name. */
export function readNpy(bytes: Uint8Array, name: string, options: ReadNpyOptions = {}): NpyArray {
  const bad = (why: string): never => {
    throw new SaeError("FORMAT_INVALID", `${name}: ${why}`, { file: name });
  };
  const { dtype, shape, dataStart } = readNpyHeader(bytes, name, options);
  const numel = shape.reduce((a, b) => a * b, 1);
  const need = numel * ITEM_BYTES[dtype];
  if (bytes.length - dataStart !== need)
    bad(`shape (${shape.join(", ")}) of ${dtype} needs ${need} data bytes, the file has ${bytes.length - dataStart}`);
  // Copy to an aligned buffer: zip entries and header lengths leave the data at any offset.
  const data = new Uint8Array(bytes.subarray(dataStart, dataStart + need)).buffer;
  let values: Float32Array;
  if (dtype === "f32") values = new Float32Array(data);
  else if (dtype === "f64") values = Float32Array.from(new Float64Array(data));
  else if (dtype === "f16") values = f16ArrayToF32(new Uint16Array(data));
  else values = bf16ArrayToF32(new Uint16Array(data));
  return { dtype, shape, values };
}

/** The header of a `.npy` file (its first bytes suffice): dtype, shape and where the data start; checked as above. */
export function readNpyHeader(
  bytes: Uint8Array,
  name: string,
  options: ReadNpyOptions = {},
): { dtype: NpyDType; shape: number[]; dataStart: number } {
  const bad = (why: string): never => {
    throw new SaeError("FORMAT_INVALID", `${name}: ${why}`, { file: name });
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) bad("not a .npy array (no \\x93NUMPY magic)");
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) bad("truncated header");
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    return bad(`.npy format version ${major}.${bytes[7]} is not supported (1.0, 2.0, 3.0)`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) bad(`header of ${headerLength} bytes runs past the end (truncated?)`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(headerStart, dataStart));
  const { descr, fortranOrder, shape } = parseHeader(header, bad);
  if (descr === "|O" || descr === "<O" || descr === ">O")
    bad("object array (its values are pickles); only numeric arrays are read, nothing is unpickled");
  if (fortranOrder) bad("Fortran-order array; only C order is read (save it with np.ascontiguousarray)");
  let dtype = DESCR[descr];
  if (dtype === undefined && (descr === "|V2" || descr === "<V2")) {
    if (!options.voidAsBf16)
      bad(`dtype ${descr} (2-byte void: ml_dtypes' bfloat16 is saved so, but the file does not say it is bfloat16)`);
    dtype = "bf16";
  }
  if (dtype === undefined)
    return bad(`dtype ${JSON.stringify(descr)} is not supported (little-endian float: <f4, <f2, <f8)`);
  return { dtype, shape, dataStart };
}

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/** The header dict, exactly: three known keys once each, a string, a bool, a tuple of non-negative ints. */
function parseHeader(header: string, bad: (why: string) => never): NpyHeader {
  const text = header.replace(/[ \n]+$/, "");
  const body = /^\{(.*)\}$/s.exec(text.trim());
  if (body === null) return bad(`header is not a dict: ${JSON.stringify(header.slice(0, 80))}`);
  const entry = /\s*'(\w+)'\s*:\s*('[^']*'|True|False|\([^)]*\)|\[[^\]]*\])\s*(,|$)/y;
  const seen = new Map<string, string>();
  const src = body[1]!;
  let at = 0;
  while (at < src.length && src.slice(at).trim() !== "") {
    entry.lastIndex = at;
    const m = entry.exec(src);
    if (m === null) return bad(`header dict not understood at ${JSON.stringify(src.slice(at, at + 40))}`);
    if (seen.has(m[1]!)) bad(`header repeats key '${m[1]}'`);
    seen.set(m[1]!, m[2]!);
    at = entry.lastIndex;
  }
  const keys = [...seen.keys()].sort().join(",");
  if (keys !== "descr,fortran_order,shape")
    bad(`header keys are {${keys}}, expected exactly descr, fortran_order, shape`);
  const descr = seen.get("descr")!;
  if (!descr.startsWith("'")) bad(`structured dtype ${descr} is not supported (a plain float array is)`);
  const order = seen.get("fortran_order")!;
  if (order !== "True" && order !== "False") bad(`fortran_order is ${order}, expected True or False`);
  const tuple = seen.get("shape")!;
  if (!tuple.startsWith("(")) bad(`shape ${tuple} is not a tuple`);
  const inner = tuple.slice(1, -1).trim();
  const parts = inner === "" ? [] : inner.replace(/,\s*$/, "").split(",");
  const shape = parts.map((p) => {
    const s = p.trim();
    if (!/^\d+$/.test(s)) bad(`shape ${tuple} holds ${JSON.stringify(s)}, not a non-negative integer`);
    return Number(s);
  });
  if (parts.length === 1 && !/,\s*$/.test(inner)) bad(`shape ${tuple} is not a tuple (a 1-tuple needs its comma)`);
  return { descr: descr.slice(1, -1), fortranOrder: order === "True", shape };
}
