/**
 * The model families the runtime knows, one registration line each, and how a config picks one: config.json's
 * `model_type`, else its `architectures`; our configs by `architecture` (the family's name). Adding a family is a
 * folder under families/ plus one line in FAMILIES (or `registerFamily` for a family defined outside the runtime).
 */
import { ConfigError } from "../errors.ts";
import { GEMMA2_FAMILY } from "./gemma2/gemma2-family.ts";
import { GEMMA3_FAMILY } from "./gemma3/gemma3-family.ts";
import { LLAMA_FAMILY } from "./llama/llama-family.ts";
import type { DecoderConfig, DecoderWeights, ModelFamily } from "./model-family.ts";
import { QWEN2_FAMILY } from "./qwen2/qwen2-family.ts";
import { QWEN3_FAMILY } from "./qwen3/qwen3-family.ts";

// biome-ignore lint/suspicious/noExplicitAny: a family list holds families of different config and weight types
type AnyFamily = ModelFamily<any, any>;

/** The built-in families, in the order errors list them. */
export const FAMILIES: readonly AnyFamily[] = Object.freeze([
  QWEN2_FAMILY,
  LLAMA_FAMILY,
  QWEN3_FAMILY,
  GEMMA2_FAMILY,
  GEMMA3_FAMILY,
]);

const registered: AnyFamily[] = [...FAMILIES];

/** Every family a config may name: the built-in ones, then those added with `registerFamily`. */
export function supportedFamilies(): readonly ModelFamily[] {
  return [...registered] as ModelFamily[];
}

/**
 * Adds a family (a plug-in, or a test's fake); its name, model types and architectures must not clash with a known
 * family's. Returns a function that removes it again.
 */
export function registerFamily<C extends DecoderConfig, W extends DecoderWeights>(
  family: ModelFamily<C, W>,
): () => void {
  for (const known of registered) {
    const clash =
      known.name === family.name
        ? `name "${family.name}"`
        : (family.modelTypes.find((t) => known.modelTypes.includes(t)) ??
          family.architectures.find((a) => known.architectures.includes(a)));
    if (clash !== undefined)
      throw new ConfigError(
        "CONFIG_CONTRADICTION",
        `registerFamily: ${clash} is already taken by ${known.description}`,
        {
          field: "family",
          got: family.name,
        },
      );
  }
  registered.push(family);
  return () => {
    const i = registered.indexOf(family);
    if (i >= 0 && !FAMILIES.includes(family)) registered.splice(i, 1);
  };
}

function supportedList(): string {
  return registered.map((f) => f.description).join("; ");
}

/** The family of a registered name (our configs' `architecture`); unknown names list the supported families. */
export function familyByName(name: string): ModelFamily {
  const family = registered.find((f) => f.name === name);
  if (!family) {
    throw new ConfigError(
      "UNSUPPORTED_ARCHITECTURE",
      `architecture ${JSON.stringify(name)} is not supported; supported: ${supportedList()}`,
      { field: "architecture", got: name, expected: registered.map((f) => f.name) },
    );
  }
  return family as ModelFamily;
}

/**
 * The family that reads an HF config.json: by `model_type`, else by `architectures`. An unsupported model names
 * every supported family with its description (UNSUPPORTED_ARCHITECTURE).
 */
export function familyForHfConfig(json: Readonly<Record<string, unknown>>, file = "config.json"): ModelFamily {
  const modelType = json.model_type;
  const archs = Array.isArray(json.architectures) ? (json.architectures as unknown[]) : [];
  const family =
    typeof modelType === "string"
      ? registered.find((f) => f.modelTypes.includes(modelType))
      : modelType === undefined
        ? registered.find((f) => archs.some((a) => typeof a === "string" && f.architectures.includes(a)))
        : undefined;
  if (!family) {
    throw new ConfigError(
      "UNSUPPORTED_ARCHITECTURE",
      `${file}: model_type ${JSON.stringify(modelType)} (architectures ${JSON.stringify(archs)}) is not supported; supported: ${supportedList()}`,
      { file, field: "model_type", got: modelType, expected: registered.map((f) => f.name) },
    );
  }
  return family as ModelFamily;
}
