import { didYouMean } from "@difflens/common";
import { Rng, Tensor } from "@difflens/tensor";
import { leftPad, prepareBatch } from "../batch.ts";
import { ConfigError, InputError } from "../errors.ts";
import type { Model } from "../model.ts";
import { sampleToken } from "./sampling.ts";

/** How to generate. Defaults: greedy, no top-p/top-k, seed 0, stop tokens from generation_config.json, KV cache on. */
export interface GenerateConfig {
  /** Tokens to generate at most per row. */
  readonly maxNewTokens: number;
  /** 0 = greedy. */
  readonly temperature: number;
  /** Nucleus sampling threshold in (0, 1]. */
  readonly topP: number;
  /** Keep the k most probable tokens (0 = off). */
  readonly topK: number;
  /** Seed of the tensor `Rng` (xoshiro-style, documented in @difflens/tensor): same seed, same stream everywhere. */
  readonly seed: number;
  /**
   * One seed per row (null = off): row b then samples from its own `Rng(rowSeeds[b])` instead of the shared stream
   * seeded by `seed`, so a row's tokens do not depend on which other rows share its batch (resumable, batch-size
   * independent sampling).
   */
  readonly rowSeeds: readonly number[] | null;
  /** Tokens that end a row (emitted, then the row stops). null = the model's generation defaults (eos). */
  readonly stopTokens: readonly number[] | null;
  /** Use the KV cache (false = recompute the whole sequence every step; same tokens, slower). */
  readonly useKvCache: boolean;
  /** Token used for left padding and for rows that already stopped. null = generation default or 0. */
  readonly padTokenId: number | null;
  /** Keep the logits each new token was chosen from ([batch, steps, vocab]). */
  readonly returnLogits: boolean;
}

export const GENERATE_DEFAULTS: Readonly<Omit<GenerateConfig, "maxNewTokens">> = Object.freeze({
  temperature: 0,
  topP: 1,
  topK: 0,
  seed: 0,
  rowSeeds: null,
  stopTokens: null,
  useKvCache: true,
  padTokenId: null,
  returnLogits: false,
});

const KEYS = ["maxNewTokens", ...Object.keys(GENERATE_DEFAULTS)];

/** Validates a generation config (unknown keys rejected with the nearest valid key); never mutates the input. */
export function resolveGenerateConfig(input: unknown): GenerateConfig {
  if (typeof input !== "object" || input === null)
    throw new ConfigError("CONFIG_INVALID_FIELD", "GenerateConfig: expected an object");
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!KEYS.includes(k))
      throw new ConfigError("CONFIG_UNKNOWN_KEY", `GenerateConfig: unknown key "${k}"${didYouMean(k, KEYS)}`, {
        field: k,
      });
  const c = { ...GENERATE_DEFAULTS, ...o } as GenerateConfig;
  const bad = (field: string, expected: string): never => {
    throw new ConfigError(
      "CONFIG_INVALID_FIELD",
      `GenerateConfig.${field} must be ${expected}, got ${JSON.stringify(o[field])}`,
      { field, expected, got: o[field] },
    );
  };
  if (!Number.isInteger(c.maxNewTokens) || c.maxNewTokens < 1) bad("maxNewTokens", "a positive integer");
  if (!(c.temperature >= 0) || !Number.isFinite(c.temperature)) bad("temperature", "≥ 0");
  if (!(c.topP > 0 && c.topP <= 1)) bad("topP", "in (0, 1]");
  if (!Number.isInteger(c.topK) || c.topK < 0) bad("topK", "an integer ≥ 0");
  if (!Number.isInteger(c.seed)) bad("seed", "an integer");
  if (c.stopTokens !== null && !Array.isArray(c.stopTokens)) bad("stopTokens", "a list of token ids or null");
  if (c.rowSeeds !== null && !(Array.isArray(c.rowSeeds) && c.rowSeeds.every(Number.isInteger)))
    bad("rowSeeds", "a list of integer seeds (one per row) or null");
  return Object.freeze({
    ...c,
    stopTokens: c.stopTokens === null ? null : Object.freeze([...c.stopTokens]),
    rowSeeds: c.rowSeeds === null ? null : Object.freeze([...c.rowSeeds]),
  });
}

export interface GenerateResult {
  /** Generated tokens per row (stop token included when it ended the row). */
  readonly tokens: number[][];
  /** Prompt + generated tokens per row (no padding). */
  readonly sequences: number[][];
  readonly finishReasons: Array<"stop" | "length">;
  /** [batch, steps, vocab] logits each token was drawn from (returnLogits). Rows that stopped keep stale steps. */
  readonly stepLogits?: Tensor;
}

/**
 * Generates from one prompt or a batch of prompts (left-padded internally). Hooks attached to the model (e.g.
 * steering via withHooks) are active for the prompt and for every generated token.
 */
export async function generate(
  model: Model,
  prompts: readonly number[] | readonly (readonly number[])[],
  config: Partial<GenerateConfig> & { maxNewTokens: number },
): Promise<GenerateResult> {
  const c = resolveGenerateConfig(config);
  const rows: number[][] =
    typeof prompts[0] === "number" || prompts.length === 0
      ? [[...(prompts as number[])]]
      : (prompts as number[][]).map((p) => [...p]);
  rows.forEach((r, i) => {
    if (r.length === 0) throw new InputError("EMPTY_INPUT", `generate: prompt ${i} is empty`, { row: i });
  });
  const V = model.config.vocabSize;
  const stops = new Set(c.stopTokens ?? model.generation.eosTokenIds);
  for (const s of stops)
    if (!Number.isInteger(s) || s < 0 || s >= V)
      throw new InputError("TOKEN_OUT_OF_RANGE", `generate: stop token ${s} is outside the vocabulary [0, ${V})`, {
        got: s,
      });
  const pad = c.padTokenId ?? model.generation.padTokenId ?? 0;
  const B = rows.length;
  const padded = leftPad(rows, pad);
  const width = padded.ids[0]!.length;
  if (width + c.maxNewTokens > model.config.maxPositions) {
    throw new InputError(
      "SEQUENCE_TOO_LONG",
      `generate: prompt (${width}) + maxNewTokens (${c.maxNewTokens}) exceeds max_position_embeddings ${model.config.maxPositions}`,
      { expected: model.config.maxPositions, got: width + c.maxNewTokens },
    );
  }
  if (c.rowSeeds !== null && c.rowSeeds.length !== B)
    throw new InputError("BATCH_SHAPE", `generate: rowSeeds has ${c.rowSeeds.length} seeds for ${B} prompts`, {
      expected: B,
      got: c.rowSeeds.length,
    });
  const shared = new Rng(c.seed);
  const rowRngs = c.rowSeeds?.map((s) => new Rng(s)) ?? null;
  const kv = c.useKvCache ? model.createKvCache(B, width + c.maxNewTokens) : undefined;
  const tokens: number[][] = rows.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  const finish: Array<"stop" | "length"> = new Array(B).fill("length");
  const kept: Float32Array[] = [];
  // full ids / mask so far (used without a cache)
  const allIds = padded.ids.map((r) => [...r]);
  const allMask = padded.attentionMask.map((r) => [...r]);
  let step = prepareBatch(model.config, padded, kv);
  try {
    for (let t = 0; t < c.maxNewTokens; t++) {
      const logits = (await model.forwardPrepared(step, "last", kv))!.data as Float32Array; // [B, 1, V]
      if (c.returnLogits) kept.push(logits.slice());
      const next: number[] = [];
      for (let b = 0; b < B; b++) {
        if (done[b]) {
          next.push(pad);
          continue;
        }
        const tok = sampleToken(logits, b * V, V, c, rowRngs?.[b] ?? shared);
        tokens[b]!.push(tok);
        next.push(tok);
        if (stops.has(tok)) {
          done[b] = true;
          finish[b] = "stop";
        }
      }
      if (done.every(Boolean) || t + 1 === c.maxNewTokens) break;
      for (let b = 0; b < B; b++) {
        allIds[b]!.push(next[b]!);
        allMask[b]!.push(1);
      }
      step = kv
        ? prepareBatch(model.config, { ids: next.map((x) => [x]), attentionMask: next.map(() => [1]) }, kv)
        : prepareBatch(model.config, { ids: allIds, attentionMask: allMask });
    }
  } finally {
    kv?.release(); // device buffers back now, not at the next collection
  }
  const result: GenerateResult = {
    tokens,
    sequences: rows.map((r, b) => [...r, ...tokens[b]!]),
    finishReasons: finish,
  };
  if (!c.returnLogits) return result;
  const steps = kept.length;
  const out = new Float32Array(B * steps * V);
  kept.forEach((l, s) => {
    for (let b = 0; b < B; b++) out.set(l.subarray(b * V, (b + 1) * V), (b * steps + s) * V);
  });
  return { ...result, stepLogits: new Tensor("f32", [B, steps, V], out) };
}

/**
 * Force-feed: runs the model on prompt + continuation (e.g. a base model on a fine-tuned model's generation) and
 * returns the logits at each continuation step — step i is what generation saw when it chose continuation[i] —
 * plus any hooks kept (runWithCache options `names`/`filter`/`positions`).
 */
export async function forceFeed(
  model: Model,
  prompt: readonly number[],
  continuation: readonly number[],
  opts: { names?: readonly string[]; filter?: (name: string) => boolean; positions?: readonly number[] } = {},
): Promise<{ stepLogits: Tensor; cache: import("../hooks/activation-cache.ts").ActivationCache }> {
  if (prompt.length === 0) throw new InputError("EMPTY_INPUT", "forceFeed: the prompt is empty");
  if (continuation.length === 0) throw new InputError("EMPTY_INPUT", "forceFeed: the continuation is empty");
  const ids = [...prompt, ...continuation];
  const keep = opts.names === undefined && opts.filter === undefined ? { ...opts, names: [] } : opts;
  const { logits, cache } = await model.runWithCache([ids], { ...keep, logits: "all" });
  const V = model.config.vocabSize;
  const all = logits!.data as Float32Array;
  const steps = continuation.length;
  const start = prompt.length - 1;
  return { stepLogits: new Tensor("f32", [steps, V], all.slice(start * V, (start + steps) * V)), cache };
}
