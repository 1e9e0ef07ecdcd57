import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { hubCacheDir, hubRepoFolderName, parseRepoId } from "@difflens/common";
import { TokenizerError } from "./errors.ts";
import { isHubRepoFolder, resolveHubSnapshot } from "./hub-cache.ts";

type JsonObject = Record<string, unknown>;

/** The tokenizer files of one model, read but not yet interpreted. Objects may be given already parsed. */
export interface TokenizerSources {
  /** tokenizer.json: its text or the parsed object. Required. */
  tokenizerJson: string | JsonObject;
  /** tokenizer_config.json (parsed or text), when present. */
  tokenizerConfig?: string | JsonObject | null;
  /** special_tokens_map.json, when present; its keys override tokenizer_config.json as in transformers. */
  specialTokensMap?: string | JsonObject | null;
  /** generation_config.json, when present (extra eos ids for stopping). */
  generationConfig?: string | JsonObject | null;
  /** Where these came from, used in error messages (a folder path, or a label such as "in-memory"). */
  origin?: string;
}

/** Options of `loadTokenizer` for Hub repo ids and repo folders (the same cache lookup as `loadModel`). */
export interface LoadTokenizerOptions {
  /** Hub cache root used when `path` is a repo id like `Qwen/Qwen2.5-0.5B-Instruct`. Default: `hubCacheDir(env, home)`. */
  cacheDir?: string;
  /** Environment for HF_HUB_CACHE / HF_HOME / XDG_CACHE_HOME (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Home folder for the last fallback, ~/.cache/huggingface/hub (default os.homedir()). */
  home?: string;
  /** Branch, tag or commit inside a Hub repo folder. Default `main` (or the `@rev` of `ORG/NAME@rev`). */
  revision?: string;
}

/**
 * Finds the folder holding tokenizer.json: a model folder itself, a Hub repo folder (`models--ORG--NAME`,
 * resolved through `refs/<revision>`), or a repo id looked up in the Hub cache.
 */
export function resolveModelFolder(path: string, options: LoadTokenizerOptions = {}): string {
  if (existsSync(path) && statSync(path).isDirectory()) {
    if (existsSync(join(path, "tokenizer.json"))) return path;
    if (isHubRepoFolder(path)) return resolveHubSnapshot(path, options.revision);
    return path; // readTokenizerFolder reports the missing tokenizer.json with this path
  }
  const repoId = parseRepoId(path);
  if (repoId) {
    const repo = join(options.cacheDir ?? hubCacheDir(options.env, options.home), hubRepoFolderName(repoId.repoId));
    if (existsSync(repo)) return resolveHubSnapshot(repo, options.revision ?? repoId.revision);
  }
  throw new TokenizerError("TOKENIZER_FILE_MISSING", "no such model folder or cached Hub repo", {
    file: path,
    expected: "a folder with tokenizer.json, a models--ORG--NAME folder, or a repo id present in the Hub cache",
    fix: "check the path, or download the model into the Hub cache (`difflens-download ORG/NAME` of @difflens/runtime)",
  });
}

/** Reads tokenizer.json (required) and the optional side files of a model folder. */
export function readTokenizerFolder(folder: string): TokenizerSources {
  const tokenizerFile = join(folder, "tokenizer.json");
  if (!existsSync(tokenizerFile)) {
    throw new TokenizerError("TOKENIZER_FILE_MISSING", "tokenizer.json not found", {
      file: tokenizerFile,
      fix: "only fast (tokenizer.json) tokenizers are supported; convert a slow tokenizer with transformers once",
    });
  }
  const optional = (name: string): string | null => {
    const file = join(folder, name);
    return existsSync(file) ? readFileSync(file, "utf8") : null;
  };
  return {
    tokenizerJson: readFileSync(tokenizerFile, "utf8"),
    tokenizerConfig: optional("tokenizer_config.json"),
    specialTokensMap: optional("special_tokens_map.json"),
    generationConfig: optional("generation_config.json"),
    origin: folder,
  };
}

/** Parses a JSON text (or passes an object through); a syntax error names the file. */
export function parseJsonSource(value: string | JsonObject, file: string): JsonObject {
  if (typeof value !== "string") return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (cause) {
    throw new TokenizerError(
      "TOKENIZER_FILE_MALFORMED",
      "not valid JSON",
      { file, got: (cause as Error).message, fix: "re-download the file; it may be truncated or a Git LFS pointer" },
      { cause },
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new TokenizerError("TOKENIZER_FILE_MALFORMED", "the top level must be a JSON object", {
      file,
      expected: "object",
      got: Array.isArray(parsed) ? "array" : typeof parsed,
    });
  }
  return parsed as JsonObject;
}
