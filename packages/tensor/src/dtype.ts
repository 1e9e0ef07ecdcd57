/** Element types a tensor can be stored in. Compute is f32 unless a kernel says otherwise. */
export type DType = "f32" | "f16" | "bf16" | "i32" | "i64" | "u8" | "bool";

/** The typed array that holds each dtype on the CPU. f16 and bf16 are raw 16-bit patterns. */
export interface StorageMap {
  f32: Float32Array;
  f16: Uint16Array;
  bf16: Uint16Array;
  i32: Int32Array;
  i64: BigInt64Array;
  u8: Uint8Array;
  bool: Uint8Array;
}
export type Storage<D extends DType = DType> = StorageMap[D];

export const DTYPE_BYTES: Readonly<Record<DType, number>> = Object.freeze({
  f32: 4,
  f16: 2,
  bf16: 2,
  i32: 4,
  i64: 8,
  u8: 1,
  bool: 1,
});

export function isFloat(dtype: DType): dtype is "f32" | "f16" | "bf16" {
  return dtype === "f32" || dtype === "f16" || dtype === "bf16";
}
