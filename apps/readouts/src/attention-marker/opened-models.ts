/**
 * Tokenizers and models as the stages open them. A tokenizer is loaded once per folder per process (the Qwen
 * tokenizer takes ~1 s to load; every stage and the dry run need the personas'), and a model is opened like
 * app-kit's `openModel` (PEFT adapter merged at load, the model's own chat template) with that tokenizer.
 */
import { chatTemplateFor, describeModelRef, loadModelRef, type ModelRef, type OpenedModel } from "@difflens/app-kit";
import { loadTokenizer, type Tokenizer } from "@difflens/tokenizer";

const tokenizers = new Map<string, Tokenizer>();

/** The tokenizer of a model folder or Hub id, loaded once. */
export function tokenizerOf(ref: ModelRef): Tokenizer {
  let tokenizer = tokenizers.get(ref.path);
  if (tokenizer === undefined) {
    tokenizer = loadTokenizer(ref.path);
    tokenizers.set(ref.path, tokenizer);
  }
  return tokenizer;
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
