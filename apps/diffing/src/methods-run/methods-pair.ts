/**
 * The pair a methods run diffs, as model references plus where its paired-harvest windows come from:
 *   - the methods toy (`methods.toy`): its folders, hook, planted directions and windows;
 *   - the pipeline's demo toy (a config with `toy` and no methods pair): base + its plant adapter, the plant u;
 *   - real models (`methods.base/chat`, else the pipeline's `baseModel/chatModel`): text and chat windows of the
 *     pipeline's datasets, interleaved in whole forwards (a forward holds windows of one length).
 */
import { type ModelPair, type ModelRef, openModelPair } from "@difflens/app-kit";
import { ParquetDataset, textRows } from "@difflens/data";
import type { DiffingConfig } from "../config/diffing-config.ts";
import type { MethodsConfig } from "../config/methods-config.ts";
import { chatDataWindows, maskRulesOf, textWindows } from "../data/windows.ts";
import { assistantStartAfter, type PairedWindow } from "../methods/paired-harvest.ts";
import { ensureMethodsToy } from "../methods-toy/index.ts";
import { ensureToyFiles, TOY_HOOK } from "../toy/toy-files.ts";
import { IM_START_ID } from "../toy/toy-pair.ts";

/** Qwen's ids of `<|im_start|>assistant\n`: the opening of the assistant turn in windows without region labels. */
const ASSISTANT_MARKER = [IM_START_ID, 77091, 198];

export interface MethodsPair {
  readonly base: ModelRef;
  readonly chat: ModelRef;
  readonly hook: string;
  /** The toy's variant and unit planted directions at the hook; null for real models. */
  readonly toy: { readonly variant: string; readonly plants: Readonly<Record<string, Float32Array>> } | null;
  /** What the windows are, for the store's manifest. */
  readonly dataset: string;
  /** The paired-harvest windows (deterministic from the harvest seed), given the opened models. */
  windows(models: ModelPair): AsyncIterable<PairedWindow>;
  /** Token names for the ADL's logit lens. */
  decode(models: ModelPair): (id: number) => string;
  /** Start of the assistant content of a window (its region labels, else the Qwen chat marker), or null. */
  assistantStart(window: PairedWindow): number | null;
}

const markerStart = assistantStartAfter(ASSISTANT_MARKER);
function assistantStart(w: PairedWindow): number | null {
  const i = w.regions?.indexOf("assistant:content") ?? -1;
  return w.regions ? (i >= 0 ? i : null) : markerStart(w);
}

export async function methodsPair(
  pipeline: DiffingConfig,
  methods: MethodsConfig,
  log: (line: string) => void,
): Promise<MethodsPair> {
  const { windows: n, seed } = methods.harvest;
  if (methods.toy !== null) {
    const { variant, seed: toySeed, cacheDir } = methods.toy;
    const toy = await ensureMethodsToy(cacheDir, { variant, seed: toySeed, log });
    return {
      base: { path: toy.baseDir, adapter: null },
      chat: { path: toy.chatDir, adapter: null },
      hook: toy.hook,
      toy: { variant: toy.variant, plants: toy.plants },
      dataset: `methods toy (${variant}, seed ${toySeed}): ${n} windows, seed ${seed}`,
      windows: () => each(toy.windows(n, seed)),
      decode: () => toy.decode,
      assistantStart,
    };
  }
  const hook = methods.hook ?? pipeline.hook;
  if (methods.base === null && pipeline.toy !== null) {
    const t = pipeline.toy;
    const calibrationTexts = async function* () {
      const ds = await ParquetDataset.open(pipeline.textData.files);
      yield* textRows(ds, pipeline.textData.column, { shuffle: false, seed: 0 });
    };
    const files = await ensureToyFiles({ ...t, calibrationTexts, log });
    const base = { path: files.baseDir, adapter: null };
    return {
      base,
      chat: t.plant ? { ...base, adapter: files.adapterDir } : base,
      hook: methods.hook ?? TOY_HOOK,
      toy: { variant: t.plant ? "demo" : "demo-control", plants: t.plant ? { u: files.planted } : {} },
      ...realWindows(pipeline, methods),
    };
  }
  return {
    base: methods.base ?? pipeline.baseModel!,
    chat: methods.chat ?? pipeline.chatModel!,
    hook,
    toy: null,
    ...realWindows(pipeline, methods),
  };
}

/** Text and chat windows of the pipeline's data, in whole forwards, the text share spread evenly. */
function realWindows(pipeline: DiffingConfig, methods: MethodsConfig) {
  const { windows: n, textFraction, windowsPerForward: per, seed } = methods.harvest;
  const forwards = Math.ceil(n / per);
  const textForwards = Math.round(forwards * textFraction);
  return {
    dataset: `${forwards * per} windows (${textForwards * per} text of ${pipeline.textData.files.join(", ")}; chats of ${pipeline.chatData.files.join(", ")}), seed ${seed}`,
    async *windows(models: ModelPair): AsyncGenerator<PairedWindow> {
      const rules = maskRulesOf(pipeline.mask, models.tokenizer);
      const text = textWindows(pipeline.textData, models.tokenizer, rules, seed)[Symbol.asyncIterator]();
      const chat = chatDataWindows(pipeline.chatData, models.tokenizer, models.template, rules, seed)[
        Symbol.asyncIterator
      ]();
      let textDone = 0;
      for (let f = 0; f < forwards; f++) {
        // Bresenham: forward f is text when the text share of forwards 0..f would otherwise fall behind.
        const isText = Math.floor(((f + 1) * textForwards) / forwards) > textDone;
        if (isText) textDone++;
        for (let i = 0; i < per; i++) {
          const next = await (isText ? text : chat).next();
          if (next.done) return;
          yield next.value;
        }
      }
    },
    decode: (models: ModelPair) => (id: number) => models.tokenizer.idToToken(id) ?? `<${id}>`,
    assistantStart,
  };
}

async function* each<T>(xs: readonly T[]): AsyncGenerator<T> {
  yield* xs;
}

/** Opens the pair's models (the chat model of a base + adapter reference shares the base's weights). */
export function openMethodsModels(pair: MethodsPair): Promise<ModelPair> {
  return openModelPair(pair.base, pair.chat);
}
