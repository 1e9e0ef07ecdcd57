/**
 * The family seam (issue 22): a model family is a config reader, a weight map and a forward function behind this one
 * interface, chosen from config.json's `model_type` / `architectures` (families/registry.ts). `Model`, hooks, the KV
 * cache, LoRA, generation, harvest and saving depend on this interface only; adding a family is one folder under
 * `families/<name>/` plus one registration line.
 */
import type { Tensor } from "@difflens/tensor";
import type { ForwardBatch, LogitsMode } from "../forward-batch.ts";
import type { HookRunner } from "../hooks/hook-registry.ts";
import type { HookSite } from "../hooks/hook-sites.ts";
import type { KvCache } from "../kv-cache.ts";
import type { TensorSource } from "../tensor-source.ts";

/** What every decoder-only family's config has (in our names); a family's own config extends it. */
export interface DecoderConfig {
  /** The family's registered name ("qwen2", "llama", "qwen3", "gemma2", "gemma3"): the config decides, not the checkpoint's name. */
  readonly architecture: string;
  /** HF `vocab_size`. */
  readonly vocabSize: number;
  /** Residual width. HF `hidden_size`. */
  readonly dModel: number;
  /** HF `num_hidden_layers`. */
  readonly nLayers: number;
  /** Query heads. HF `num_attention_heads`. */
  readonly nHeads: number;
  /** Key/value heads (GQA when < nHeads). HF `num_key_value_heads`. */
  readonly nKvHeads: number;
  /** HF `head_dim`, else hidden_size / num_attention_heads. */
  readonly dHead: number;
  /** MLP hidden width. HF `intermediate_size`. */
  readonly dMlp: number;
  /** HF `max_position_embeddings`. */
  readonly maxPositions: number;
  /** HF `rms_norm_eps`. */
  readonly rmsNormEps: number;
  /** HF `tie_word_embeddings`. */
  readonly tieWordEmbeddings: boolean;
  readonly bosTokenId: number | null;
  /** Tokens that end generation by default (config.json; generation_config.json overrides at load). */
  readonly eosTokenIds: readonly number[];
}

/** The weights every family has under these names (a family's own weights extend it). */
export interface DecoderWeights {
  readonly embedTokens: Tensor; // [vocab, dModel]
  readonly layers: readonly DecoderLayerWeights[];
  readonly finalNorm: Tensor; // [dModel] as stored (Gemma's (1 + w) is applied by its forward, not stored)
  /** The unembedding; the same tensor as embedTokens when tied. */
  readonly lmHead: Tensor; // [vocab, dModel]
}

/** What readouts may read of every family's block (direct logit attribution reads o_proj). */
export interface DecoderLayerWeights {
  readonly oProj: Tensor; // [dModel, nHeads·dHead]
}

export interface ModelFamily<C extends DecoderConfig = DecoderConfig, W extends DecoderWeights = DecoderWeights> {
  /** The registered name; equals `config.architecture` of the configs it reads. */
  readonly name: string;
  /** One line for lists and errors: "llama (LlamaForCausalLM: Llama 2, 3, 3.1, 3.2; Mistral-style configs)". */
  readonly description: string;
  /** config.json `model_type` values this family reads. */
  readonly modelTypes: readonly string[];
  /** config.json `architectures` values this family reads (used when model_type is absent). */
  readonly architectures: readonly string[];
  /** Validates an HF config.json object; errors (ConfigError) name the file and the field. */
  configFromHf(json: Readonly<Record<string, unknown>>, file: string): C;
  /** The HF config.json a saved folder gets (round-trips through configFromHf). */
  configToHf(c: C): Record<string, unknown>;
  /** Our camelCase input (random and toy models), defaults filled in, validated like configFromHf. */
  resolveConfig(input: Readonly<Record<string, unknown>>): C;
  /** The hook table, in forward order within a block (TransformerLens names; family-only sites documented). */
  readonly hookSites: readonly HookSite[];
  /** Every HF tensor name the family needs with its shape (lm_head only when untied). */
  weightShapes(c: C): Map<string, number[]>;
  /** Checks presence, dtype and shape of every tensor before reading, then binds them (CheckpointError naming it). */
  bindWeights(c: C, src: TensorSource): W;
  /** The weights back under their HF names (what saving and LoRA merges read); lm_head only when untied. */
  weightEntries(c: C, w: W): Map<string, Tensor>;
  /** LoRA-targetable linear modules, as suffixes under `model.layers.<L>.` ("self_attn.q_proj", "mlp.down_proj", …). */
  readonly linearModules: readonly string[];
  /** Random-model initialisation of one HF tensor (deterministic scales; random-model.ts draws). */
  initStd(name: string, shape: readonly number[], c: C): { readonly std: number; readonly mean: number };
  /**
   * The forward pass on the current backend: every intermediate goes through `hooks.run(name, t, shape)` at the
   * family's sites; returns the logits (per `logits`) on the device, or undefined for "none".
   */
  forward(
    c: C,
    w: W,
    input: ForwardBatch,
    hooks: HookRunner,
    kv: KvCache | undefined,
    logits: LogitsMode,
  ): Promise<Tensor | undefined>;
  /**
   * The logit lens: residual rows [rows, dModel] (device tensor) → logits [rows, vocab] through the family's final
   * norm, unembedding and any final soft-capping — exactly the tail of `forward`.
   */
  unembed(c: C, w: W, resid: Tensor): Tensor;
  /**
   * The unembedding of final-norm outputs (what `ln_final.hook_normalized` saw) [rows, dModel] (device tensor) →
   * logits [rows, vocab]: lm_head and any final soft-capping — exactly the tail of `forward` after that hook. What
   * force-feeding and readouts use when they hook the final norm (so hooks there count) and unembed a few rows.
   */
  unembedNormed(c: C, w: W, normed: Tensor): Tensor;
  /**
   * How the family's RMSNorm weights are stored: y = x/rms(x) · (normWeightOffset + w). Absent = 0 (Llama, Qwen);
   * Gemma stores w − 1, so 1. Host-side readers of the final norm (direct logit attribution) apply it.
   */
  readonly normWeightOffset?: number;
}
