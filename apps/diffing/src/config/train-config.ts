/**
 * Config of the generic `train` and `finetune` commands (issue 8): one model, one hook, one dataset, one SAE.
 * Relative paths resolve from the config file's folder.
 */
import * as path from "node:path";
import { loadConfigFile, type ModelRef, resolveModelRef } from "@difflens/app-kit";
import { DiffingError } from "../errors.ts";
import { deepFreeze, fields, num, objectWithKeys, str } from "./fields.ts";
import {
  type ChatDataConfig,
  type HarvestConfig,
  type MaskConfig,
  resolveChatData,
  resolveHarvest,
  resolveMask,
  resolveSae,
  resolveTextData,
  resolveWandb,
  type SaeConfig,
  type TextDataConfig,
  type WandbConfig,
} from "./sections.ts";

export interface TrainConfig {
  /** The model whose activations are harvested (optionally with a PEFT LoRA merged). */
  readonly model: ModelRef;
  /** TransformerLens hook name. */
  readonly hook: string;
  /** Pile-style text (exactly one of textData / chatData). */
  readonly textData: TextDataConfig | null;
  /** Chat data (Alpaca rows or pre-tokenized chats). */
  readonly chatData: ChatDataConfig | null;
  readonly mask: MaskConfig;
  readonly sae: SaeConfig;
  /** Activation rows to train on. */
  readonly tokens: number;
  readonly harvest: HarvestConfig;
  readonly wandb: WandbConfig;
  /** Run folder: checkpoints/, latest.json, metrics.jsonl, train.json, wandb/. */
  readonly outDir: string;
  readonly file: string | null;
}

const KEYS = [
  "$comment",
  "model",
  "hook",
  "textData",
  "chatData",
  "mask",
  "sae",
  "tokens",
  "harvest",
  "wandb",
  "outDir",
];

export function resolveTrainConfig(input: unknown, baseDir: string, file: string | null = null): TrainConfig {
  const rec = objectWithKeys("config", input, KEYS, file ?? undefined);
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(baseDir, p));
  if (rec.model === undefined)
    throw new DiffingError("CONFIG_INVALID", "config.model is required (a model folder)", { field: "model" });
  const model = resolveModelRef("model", rec.model, baseDir, fields);
  const hasText = rec.textData !== undefined && rec.textData !== null,
    hasChat = rec.chatData !== undefined && rec.chatData !== null;
  if (hasText === hasChat)
    throw new DiffingError("CONFIG_INVALID", "config: give exactly one of textData and chatData", {
      field: hasText ? "chatData" : "textData",
    });
  const text = hasText ? resolveTextData("textData", rec.textData) : null;
  const chat = hasChat ? resolveChatData("chatData", rec.chatData) : null;
  if (rec.tokens === undefined)
    throw new DiffingError("CONFIG_INVALID", "config.tokens is required (activation rows to train on)", {
      field: "tokens",
    });
  return deepFreeze({
    model,
    hook: str("config", rec, "hook", "blocks.13.hook_resid_pre"),
    textData: text ? { ...text, files: text.files.map(abs) } : null,
    chatData: chat ? { ...chat, files: chat.files.map(abs) } : null,
    mask: resolveMask("mask", rec.mask),
    sae: resolveSae("sae", rec.sae),
    tokens: num("config", rec, "tokens", 0, { int: true, min: 2 }),
    harvest: resolveHarvest("harvest", rec.harvest),
    wandb: resolveWandb("wandb", rec.wandb),
    outDir: abs(str("config", rec, "outDir", "runs/sae")),
    file,
  });
}

export function loadTrainConfig(file: string): TrainConfig {
  return loadConfigFile(file, resolveTrainConfig, DiffingError);
}
