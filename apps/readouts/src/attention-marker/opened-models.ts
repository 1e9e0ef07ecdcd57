/**
 * Tokenizers and models as the stages open them. A tokenizer is loaded once per process for each distinct
 * tokenizer (the Qwen tokenizer takes ~1 s to load, and a persona's trained folder usually carries the same files as
 * its base and the comparator), and a model is opened like app-kit's `openModel` (PEFT adapter merged at load, the
 * model's own chat template) with that tokenizer.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  chatTemplateFor,
  describeModelRef,
  fileSha256,
  loadModelRef,
  type ModelRef,
  type OpenedModel,
} from "@difflens/app-kit";
import { resolveModelFolder } from "@difflens/runtime";
import { loadTokenizer, type Tokenizer } from "@difflens/tokenizer";

const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"];
const tokenizers = new Map<string, Tokenizer>();

/** The tokenizer of a model folder or Hub id, loaded once per distinct tokenizer files (else per folder). */
export function tokenizerOf(ref: ModelRef): Tokenizer {
  const key = tokenizerKey(ref.path);
  let tokenizer = tokenizers.get(key);
  if (tokenizer === undefined) {
    tokenizer = loadTokenizer(ref.path);
    tokenizers.set(key, tokenizer);
  }
  return tokenizer;
}

/** The sha256 of the folder's tokenizer files when it has tokenizer.json, else the path itself. */
function tokenizerKey(modelPath: string): string {
  let folder: string;
  try {
    folder = resolveModelFolder(modelPath);
  } catch {
    return modelPath; // loadTokenizer says what is missing
  }
  const files = TOKENIZER_FILES.map((f) => path.join(folder, f));
  if (!fs.existsSync(files[0]!)) return modelPath;
  return files.map((f) => (fs.existsSync(f) ? fileSha256(f) : "-")).join(":");
}

export async function openModelRef(ref: ModelRef): Promise<OpenedModel> {
  const model = await loadModelRef(ref);
  return {
    model,
    tokenizer: tokenizerOf(ref),
    template: chatTemplateFor(ref),
    description: describeModelRef(ref),
    close: () => model.close(),
  };
}
