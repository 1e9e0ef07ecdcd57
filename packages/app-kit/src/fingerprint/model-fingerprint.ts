/**
 * What identifies a model for a result computed from it: the bytes of its config, weights and tokenizer (chat
 * template included), and those of a merged PEFT adapter. Paths and the Hub revision are left out on purpose: a
 * moved folder or a commit that changed only a README is the same model, and a false "changed" would cost a rerun.
 */
import { resolveModelFolder } from "@difflens/runtime";
import type { ModelRef } from "../models/model-ref.ts";
import { folderFingerprint } from "./file-hash.ts";

export interface ModelFingerprint {
  /** File (relative to the model folder) → sha256. */
  readonly files: Readonly<Record<string, string>>;
  /** The adapter's files → sha256, or null without an adapter. */
  readonly adapter: Readonly<Record<string, string>> | null;
}

const MODEL_FILE =
  /^(config\.json|tokenizer\.json|tokenizer_config\.json|chat_template\.jinja|.*\.safetensors(\.index\.json)?)$/;
const ADAPTER_FILE = /^(adapter_config\.json|adapter_model\.safetensors|tokenizer_config\.json|chat_template\.jinja)$/;

export function modelFingerprint(ref: ModelRef): ModelFingerprint {
  const files = folderFingerprint(resolveModelFolder(ref.path), (rel) => MODEL_FILE.test(rel));
  const adapter = ref.adapter === null ? null : folderFingerprint(ref.adapter, (rel) => ADAPTER_FILE.test(rel));
  return { files, adapter };
}
