import { bf16ArrayToF32, f16ArrayToF32 } from "@difflens/tensor";
import { SaeError } from "../errors.ts";
import { readPickle } from "./pickle.ts";
import { PyTensorRef, type PyValue, type TorchDType } from "./pickle-values.ts";
import { ZipArchive } from "./zip.ts";

/** One tensor of a torch state dict, materialised contiguously. */
export interface TorchTensor {
  dtype: TorchDType;
  shape: number[];
  /**
   * Values as float64 (ints included; int64 beyond 2^53 are rejected), except a contiguous float32 tensor, which
   * comes as its own float32 bytes (no widening: an SAE matrix can hold half a billion values).
   */
  values: Float64Array | Float32Array;
}

const ELEM_BYTES: Record<TorchDType, number> = {
  f32: 4,
  f64: 8,
  f16: 2,
  bf16: 2,
  i64: 8,
  i32: 4,
  i16: 2,
  i8: 1,
  u8: 1,
  bool: 1,
};

/**
 * Reads a `torch.save` zip of a state dict (e.g. dictionary_learning's ae.pt) without running any
 * pickled code: name → tensor. Accepts both archive layouts (root folder named after the file, or
 * `archive/` with `.data/version` and `byteorder` records). Without `bytes` the file is read entry by entry.
 */
export function readTorchStateDict(file: string, bytes?: Uint8Array): Map<string, TorchTensor> {
  return bytes
    ? readArchive(new ZipArchive(bytes, file), file)
    : ZipArchive.openFile(file, (zip) => readArchive(zip, file));
}

function readArchive(zip: ZipArchive, file: string): Map<string, TorchTensor> {
  const pkls = zip.names().filter((n) => n.endsWith("/data.pkl") && n.split("/").length === 2);
  if (pkls.length !== 1)
    throw new SaeError(
      "ZIP_INVALID",
      `${file}: expected one <root>/data.pkl in the torch archive, found ${pkls.length} (legacy non-zip torch files are not supported)`,
      { file },
    );
  const root = pkls[0]!.slice(0, -"data.pkl".length);
  const order = zip.entries.has(`${root}byteorder`)
    ? new TextDecoder().decode(zip.read(`${root}byteorder`)).trim()
    : "little";
  if (order !== "little")
    throw new SaeError("FORMAT_INVALID", `${file}: byteorder "${order}" is not supported (only little-endian)`, {
      file,
    });
  const obj = readPickle(zip.read(pkls[0]!), `${file}:${pkls[0]}`);
  const dict = unwrapStateDict(obj, file);
  const out = new Map<string, TorchTensor>();
  for (const [k, v] of dict) {
    if (typeof k !== "string")
      throw new SaeError("FORMAT_INVALID", `${file}: state dict key is not a string`, { file });
    if (!(v instanceof PyTensorRef))
      throw new SaeError("FORMAT_INVALID", `${file}: state dict entry "${k}" is not a tensor`, { file, field: k });
    out.set(k, materialize(zip, root, v, file, k));
  }
  return out;
}

function unwrapStateDict(obj: PyValue, file: string): Map<PyValue, PyValue> {
  if (!(obj instanceof Map)) throw new SaeError("FORMAT_INVALID", `${file}: pickle does not hold a dict`, { file });
  // dictionary_learning mid-run backups: {step, ae: state_dict, optimizer, config, norm_factor}
  const inner = obj.get("ae");
  if (inner instanceof Map) return inner;
  return obj;
}

function materialize(zip: ZipArchive, root: string, t: PyTensorRef, file: string, name: string): TorchTensor {
  const s = t.storage;
  const raw = zip.read(`${root}data/${s.key}`);
  const eb = ELEM_BYTES[s.dtype];
  if (raw.length < s.numel * eb) {
    throw new SaeError(
      "FORMAT_INVALID",
      `${file}: storage ${s.key} of "${name}" has ${raw.length} bytes, its ${s.numel} ${s.dtype} elements need ${s.numel * eb}`,
      { file, field: name },
    );
  }
  const numel = t.shape.reduce((a, b) => a * b, 1);
  let maxIndex = t.offset;
  for (let i = 0; i < t.shape.length; i++) if (t.shape[i]! > 0) maxIndex += (t.shape[i]! - 1) * t.stride[i]!;
  if (numel > 0 && maxIndex >= s.numel) {
    throw new SaeError(
      "FORMAT_INVALID",
      `${file}: tensor "${name}" [${t.shape.join(", ")}] reaches element ${maxIndex} of a storage with ${s.numel} elements (storage shorter than its tensor)`,
      { file, field: name },
    );
  }
  if (s.dtype === "f32" && t.offset === 0 && isContiguous(t.shape, t.stride)) {
    // The storage's bytes are the tensor: take them as they are (read fresh from the file, or copied to align).
    const whole = raw.byteOffset % 4 === 0 && raw.byteLength === raw.buffer.byteLength ? raw : raw.slice();
    return { dtype: s.dtype, shape: t.shape, values: new Float32Array(whole.buffer, whole.byteOffset, numel) };
  }
  const aligned = new Uint8Array(raw.slice(0, s.numel * eb)).buffer;
  const read = reader(s.dtype, aligned, s.numel, file, name);
  const values = new Float64Array(numel);
  const idx = new Array<number>(t.shape.length).fill(0);
  for (let n = 0; n < numel; n++) {
    let off = t.offset;
    for (let d = 0; d < idx.length; d++) off += idx[d]! * t.stride[d]!;
    values[n] = read(off);
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < t.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { dtype: s.dtype, shape: t.shape, values };
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let want = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d]! > 1 && stride[d] !== want) return false;
    want *= shape[d]!;
  }
  return true;
}

function reader(dtype: TorchDType, buf: ArrayBuffer, numel: number, file: string, name: string): (i: number) => number {
  switch (dtype) {
    case "f32": {
      const a = new Float32Array(buf);
      return (i) => a[i]!;
    }
    case "f64": {
      const a = new Float64Array(buf);
      return (i) => a[i]!;
    }
    case "f16": {
      const a = f16ArrayToF32(new Uint16Array(buf));
      return (i) => a[i]!;
    }
    case "bf16": {
      const a = bf16ArrayToF32(new Uint16Array(buf));
      return (i) => a[i]!;
    }
    case "i64": {
      const a = new BigInt64Array(buf);
      return (i) => {
        const v = a[i]!;
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
          throw new SaeError("FORMAT_INVALID", `${file}: int64 value ${v} in "${name}" exceeds 2^53`, {
            file,
            field: name,
          });
        return Number(v);
      };
    }
    case "i32": {
      const a = new Int32Array(buf);
      return (i) => a[i]!;
    }
    case "i16": {
      const a = new Int16Array(buf);
      return (i) => a[i]!;
    }
    case "i8": {
      const a = new Int8Array(buf);
      return (i) => a[i]!;
    }
    case "u8":
    case "bool": {
      const a = new Uint8Array(buf);
      return (i) => a[i]!;
    }
  }
  void numel;
}
