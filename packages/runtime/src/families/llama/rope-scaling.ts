/**
 * RoPE scaling as Hugging Face's `rope_scaling` describes it (`modeling_rope_utils.py`), read from config.json and
 * turned into the inverse frequencies the `ropeInPlace` kernel takes. Computed on the host in float64 once per
 * forward call (dHead / 2 numbers); the kernel's angle is then position · invFreq[i].
 *
 *   plain    invFreq_i = θ^(−2i/d)                                     (no invFreq passed: the kernel's own)
 *   linear   invFreq_i / factor                                       (positions divided by factor)
 *   dynamic  NTK: with L = max(position ids) + 1 of the call and M = config.json's max_position_embeddings, when
 *            L > M θ' = θ · (factor·L/M − (factor − 1))^(d/(d−2)), else plain. HF's rotary module keeps the grown
 *            frequencies across calls until a call is shorter than M again; we compute them per call (equal for a
 *            fresh model, and for every call at least as long as the previous ones — generation with a KV cache).
 *            Dynamic scaling exists to run past M, so our `maxPositions` (the longest input accepted) is
 *            ⌊M · factor⌋ and M is kept as `originalMaxPositions` (written back as max_position_embeddings).
 *   llama3   wavelen_i = 2π / invFreq_i; hi = orig / high_freq_factor, lo = orig / low_freq_factor:
 *            wavelen < hi: unchanged; wavelen > lo: invFreq / factor; between: with
 *            s = (orig / wavelen − low_freq_factor) / (high_freq_factor − low_freq_factor),
 *            (1 − s) · invFreq / factor + s · invFreq.
 * All keep HF's attention scaling at 1 (cos/sin unscaled). Other types (yarn, longrope, …) are refused by name.
 */
import { ConfigError } from "../../errors.ts";
import { isRecord, positiveInt, positiveNumber } from "../decoder-config-fields.ts";

export type RopeScaling =
  | { readonly type: "linear"; readonly factor: number }
  | { readonly type: "dynamic"; readonly factor: number; readonly originalMaxPositions: number }
  | {
      readonly type: "llama3";
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      /** HF `original_max_position_embeddings` (the pre-training context, 8192 for Llama 3.1/3.2). */
      readonly originalMaxPositions: number;
    };

const TYPES = ["linear", "dynamic", "llama3"] as const;

/**
 * HF's `rope_scaling` (null/absent, or a `rope_type` — legacy key `type` — of linear, dynamic, llama3);
 * `maxPositionEmbeddings` is config.json's (dynamic scaling grows past it).
 */
export function ropeScalingFromHf(value: unknown, file: string, maxPositionEmbeddings: number): RopeScaling | null {
  if (value === undefined || value === null) return null;
  const field = "rope_scaling";
  if (!isRecord(value))
    throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: "${field}" must be an object or null`, {
      file,
      field,
      got: value,
    });
  const type = value.rope_type ?? value.type;
  if (type === "default") return null;
  const need = (key: string): number => {
    if (value[key] === undefined)
      throw new ConfigError("CONFIG_MISSING_FIELD", `${file}: rope_scaling of type "${type}" needs "${key}"`, {
        file,
        field: `${field}.${key}`,
      });
    return positiveNumber(value[key], `${field}.${key}`, file);
  };
  if (type === "linear") return { type, factor: need("factor") };
  if (type === "dynamic") return { type, factor: need("factor"), originalMaxPositions: maxPositionEmbeddings };
  if (type === "llama3") {
    return checkLlama3(
      {
        type,
        factor: need("factor"),
        lowFreqFactor: need("low_freq_factor"),
        highFreqFactor: need("high_freq_factor"),
        originalMaxPositions: positiveInt(
          need("original_max_position_embeddings"),
          `${field}.original_max_position_embeddings`,
          file,
        ),
      },
      file,
    );
  }
  throw new ConfigError(
    "UNSUPPORTED_FEATURE",
    `${file}: rope_scaling type ${JSON.stringify(type)} is not supported; supported: ${TYPES.join(", ")} (or null)`,
    { file, field: `${field}.rope_type`, got: type, expected: TYPES.join(" | ") },
  );
}

export function ropeScalingToHf(s: RopeScaling | null): Record<string, unknown> | null {
  if (s === null) return null;
  if (s.type !== "llama3") return { rope_type: s.type, factor: s.factor };
  return {
    rope_type: "llama3",
    factor: s.factor,
    low_freq_factor: s.lowFreqFactor,
    high_freq_factor: s.highFreqFactor,
    original_max_position_embeddings: s.originalMaxPositions,
  };
}

/**
 * Our camelCase input (`{ type, factor, lowFreqFactor?, highFreqFactor?, originalMaxPositions? }`), validated;
 * llama3 and dynamic need `originalMaxPositions` (dynamic: the context the model was trained on, M above).
 */
export function resolveRopeScaling(value: unknown, file: string): RopeScaling | null {
  if (value === undefined || value === null) return null;
  if (!isRecord(value))
    throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: "ropeScaling" must be an object or null`, {
      file,
      field: "ropeScaling",
    });
  if (value.type === "dynamic" && value.originalMaxPositions === undefined)
    throw new ConfigError(
      "CONFIG_MISSING_FIELD",
      `${file}: ropeScaling of type "dynamic" needs "originalMaxPositions"`,
      {
        file,
        field: "ropeScaling.originalMaxPositions",
      },
    );
  const original =
    value.originalMaxPositions === undefined
      ? undefined
      : positiveInt(value.originalMaxPositions, "ropeScaling.originalMaxPositions", file);
  return ropeScalingFromHf(
    {
      rope_type: value.type,
      factor: value.factor,
      low_freq_factor: value.lowFreqFactor,
      high_freq_factor: value.highFreqFactor,
      original_max_position_embeddings: original,
    },
    file,
    original ?? 1,
  );
}

/** The longest input a config accepts: max_position_embeddings, or ⌊M · factor⌋ under dynamic scaling. */
export function contextLimit(maxPositionEmbeddings: number, scaling: RopeScaling | null): number {
  return scaling?.type === "dynamic" ? Math.floor(maxPositionEmbeddings * scaling.factor) : maxPositionEmbeddings;
}

/** config.json's max_position_embeddings for a config (dynamic scaling: its original context M). */
export function hfMaxPositions(maxPositions: number, scaling: RopeScaling | null): number {
  return scaling?.type === "dynamic" ? scaling.originalMaxPositions : maxPositions;
}

function checkLlama3(s: RopeScaling & { type: "llama3" }, file: string): RopeScaling {
  if (s.highFreqFactor <= s.lowFreqFactor)
    throw new ConfigError(
      "CONFIG_CONTRADICTION",
      `${file}: rope_scaling.high_freq_factor (${s.highFreqFactor}) must exceed low_freq_factor (${s.lowFreqFactor})`,
      { file, field: "rope_scaling.high_freq_factor" },
    );
  return s;
}

/**
 * The inverse frequencies [dHead / 2] for a call whose largest position id is `seqLen − 1`, or undefined when they
 * are the plain θ^(−2i/d) (then the kernel computes its own, exactly as for Qwen2).
 */
export function ropeInvFreq(
  theta: number,
  dHead: number,
  scaling: RopeScaling | null,
  seqLen: number,
): Float32Array | undefined {
  if (scaling === null) return undefined;
  if (scaling.type === "dynamic" && seqLen <= scaling.originalMaxPositions) return undefined;
  const half = dHead / 2;
  const base =
    scaling.type === "dynamic"
      ? theta *
        (scaling.factor * (seqLen / scaling.originalMaxPositions) - (scaling.factor - 1)) ** (dHead / (dHead - 2))
      : theta;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const plain = base ** ((-2 * i) / dHead);
    out[i] =
      scaling.type === "linear" ? plain / scaling.factor : scaling.type === "llama3" ? llama3(plain, scaling) : plain;
  }
  return out;
}

function llama3(invFreq: number, s: RopeScaling & { type: "llama3" }): number {
  const wavelen = (2 * Math.PI) / invFreq;
  if (wavelen < s.originalMaxPositions / s.highFreqFactor) return invFreq;
  if (wavelen > s.originalMaxPositions / s.lowFreqFactor) return invFreq / s.factor;
  const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
  return ((1 - smooth) * invFreq) / s.factor + smooth * invFreq;
}
