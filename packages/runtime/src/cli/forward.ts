#!/usr/bin/env node
/**
 * pnpm difflens-forward --model DIR (--tokens 1,2,3 | --text "…" [--condition C]) [--hooks A,B] --out FILE
 *
 * Writes `logits` [1, seq, vocab] and every requested hook under its own name (leading batch dimension 1), plus
 * `input_ids`, into one safetensors file. Everything is validated before the forward pass starts.
 */
import {
  type CliOptions,
  type Command,
  type CommandContext,
  checkOutputPath,
  type FlagSpec,
  isMainModule,
  runCommand,
  UsageError,
} from "@difflens/common";
import { selectBackend, Tensor, writeSafetensors } from "@difflens/tensor";
import { HookError } from "../errors.ts";
import { parseHookName } from "../hooks/hook-table.ts";
import { loadModel } from "../loading/load-model.ts";
import type { Model } from "../model.ts";

const PROGRAM = "difflens-forward";
const BACKENDS = ["auto", "native", "js", "webgpu"] as const;

const FLAGS: readonly FlagSpec[] = [
  {
    name: "model",
    kind: "string",
    value: "DIR",
    help: "HF model folder, Hub cache folder (models--ORG--NAME) or ORG/NAME[@rev] in the Hub cache",
  },
  { name: "tokens", kind: "string", value: "IDS", help: "comma-separated token ids" },
  {
    name: "text",
    kind: "string",
    value: "TEXT",
    help: "a user message, rendered with the model's chat template and tokenized",
  },
  {
    name: "condition",
    kind: "string",
    value: "C",
    help: "system-prompt condition for --text: model-default (default) | empty | no-system-turn | custom:<text> | raw",
  },
  { name: "hooks", kind: "string", value: "NAMES", help: "comma-separated hook names, e.g. blocks.0.hook_resid_post" },
  { name: "out", kind: "string", value: "FILE", help: "output .safetensors (logits, input_ids, one tensor per hook)" },
  { name: "force", kind: "boolean", help: "replace an existing --out file" },
  {
    name: "backend",
    kind: "string",
    value: "B",
    help: "auto | native | js | webgpu (default: $DIFFLENS_BACKEND, else auto = native, else js)",
  },
  { name: "list-hooks", kind: "boolean", help: "print the model's hook names, one a line, and exit" },
];

const FORWARD: Command = {
  summary: "Run a model on tokens and save logits and activations.",
  flags: FLAGS,
  notes: [
    "Give exactly one of --tokens and --text. raw (for --condition) tokenizes the text as-is, without the template.",
    "An existing --out file is never replaced without --force; the file is written beside it and renamed over it.",
    "Exit status: 0 written, 1 a run error, 2 bad usage (unknown flag or hook name, missing flag, existing --out).",
  ],
  run: forward,
};

/** Runs the CLI on `argv` (without the program name); resolves to the exit status. */
export async function main(argv: readonly string[], io: Pick<CliOptions, "out" | "log"> = {}): Promise<number> {
  return runCommand(FORWARD, { program: PROGRAM, argv, usageCodes: ["UNKNOWN_HOOK", "OUTPUT_EXISTS"], ...io });
}

function usage(message: string, field?: string): UsageError {
  return new UsageError("USAGE", `${PROGRAM}: ${message} (see --help)`, field === undefined ? {} : { field });
}

async function forward(context: CommandContext): Promise<number> {
  const { flags } = context;
  const source = flags["model"] as string | undefined;
  if (source === undefined) throw usage("--model is required", "--model");
  const backend = flags["backend"] as string | undefined;
  if (backend !== undefined && !(BACKENDS as readonly string[]).includes(backend)) {
    throw usage(`--backend must be one of ${BACKENDS.join(", ")}, got ${backend}`, "--backend");
  }
  const out = flags["out"] as string | undefined;
  // Before the model loads: a refused --out should cost a second, not a forward pass.
  if (out !== undefined && !flags["list-hooks"]) checkOutputPath(out, { force: flags["force"] === true });
  await selectBackend(backend);
  const model = await loadModel(source); // its weights go to the chosen backend's device
  try {
    if (flags["list-hooks"]) {
      process.stdout.write(`${model.hookNames().join("\n")}\n`);
      return 0;
    }
    return await writeForward(model, source, context);
  } finally {
    model.close();
  }
}

async function writeForward(model: Model, source: string, { flags, log }: CommandContext): Promise<number> {
  const out = flags["out"] as string | undefined;
  const tokens = flags["tokens"] as string | undefined;
  const text = flags["text"] as string | undefined;
  if (out === undefined) throw usage("--out is required", "--out");
  if ((tokens === undefined) === (text === undefined)) throw usage("give exactly one of --tokens and --text");
  let ids: number[];
  if (tokens !== undefined) {
    ids = tokens
      .split(",")
      .filter((s) => s.trim() !== "")
      .map((s) => Number(s.trim()));
    const bad = ids.findIndex((x) => !Number.isInteger(x));
    if (bad >= 0) throw usage(`--tokens entry ${bad} is not an integer`, "--tokens");
  } else {
    if (!model.folder) throw usage("--text needs the model folder's tokenizer files", "--text");
    ids = await tokensFromText(model.folder, text!, (flags["condition"] as string | undefined) ?? "model-default");
  }
  const hooks = ((flags["hooks"] as string | undefined) ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  checkHooks(model, source, hooks);
  const t0 = performance.now();
  const { logits, cache } = await model.runWithCache([ids], { names: hooks });
  const tensors: Record<string, Tensor> = {
    logits: logits!,
    input_ids: new Tensor("i32", [1, ids.length], Int32Array.from(ids)),
  };
  for (const h of hooks) tensors[h] = cache.get(h);
  await writeSafetensors(out, tensors, { model: source, format: "difflens-forward" });
  const seconds = ((performance.now() - t0) / 1000).toFixed(2);
  log(`wrote ${out}: logits [1, ${ids.length}, ${model.config.vocabSize}] + ${hooks.length} hooks in ${seconds} s`);
  return 0;
}

/** Unknown names fail before compute, with the nearest name and the way to list them all. */
function checkHooks(model: Model, source: string, hooks: readonly string[]): void {
  try {
    for (const h of hooks) parseHookName(h, model.config);
  } catch (error) {
    if (!(error instanceof HookError && error.code === "UNKNOWN_HOOK")) throw error;
    const fix = `list this model's hooks with: ${PROGRAM} --model ${source} --list-hooks`;
    throw new HookError(error.code, error.message, { ...error.facts, fix }, { cause: error });
  }
}

async function tokensFromText(folder: string, text: string, condition: string): Promise<number[]> {
  const { loadTokenizer } = await import("@difflens/tokenizer");
  const tokenizer = loadTokenizer(folder);
  if (condition === "raw") return [...(await tokenizer.encode(text, { addSpecialTokens: false })).ids];
  const chat = await import("@difflens/chat");
  const template = chat.loadChatTemplateFromFolder(folder);
  const tokens = await chat.tokenizeChat(tokenizer, template, [{ role: "user", content: text }], {
    condition: chat.parseSystemCondition(condition),
    addGenerationPrompt: true,
  });
  return [...tokens.ids];
}

if (isMainModule(import.meta.url)) main(process.argv.slice(2)).then((code) => process.exit(code));
