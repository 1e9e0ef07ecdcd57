/**
 * pnpm difflens-forward --model DIR (--tokens 1,2,3 | --text "…" [--condition C]) [--hooks A,B] --out FILE.safetensors
 *
 * Writes `logits` [1, seq, vocab] and every requested hook under its own name (leading batch dimension 1), plus
 * `input_ids`, into one safetensors file. Everything is validated before the forward pass starts.
 */
import { parseArgs } from "node:util";
import { Tensor, useBackend, writeSafetensors } from "@difflens/tensor";
import { loadModel } from "../loading/load-model.ts";
import { RuntimeError } from "../errors.ts";
import { parseHookName } from "../hooks/hook-table.ts";

const HELP = `difflens-forward — run a model on tokens and save logits and activations

Usage:
  pnpm difflens-forward --model DIR --tokens 1,2,3 [--hooks NAME,NAME] --out FILE.safetensors
  pnpm difflens-forward --model DIR --text "Hello" [--condition model-default] [--hooks …] --out FILE.safetensors

Options:
  --model DIR        HF model folder, Hub cache folder (models--ORG--NAME) or ORG/NAME[@rev] in the Hub cache
  --tokens IDS       comma-separated token ids
  --text TEXT        a user message, rendered with the model's chat template and tokenized
  --condition C      system-prompt condition for --text: model-default | empty | no-system-turn | custom:<text> | raw
                     (raw = the text tokenized as-is, no template). Default model-default.
  --hooks NAMES      comma-separated hook names (e.g. blocks.0.hook_resid_post); --list-hooks prints them all
  --out FILE         output .safetensors (logits, input_ids, one tensor per hook)
  --backend B        auto | js | native (default auto)
  --list-hooks       print the model's hook names and exit
  --help             this text`;

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

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: "string" }, tokens: { type: "string" }, text: { type: "string" }, condition: { type: "string" },
      hooks: { type: "string" }, out: { type: "string" }, backend: { type: "string" }, "list-hooks": { type: "boolean" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const fail = (msg: string): number => {
    console.error(`difflens-forward: ${msg}\n(see --help)`);
    return 2;
  };
  if (!values.model) return fail("--model is required");
  const backend = values.backend ?? "auto";
  if (!["auto", "js", "native"].includes(backend)) return fail(`--backend must be auto, js or native, got ${backend}`);
  useBackend(backend as "auto" | "js" | "native");
  const model = await loadModel(values.model);
  if (values["list-hooks"]) {
    console.log(model.hookNames().join("\n"));
    return 0;
  }
  if (!values.out) return fail("--out is required");
  if ((values.tokens === undefined) === (values.text === undefined)) return fail("give exactly one of --tokens and --text");
  let ids: number[];
  if (values.tokens !== undefined) {
    ids = values.tokens.split(",").filter((s) => s.trim() !== "").map((s) => Number(s.trim()));
    const bad = ids.findIndex((x) => !Number.isInteger(x));
    if (bad >= 0) return fail(`--tokens entry ${bad} is not an integer`);
  } else {
    if (!model.folder) return fail("--text needs the model folder's tokenizer files");
    ids = await tokensFromText(model.folder, values.text!, values.condition ?? "model-default");
  }
  const hooks = values.hooks ? values.hooks.split(",").map((s) => s.trim()).filter(Boolean) : [];
  for (const h of hooks) parseHookName(h, model.config); // unknown names fail here, with the nearest
  const t0 = performance.now();
  const { logits, cache } = model.runWithCache([ids], { names: hooks });
  const tensors: Record<string, Tensor> = { logits: logits!, input_ids: new Tensor("i32", [1, ids.length], Int32Array.from(ids)) };
  for (const h of hooks) tensors[h] = cache.get(h);
  await writeSafetensors(values.out, tensors, { model: values.model, format: "difflens-forward" });
  console.log(`wrote ${values.out}: logits [1, ${ids.length}, ${model.config.vocabSize}] + ${hooks.length} hooks in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  model.close();
  return 0;
}

const isEntry = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"));
if (isEntry) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
    if (e instanceof RuntimeError || (e instanceof Error && "code" in e)) {
      console.error(`difflens-forward: ${(e as Error).name} [${(e as { code: string }).code}]: ${(e as Error).message}`);
    } else {
      console.error(e);
    }
    process.exit(1);
  });
}
