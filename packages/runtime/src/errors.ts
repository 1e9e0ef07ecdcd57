/**
 * Every failure the runtime reports is a `RuntimeError` (a `DifflensError`) with a stable `code` and the facts a
 * person can act on (file, field, tensor, expected, got, fix). Subclasses exist so callers can `instanceof` by area.
 */
import { DifflensError } from "@difflens/common";

export type RuntimeErrorCode =
  | "CONFIG_MISSING_FIELD"
  | "CONFIG_INVALID_FIELD"
  | "CONFIG_CONTRADICTION"
  | "CONFIG_UNKNOWN_KEY"
  | "UNSUPPORTED_ARCHITECTURE"
  | "UNSUPPORTED_FEATURE"
  | "MODEL_NOT_FOUND"
  | "WEIGHT_MISSING"
  | "WEIGHT_SHAPE"
  | "WEIGHT_DTYPE"
  | "UNKNOWN_HOOK"
  | "HOOK_SHAPE"
  | "TOKEN_OUT_OF_RANGE"
  | "SEQUENCE_TOO_LONG"
  | "EMPTY_INPUT"
  | "BATCH_SHAPE"
  | "BAD_ARGUMENT"
  | "LORA_TARGET_MISSING"
  | "LORA_SHAPE"
  | "LORA_CONFIG"
  | "HUB_HTTP"
  | "HUB_CHECKSUM"
  | "HUB_OFFLINE_MISS";

export class RuntimeError extends DifflensError<RuntimeErrorCode> {}

export class ConfigError extends RuntimeError {}
export class CheckpointError extends RuntimeError {}
export class HookError extends RuntimeError {}
export class InputError extends RuntimeError {}
export class LoraError extends RuntimeError {}
export class HubError extends RuntimeError {}
