/**
 * The stage pipeline's config (one JSON file, e.g. configs/diffing/default.json). Relative paths in it resolve
 * from the folder of the config file — never from the current directory — so `pnpm --filter diffing …` (which
 * runs in apps/diffing) and a run from the repository root read the same files.
 */
import * as path from "node:path";
import { loadConfigFile, type ModelRef, resolveModelRef } from "@difflens/app-kit";
import { DiffingError } from "../errors.ts";
import { bool, deepFreeze, fields, num, numList, objectWithKeys, oneOf, str } from "./fields.ts";
import { type MethodsConfig, resolveMethodsConfig } from "./methods-config.ts";
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

export const STAGE_NAMES = ["S", "D", "M", "DF", "MF"] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** The embedded toy pair (apps/diffing/src/toy): models are generated, not read. */
export interface ToyConfig {
  /** Seeds the base model, the planted direction and the plant. */
  readonly seed: number;
  /** Plant norm at the hook as a fraction of the median residual norm there (0 < scale ≤ 1). */
  readonly plantScale: number;
  /** false = the control: the chat model is the base model (the demo's check must then fail). */
  readonly plant: boolean;
  /** Where generated model folders are cached. */
  readonly cacheDir: string;
}

/** Tokens (and an optional lr) of one stage. */
export interface StageConfig {
  /** Activation rows the stage trains on. */
  readonly tokens: number;
  /** Peak learning rate of this stage; null = sae.lr. */
  readonly lr: number | null;
  /** Stage S only: adopt this pretrained TopK SAE folder (SAELens, sparsify or ours) instead of training. */
  readonly pretrained: string | null;
}

export interface CompareConfig {
  /** Threshold lines of the two-stage scatter (the seed drew 0.7). */
  readonly threshold: number;
  /** Latents labelled in the scatter and handed to `features` and the demo's check. */
  readonly topK: number;
}

export interface FeaturesConfig {
  /** Latents that get max-activating contexts: a list, "all", or null = the top `compare.topK` of the ranking. */
  readonly latents: readonly number[] | "all" | null;
  /** Max-activating contexts per latent. */
  readonly contexts: number;
  /** Dataset searched for contexts. */
  readonly data: "chat" | "text";
  /** Windows of that dataset scanned. */
  readonly windows: number;
  /** Stage whose SAE encodes the base model's activations (the seed used D). */
  readonly baseStage: StageName;
  /** Stage whose SAE encodes the chat model's activations (the seed used MF). */
  readonly chatStage: StageName;
  /** Tokens shown either side of the max-activating token. */
  readonly contextRadius: number;
}

export interface DiffingConfig {
  /** Pipeline name (W&B group, figure titles). */
  readonly name: string;
  /** The pipeline's run folder: stages/<S|D|M|DF|MF>, compare/, features/, run.json. */
  readonly runDir: string;
  /** When set, base and chat models are the generated toy pair and baseModel/chatModel are ignored. */
  readonly toy: ToyConfig | null;
  readonly baseModel: ModelRef | null;
  /** The chat model; `{ "path": <base>, "adapter": <PEFT folder> }` merges a LoRA into the base. */
  readonly chatModel: ModelRef | null;
  /** TransformerLens hook name every stage reads. */
  readonly hook: string;
  readonly textData: TextDataConfig;
  readonly chatData: ChatDataConfig;
  readonly mask: MaskConfig;
  readonly sae: SaeConfig;
  readonly stages: Readonly<Record<StageName, StageConfig>>;
  readonly harvest: HarvestConfig;
  readonly wandb: WandbConfig;
  readonly compare: CompareConfig;
  readonly features: FeaturesConfig;
  /** What `methods-report` runs beside the stages (config/methods-config.ts); null when the file has no such section. */
  readonly methods: MethodsConfig | null;
  /** The config file this came from (absolute), or null for an in-memory config. */
  readonly file: string | null;
}

export const DEFAULT_COMPARE: CompareConfig = Object.freeze({ threshold: 0.7, topK: 10 });
export const DEFAULT_FEATURES: FeaturesConfig = Object.freeze({
  latents: null,
  contexts: 10,
  data: "chat",
  windows: 256,
  baseStage: "D",
  chatStage: "MF",
  contextRadius: 12,
});

const TOP_KEYS = [
  "$comment",
  "name",
  "runDir",
  "toy",
  "baseModel",
  "chatModel",
  "hook",
  "textData",
  "chatData",
  "mask",
  "sae",
  "stages",
  "harvest",
  "wandb",
  "compare",
  "features",
  "methods",
];

/**
 * Validates a pipeline config. `baseDir` resolves relative paths (the config file's folder). Unknown keys are
 * rejected with the nearest valid key; the input is never mutated; the result is frozen.
 */
export function resolveDiffingConfig(input: unknown, baseDir: string, file: string | null = null): DiffingConfig {
  const rec = objectWithKeys("config", input, TOP_KEYS, file ?? undefined);
  const abs = (p: string): string => (path.isAbsolute(p) ? p : path.resolve(baseDir, p));
  const model = (where: string, input: unknown) =>
    input === undefined || input === null ? null : resolveModelRef(where, input, baseDir, fields);
  let toy: ToyConfig | null = null;
  if (rec.toy !== undefined && rec.toy !== null) {
    const t = objectWithKeys("toy", rec.toy, ["seed", "plantScale", "plant", "cacheDir"]);
    toy = {
      seed: num("toy", t, "seed", 0, { int: true, min: 0 }),
      plantScale: num("toy", t, "plantScale", 0.75, { min: 0.01, max: 1 }),
      plant: bool("toy", t, "plant", true),
      cacheDir: abs(str("toy", t, "cacheDir", "runs/diffing/toy-models")),
    };
  }
  const baseModel = model("baseModel", rec.baseModel);
  const chatModel = model("chatModel", rec.chatModel);
  const methods =
    rec.methods === undefined || rec.methods === null ? null : resolveMethodsConfig("methods", rec.methods, baseDir);
  const pairElsewhere = toy !== null || (methods !== null && (methods.toy !== null || methods.base !== null));
  if (!pairElsewhere && (baseModel === null || chatModel === null)) {
    throw new DiffingError("CONFIG_INVALID", "config: baseModel and chatModel are required unless toy is set", {
      ...(file ? { file } : {}),
      field: baseModel === null ? "baseModel" : "chatModel",
    });
  }
  const text = resolveTextData("textData", rec.textData);
  const chat = resolveChatData("chatData", rec.chatData);
  const stagesRec = objectWithKeys("stages", rec.stages, STAGE_NAMES);
  const stages = {} as Record<StageName, StageConfig>;
  for (const s of STAGE_NAMES) {
    const st = objectWithKeys(`stages.${s}`, stagesRec[s], ["tokens", "lr", "pretrained"]);
    const pretrained = str(`stages.${s}`, st, "pretrained", null);
    if (pretrained !== null && s !== "S")
      throw new DiffingError(
        "CONFIG_INVALID",
        `stages.${s}.pretrained: only stage S can adopt a pretrained SAE (the others finetune their parent)`,
        { field: `stages.${s}.pretrained` },
      );
    if (st.tokens === undefined && pretrained === null)
      throw new DiffingError("CONFIG_INVALID", `stages.${s}.tokens is required`, { field: `stages.${s}.tokens` });
    stages[s] = {
      tokens: num(`stages.${s}`, st, "tokens", 0, { int: true, min: 0 }),
      lr: num(`stages.${s}`, st, "lr", null, { min: 0, nullable: true }),
      pretrained: pretrained === null ? null : abs(pretrained),
    };
  }
  const cmp = objectWithKeys("compare", rec.compare, Object.keys(DEFAULT_COMPARE));
  const ft = objectWithKeys("features", rec.features, Object.keys(DEFAULT_FEATURES));
  const F = DEFAULT_FEATURES;
  const config: DiffingConfig = {
    name: str("config", rec, "name", "diffing"),
    runDir: abs(str("config", rec, "runDir", "runs/diffing/default")),
    toy,
    baseModel,
    chatModel,
    hook: str("config", rec, "hook", "blocks.13.hook_resid_pre"),
    textData: { ...text, files: text.files.map(abs) },
    chatData: { ...chat, files: chat.files.map(abs) },
    mask: resolveMask("mask", rec.mask),
    sae: resolveSae("sae", rec.sae),
    stages,
    harvest: resolveHarvest("harvest", rec.harvest),
    wandb: resolveWandb("wandb", rec.wandb),
    compare: {
      threshold: num("compare", cmp, "threshold", DEFAULT_COMPARE.threshold, { min: -1, max: 1 }),
      topK: num("compare", cmp, "topK", DEFAULT_COMPARE.topK, { int: true, min: 1 }),
    },
    features: {
      latents: ft.latents === "all" ? "all" : numList("features", ft, "latents", null),
      contexts: num("features", ft, "contexts", F.contexts, { int: true, min: 1 }),
      data: oneOf("features", ft, "data", F.data, ["chat", "text"] as const),
      windows: num("features", ft, "windows", F.windows, { int: true, min: 1 }),
      baseStage: oneOf("features", ft, "baseStage", F.baseStage, STAGE_NAMES),
      chatStage: oneOf("features", ft, "chatStage", F.chatStage, STAGE_NAMES),
      contextRadius: num("features", ft, "contextRadius", F.contextRadius, { int: true, min: 0 }),
    },
    methods,
    file,
  };
  return deepFreeze(config);
}

/** Reads and validates a config file (errors name the file). */
export function loadDiffingConfig(file: string): DiffingConfig {
  return loadConfigFile(file, resolveDiffingConfig, DiffingError);
}
