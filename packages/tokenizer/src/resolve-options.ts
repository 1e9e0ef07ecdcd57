import { nearest } from "@difflens/common";
import type { BatchEncodeOptions } from "./encode-batch.ts";
import { TokenizerError } from "./errors.ts";

/** Defaults of `encodeBatch` when options come from a config file. */
export const DEFAULT_BATCH_ENCODE_OPTIONS: Readonly<BatchEncodeOptions> = Object.freeze({
  padding: "right",
  truncation: false,
  truncationSide: "right",
  padTo: "longest",
  addSpecialTokens: true,
  offsets: true,
});

type Check = (value: unknown) => boolean;
const positiveInt: Check = (v) => typeof v === "number" && Number.isInteger(v) && v >= 1;
const BATCH_FIELDS: Record<keyof BatchEncodeOptions, [Check, string]> = {
  padding: [(v) => v === "left" || v === "right", '"left" | "right"'],
  padToMultipleOf: [positiveInt, "a positive integer"],
  maxLength: [positiveInt, "a positive integer"],
  truncation: [(v) => typeof v === "boolean", "boolean"],
  truncationSide: [(v) => v === "left" || v === "right", '"left" | "right"'],
  padTo: [(v) => v === "longest" || v === "max-length", '"longest" | "max-length"'],
  padTokenId: [(v) => typeof v === "number" && Number.isInteger(v) && v >= 0, "a token id"],
  addSpecialTokens: [(v) => typeof v === "boolean", "boolean"],
  offsets: [(v) => typeof v === "boolean", "boolean"],
};

/**
 * Validates `encodeBatch` options read from a config (JSON/YAML): unknown keys are rejected with the nearest valid
 * key, values are type-checked, defaults filled in. Returns a new frozen object; the input is not touched.
 */
export function resolveBatchEncodeOptions(input: unknown): Readonly<BatchEncodeOptions> {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new TokenizerError("INVALID_OPTION", "batch encode options must be an object", {
      got: JSON.stringify(input),
    });
  }
  const known = Object.keys(BATCH_FIELDS);
  const out: Record<string, unknown> = { ...DEFAULT_BATCH_ENCODE_OPTIONS };
  for (const [key, value] of Object.entries(input)) {
    const field = BATCH_FIELDS[key as keyof BatchEncodeOptions];
    if (field === undefined) {
      const suggestion = nearest(key, known);
      throw new TokenizerError("INVALID_OPTION", `unknown option "${key}"`, {
        field: key,
        expected: known.join(", "),
        ...(suggestion === undefined ? {} : { suggestion, fix: `did you mean "${suggestion}"?` }),
      });
    }
    if (value === undefined) continue;
    if (!field[0](value))
      throw new TokenizerError("INVALID_OPTION", `bad value for ${key}`, {
        field: key,
        expected: field[1],
        got: JSON.stringify(value),
      });
    out[key] = value;
  }
  if (out["truncation"] === true && out["maxLength"] === undefined) {
    throw new TokenizerError("INVALID_OPTION", "truncation needs maxLength", {
      field: "maxLength",
      expected: "a positive integer",
    });
  }
  if (out["padTo"] === "max-length" && out["maxLength"] === undefined) {
    throw new TokenizerError("INVALID_OPTION", 'padTo "max-length" needs maxLength', {
      field: "maxLength",
      expected: "a positive integer",
    });
  }
  return Object.freeze(out as unknown as BatchEncodeOptions);
}
