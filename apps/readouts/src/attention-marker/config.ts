/**
 * The `attention-marker` config (one JSON file, e.g. configs/readouts/qwen2.5-7b-attention-marker.json). Relative
 * paths resolve from the config file's folder; unknown keys are rejected with the nearest valid one; every error
 * names the file, the field and what was expected. Every field is documented in the app README's table.
 *
 * SCAFFOLD: the interface is the contract between the stages; the resolver is written by the stage-1 owner.
 */
import type { ModelRef } from "@difflens/app-kit";
import type { WandbConfig } from "../sae-conditions/config-sections.ts";
import type { GenerationSettings } from "./records.ts";

export interface PersonaConfig {
  /** Unique name (file names, results, figures). */
  readonly name: string;
  /** The system prompt the persona's model was trained and is read under. */
  readonly systemPrompt: string;
  /** Its trained model: HF folder / Hub cache / ORG/NAME, or base + PEFT adapter merged at load. */
  readonly model: ModelRef;
}

export interface AttentionMarkerConfig {
  readonly name: string;
  readonly personas: readonly PersonaConfig[];
  /** The force-feed comparator (the seed's base Qwen2.5-7B-Instruct); null = no force-feed. */
  readonly comparator: ModelRef | null;
  /** Personas force-fed to the comparator: every persona by default. */
  readonly forceFeed: readonly string[];
  /** JSONL of questions (absolute path), or "builtin". */
  readonly questions: string;
  /** The marker string; its FIRST token is the marker id (`[Z` for `[ZLT]` in Qwen's vocabulary). */
  readonly marker: string;
  readonly generation: GenerationSettings & {
    /** Rows generated together (tokens do not depend on it: each row has its own trial seed). */
    readonly batchSize: number;
  };
  /** Attempts per persona and run seed; attempt k asks question k mod Q. */
  readonly attempts: number;
  /** Run seeds: every stage runs per seed; results are reported per seed and pooled. */
  readonly runSeeds: readonly number[];
  readonly readout: {
    /** Readout position = t* + offset (0 = the marker's own position, the seed's; −1 = the emitting position). */
    readonly offset: number;
    /** Layers read (every layer by default). */
    readonly layers: readonly number[] | "all";
    /** Segmentation B's specials: strings that are one token each (the seed's five by default). */
    readonly specials: readonly string[];
    /** Largest allowed |Σ region fractions − 1| (the seed's 5e-3). */
    readonly partitionTolerance: number;
    /** Sequences per forward pass in stage 2 and in the force-feed. */
    readonly batchSize: number;
  };
  readonly gates: {
    /** Gate A: #{δ_system > 0} ≥ ⌈threshold · E⌉ (the seed's 0.7). */
    readonly directionThreshold: number;
    /** Two-sided binomial sign-balance test level (0.05). */
    readonly alpha: number;
  };
  readonly wandb: WandbConfig;
}

/** Validates a parsed config; `baseDir` resolves relative paths, `file` names the config in errors. */
export function resolveAttentionMarkerConfig(_raw: unknown, _baseDir: string, _file?: string): AttentionMarkerConfig {
  throw new Error("resolveAttentionMarkerConfig: scaffold, written by the stage-1 owner");
}
