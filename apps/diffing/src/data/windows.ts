/**
 * Token windows of the two datasets, as the stages consume them: Pile-style text packed into windows, and chats
 * (one per window, right-padded) rendered with the chat template. Masks exclude padding and the configured
 * special tokens; chat windows keep their real length so padding is also excluded from attention.
 */
import type { ChatTemplate } from "@difflens/chat";
import {
  alpacaChats,
  applyMaskRules,
  chatWindows,
  type MaskRules,
  ParquetDataset,
  packTextWindows,
  recordRows,
  type TokenWindow,
  textRows,
  tokenRows,
} from "@difflens/data";
import type { Tokenizer } from "@difflens/tokenizer";
import type { ChatDataConfig, MaskConfig, TextDataConfig } from "../config/sections.ts";
import { DiffingError } from "../errors.ts";

/** A window with the number of real (attended) tokens at its start; padding follows. */
export interface StageWindow extends TokenWindow {
  readonly length: number;
}

/** Token id of a special token string, or a clear error. */
export function specialId(tokenizer: Tokenizer, token: string, field: string): number {
  const id = tokenizer.tokenToId(token);
  if (id === null)
    throw new DiffingError("CONFIG_INVALID", `${field}: ${JSON.stringify(token)} is not a token of this tokenizer`, {
      field,
      got: token,
    });
  return id;
}

export function maskRulesOf(mask: MaskConfig, tokenizer: Tokenizer): MaskRules {
  return {
    excludeIds: mask.excludeTokens.map((t) => specialId(tokenizer, t, "mask.excludeTokens")),
    excludeFirstPosition: mask.excludeFirstPosition,
  };
}

/** One pass over the text dataset (row groups shuffled by `seed`). */
export async function* textWindows(
  cfg: TextDataConfig,
  tokenizer: Tokenizer,
  rules: MaskRules,
  seed: number,
): AsyncGenerator<StageWindow> {
  const dataset = await ParquetDataset.open(cfg.files);
  const texts = textRows(dataset, cfg.column, { shuffle: true, seed });
  const separatorId = specialId(tokenizer, cfg.separatorToken, "textData.separatorToken");
  for await (const w of packTextWindows(texts, tokenizer, {
    contextSize: cfg.contextSize,
    separatorId,
    maskRules: rules,
  }))
    yield { ...w, length: cfg.contextSize };
}

/** One pass over the chat dataset: Alpaca rows through the chat template, or pre-tokenized chats. */
export async function* chatDataWindows(
  cfg: ChatDataConfig,
  tokenizer: Tokenizer,
  template: ChatTemplate,
  rules: MaskRules,
  seed: number,
): AsyncGenerator<StageWindow> {
  const dataset = await ParquetDataset.open(cfg.files);
  const padId = specialId(tokenizer, cfg.padToken, "chatData.padToken");
  const order = { shuffle: true, seed };
  if (cfg.format === "alpaca") {
    const rows = recordRows(dataset, ["instruction", "input", "output"] as const, order);
    const chats = alpacaChats(rows, template, tokenizer, { instructionIn: cfg.instructionIn });
    const options = {
      contextSize: cfg.contextSize,
      padId,
      overflow: cfg.overflow,
      maskRules: rules,
      ...(cfg.trainRegions ? { trainRegions: cfg.trainRegions } : {}),
    };
    for await (const w of chatWindows(chats, options)) yield w;
    return;
  }
  if (cfg.trainRegions)
    throw new DiffingError(
      "CONFIG_INVALID",
      'chatData.trainRegions needs format "alpaca" (pre-tokenized chats carry no region labels)',
      { field: "chatData.trainRegions" },
    );
  // Pre-tokenized (the seed's parquet padded every chat to 512 with EOS): real length = up to the trailing padding.
  for await (const row of tokenRows(dataset, cfg.column, order)) {
    let length = row.length;
    while (length > 0 && row[length - 1] === padId) length--;
    if (length === 0) continue;
    if (length > cfg.contextSize && cfg.overflow === "skip") continue;
    length = Math.min(length, cfg.contextSize);
    const ids = new Int32Array(cfg.contextSize).fill(padId);
    ids.set(row.subarray(0, length));
    const mask = new Uint8Array(cfg.contextSize);
    mask.fill(1, 0, length);
    applyMaskRules(ids.subarray(0, length), mask.subarray(0, length), rules);
    yield { ids, mask, length };
  }
}

/** Endless windows: pass after pass, each reshuffled with seed + pass; fails if a pass yields nothing. */
export async function* epochs<T>(
  pass: (seed: number) => AsyncIterable<T>,
  seed: number,
  what: string,
): AsyncGenerator<T> {
  for (let epoch = 0; ; epoch++) {
    let n = 0;
    for await (const w of pass(seed + epoch)) {
      n++;
      yield w;
    }
    if (n === 0)
      throw new DiffingError(
        "DATA_EXHAUSTED",
        `${what}: the dataset yields no window (too short for the context size?)`,
        { field: what },
      );
  }
}
