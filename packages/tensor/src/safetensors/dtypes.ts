import type { DType } from "../dtype.ts";

/** A dtype name as the safetensors header spells it. */
export type SafetensorsDtype =
  | "BOOL"
  | "F4"
  | "F6_E2M3"
  | "F6_E3M2"
  | "U8"
  | "I8"
  | "F8_E5M2"
  | "F8_E4M3"
  | "F8_E8M0"
  | "F8_E4M3FNUZ"
  | "F8_E5M2FNUZ"
  | "I16"
  | "U16"
  | "F16"
  | "BF16"
  | "I32"
  | "U32"
  | "F32"
  | "C64"
  | "F64"
  | "I64"
  | "U64";

interface FormatDtype {
  /** Bits per element (sub-byte dtypes pack several elements per byte). */
  bits: number;
  /**
   * Position in the reference library's dtype enum, which is declared in increasing alignment order; its writer
   * lays tensors out by descending rank, then by name, so the widest types come first and stay aligned.
   */
  rank: number;
  /** Our in-memory dtype, when we have one. */
  ours: DType | null;
}

// Order and widths follow the dtype enum of huggingface/safetensors (safetensors/src/tensor.rs, main, 2025).
const FORMAT_DTYPES: Readonly<Record<SafetensorsDtype, FormatDtype>> = Object.freeze({
  BOOL: { bits: 8, rank: 0, ours: "bool" },
  F4: { bits: 4, rank: 1, ours: null },
  F6_E2M3: { bits: 6, rank: 2, ours: null },
  F6_E3M2: { bits: 6, rank: 3, ours: null },
  U8: { bits: 8, rank: 4, ours: "u8" },
  I8: { bits: 8, rank: 5, ours: null },
  F8_E5M2: { bits: 8, rank: 6, ours: null },
  F8_E4M3: { bits: 8, rank: 7, ours: null },
  F8_E8M0: { bits: 8, rank: 8, ours: null },
  F8_E4M3FNUZ: { bits: 8, rank: 9, ours: null },
  F8_E5M2FNUZ: { bits: 8, rank: 10, ours: null },
  I16: { bits: 16, rank: 11, ours: null },
  U16: { bits: 16, rank: 12, ours: null },
  F16: { bits: 16, rank: 13, ours: "f16" },
  BF16: { bits: 16, rank: 14, ours: "bf16" },
  I32: { bits: 32, rank: 15, ours: "i32" },
  U32: { bits: 32, rank: 16, ours: null },
  F32: { bits: 32, rank: 17, ours: "f32" },
  C64: { bits: 64, rank: 18, ours: null },
  F64: { bits: 64, rank: 19, ours: null },
  I64: { bits: 64, rank: 20, ours: "i64" },
  U64: { bits: 64, rank: 21, ours: null },
});

const OURS_TO_FORMAT: Readonly<Record<DType, SafetensorsDtype>> = Object.freeze({
  f32: "F32",
  f16: "F16",
  bf16: "BF16",
  i32: "I32",
  i64: "I64",
  u8: "U8",
  bool: "BOOL",
});

export function isSafetensorsDtype(name: string): name is SafetensorsDtype {
  return Object.hasOwn(FORMAT_DTYPES, name);
}

export function formatDtypeBits(dtype: SafetensorsDtype): number {
  return FORMAT_DTYPES[dtype].bits;
}

/** The reference writer's layout rank: higher ranks are written first. */
export function formatDtypeRank(dtype: SafetensorsDtype): number {
  return FORMAT_DTYPES[dtype].rank;
}

/** Our dtype for a format dtype, or null when a Tensor cannot hold it. */
export function toOurDtype(dtype: SafetensorsDtype): DType | null {
  return FORMAT_DTYPES[dtype].ours;
}

export function toFormatDtype(dtype: DType): SafetensorsDtype {
  return OURS_TO_FORMAT[dtype];
}

export const ALL_FORMAT_DTYPES: readonly SafetensorsDtype[] = Object.freeze(
  Object.keys(FORMAT_DTYPES) as SafetensorsDtype[],
);
