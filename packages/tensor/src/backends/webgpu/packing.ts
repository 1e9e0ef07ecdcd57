import type { DType, Storage } from "../../dtype.ts";
import { TensorError } from "../../errors.ts";

/*
 * Host ↔ device layouts (GpuContext's storage conventions): f32 / i32 as themselves; f16 / bf16 packed two per u32
 * (element 2i in the low half, which little-endian byte order gives for free); u8 / bool widened to one u32 each;
 * i64 refused. Sizes are padded to a multiple of 4 bytes.
 */

/** Bytes a tensor of `size` elements takes on the device. */
export function deviceBytes(dtype: DType, size: number): number {
  switch (dtype) {
    case "f32":
    case "i32":
    case "u8":
    case "bool":
      return 4 * size;
    case "f16":
    case "bf16":
      return 4 * Math.ceil(size / 2);
    case "i64":
      throw new TensorError(
        "DTYPE_MISMATCH",
        "webgpu backend: i64 tensors have no device layout (WGSL has no 64-bit integers) — cast to i32 on the host first",
      );
  }
}

/** The device bytes of host data `data` (a typed array of `dtype`'s storage), zero-padded to `bytes`. */
export function packForDevice(dtype: DType, data: ArrayBufferView, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  if (dtype === "u8" || dtype === "bool") {
    new Uint32Array(out.buffer).set(data as Uint8Array);
  } else {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return out;
}

/** A host typed array of `size` elements of `dtype` from the device bytes `mapped` (copied out of it). */
export function unpackFromDevice(dtype: DType, size: number, mapped: ArrayBuffer): Storage {
  switch (dtype) {
    case "f32":
      return new Float32Array(mapped, 0, size).slice();
    case "i32":
      return new Int32Array(mapped, 0, size).slice();
    case "f16":
    case "bf16":
      return new Uint16Array(mapped, 0, size).slice();
    case "u8":
    case "bool":
      return Uint8Array.from(new Uint32Array(mapped, 0, size));
    case "i64":
      throw new TensorError("DTYPE_MISMATCH", "webgpu backend: i64 tensors have no device layout");
  }
}
