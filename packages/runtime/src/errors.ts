/**
 * Every failure the runtime reports is a `RuntimeError` with a stable `code` and the facts a person can act on
 * (file, field, tensor, expected, got, fix). Subclasses exist so callers can `instanceof` by area.
 */
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

export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  /** Machine-readable facts: file, field, tensor, expected, got, fix… */
  readonly facts: Readonly<Record<string, unknown>>;
  constructor(code: RuntimeErrorCode, message: string, facts: Record<string, unknown> = {}) {
    super(message);
    this.name = "RuntimeError";
    this.code = code;
    this.facts = Object.freeze({ ...facts });
  }
}

export class ConfigError extends RuntimeError {
  override name = "ConfigError";
}
export class CheckpointError extends RuntimeError {
  override name = "CheckpointError";
}
export class HookError extends RuntimeError {
  override name = "HookError";
}
export class InputError extends RuntimeError {
  override name = "InputError";
}
export class LoraError extends RuntimeError {
  override name = "LoraError";
}
export class HubError extends RuntimeError {
  override name = "HubError";
}
