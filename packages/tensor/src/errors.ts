import { DifflensError } from "@difflens/common";

/** Stable codes of the compute core (safetensors adds its own, `SafetensorsErrorCode`). */
export type TensorErrorCode =
  | "BAD_ARGUMENT"
  | "SHAPE_MISMATCH"
  | "DTYPE_MISMATCH"
  | "UNKNOWN_DTYPE"
  | "INDEX_OUT_OF_RANGE"
  | "VALUE_OUT_OF_RANGE"
  | "CAST_OUT_OF_RANGE"
  | "MISSING_OUT"
  | "NATIVE_UNAVAILABLE"
  | "DEVICE_MISMATCH"
  | "DEVICE_UNAVAILABLE"
  | "DEVICE_LIMIT"
  | "DEVICE_LOST"
  | "DEVICE_ERROR"
  | "RNG_BAD_SEED"
  | "RNG_BAD_RANGE"
  | "RNG_BAD_STATE";

/**
 * Base class of every error this package throws on bad input: a stable `code` a caller can switch on,
 * and a message that states the facts (what was expected, what was given, the fix when known).
 */
export class TensorError<Code extends string = TensorErrorCode> extends DifflensError<Code> {}
