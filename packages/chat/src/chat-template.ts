import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Environment, Interpreter } from "@huggingface/jinja";
import { ChatError } from "./errors.ts";
import { TemplateRaise, templateGlobals } from "./jinja-globals.ts";
import { compileTemplate } from "./template-syntax.ts";

/** Variables a render passes to the template besides `messages` and `add_generation_prompt`. */
export interface TemplateRenderContext {
  /** The conversation, as the template's `messages`. */
  messages: ReadonlyArray<Record<string, unknown>>;
  /** Append the assistant header the model continues from. */
  addGenerationPrompt: boolean;
  /** Any other variable (`bos_token`, `eos_token`, `tools`, `enable_thinking`, …). */
  extra?: Record<string, unknown>;
}

/** A compiled chat template. `source` is the exact Jinja text; renders are pure functions of the context. */
export class ChatTemplate {
  readonly name: string;
  readonly source: string;
  /** Where the template came from, for error messages. */
  readonly file: string;
  readonly #program: ReturnType<typeof compileTemplate>;
  readonly #now: () => Date;

  constructor(source: string, options: { name?: string; file?: string; now?: () => Date } = {}) {
    this.name = options.name ?? "default";
    this.source = source;
    this.file = options.file ?? "chat_template";
    this.#now = options.now ?? (() => new Date());
    this.#program = compileTemplate(source, this.file);
  }

  /**
   * Renders the template. A `raise_exception(...)` in the template becomes TEMPLATE_RAISED carrying the template's
   * own message; any other failure TEMPLATE_RENDER_FAILED.
   */
  render(context: TemplateRenderContext): string {
    const env = new Environment();
    const vars: Record<string, unknown> = {
      ...templateGlobals(this.#now),
      ...context.extra,
      messages: context.messages,
      add_generation_prompt: context.addGenerationPrompt,
    };
    for (const [key, value] of Object.entries(vars)) env.set(key, value);
    try {
      return new Interpreter(env).run(this.#program).value as string;
    } catch (cause) {
      if (cause instanceof TemplateRaise) {
        throw new ChatError(
          "TEMPLATE_RAISED",
          `the chat template rejected the conversation: ${cause.message}`,
          {
            file: this.file,
            got: cause.message,
          },
          { cause },
        );
      }
      throw new ChatError(
        "TEMPLATE_RENDER_FAILED",
        `the chat template failed while rendering: ${(cause as Error).message}`,
        {
          file: this.file,
        },
        { cause },
      );
    }
  }
}

/** Options of `loadChatTemplate`. */
export interface LoadChatTemplateOptions {
  /** Which template of a named list (`[{name, template}]`). Default "default". */
  name?: string;
  /** Label used in errors (e.g. the tokenizer_config.json path). */
  file?: string;
  /** Clock for `strftime_now` (tests pin it). */
  now?: () => Date;
}

/**
 * Reads `chat_template` from a tokenizer_config.json, given as its JSON text or the parsed object. The field may be
 * a string or a list of `{name, template}` (transformers' named templates: "default", "tool_use", …).
 */
export function loadChatTemplate(
  tokenizerConfig: string | Record<string, unknown>,
  options: LoadChatTemplateOptions = {},
): ChatTemplate {
  const file = options.file ?? "tokenizer_config.json";
  let config: Record<string, unknown>;
  if (typeof tokenizerConfig === "string") {
    try {
      config = JSON.parse(tokenizerConfig) as Record<string, unknown>;
    } catch (cause) {
      throw new ChatError(
        "TEMPLATE_MISSING",
        "tokenizer_config is not valid JSON",
        { file, got: (cause as Error).message },
        { cause },
      );
    }
  } else {
    config = tokenizerConfig;
  }
  const field = config?.["chat_template"];
  const name = options.name ?? "default";
  const made = (source: string, chosen: string) =>
    new ChatTemplate(source, {
      name: chosen,
      file: `${file} (chat_template${chosen === "default" ? "" : `:${chosen}`})`,
      ...(options.now ? { now: options.now } : {}),
    });
  if (typeof field === "string") {
    if (options.name !== undefined && options.name !== "default") {
      throw new ChatError("TEMPLATE_MISSING", `no chat template named "${options.name}"`, {
        file,
        field: "chat_template",
        got: "a single unnamed template",
      });
    }
    return made(field, "default");
  }
  if (Array.isArray(field)) {
    const names = field.map((e) => (e as Record<string, unknown>)?.["name"]);
    const entry = field.find((e) => (e as Record<string, unknown>)?.["name"] === name) as
      | Record<string, unknown>
      | undefined;
    if (entry === undefined || typeof entry["template"] !== "string") {
      throw new ChatError("TEMPLATE_MISSING", `no chat template named "${name}"`, {
        file,
        field: "chat_template",
        expected: `one of ${JSON.stringify(names)}`,
        got: JSON.stringify(name),
      });
    }
    return made(entry["template"], name);
  }
  throw new ChatError("TEMPLATE_MISSING", "tokenizer_config has no chat_template", {
    file,
    field: "chat_template",
    expected: "a string or a list of {name, template}",
    got: field === undefined ? "nothing" : typeof field,
    fix: "base models often ship none; pass a template explicitly (chatTemplateFromSource)",
  });
}

/** A template from its Jinja text (a `.jinja` file, or a template carried as data). */
export function chatTemplateFromSource(
  source: string,
  options: { name?: string; file?: string; now?: () => Date } = {},
): ChatTemplate {
  return new ChatTemplate(source, options);
}

/**
 * The chat template of a model folder, where transformers looks: `chat_template.jinja` (newer saves), then
 * `chat_template.json`, then `tokenizer_config.json`.
 */
export function loadChatTemplateFromFolder(folder: string, options: LoadChatTemplateOptions = {}): ChatTemplate {
  const jinjaFile = join(folder, "chat_template.jinja");
  if (existsSync(jinjaFile) && (options.name === undefined || options.name === "default")) {
    return chatTemplateFromSource(readFileSync(jinjaFile, "utf8"), {
      file: jinjaFile,
      ...(options.now ? { now: options.now } : {}),
    });
  }
  for (const name of ["chat_template.json", "tokenizer_config.json"]) {
    const file = join(folder, name);
    if (existsSync(file)) return loadChatTemplate(readFileSync(file, "utf8"), { ...options, file });
  }
  throw new ChatError("TEMPLATE_MISSING", "no chat template file in this folder", {
    file: folder,
    expected: "chat_template.jinja, chat_template.json or tokenizer_config.json",
  });
}

/** Chat templates this package carries as data, byte for byte as the models' tokenizer_config.json hold them. */
export const BUNDLED_TEMPLATES = Object.freeze({
  /** Qwen1.5-*-Chat (newer revisions): default system "You are a helpful assistant". */
  "qwen1.5-chat": "qwen1.5-chat.jinja",
  /** Qwen2.5-*-Instruct: default system "You are Qwen, created by Alibaba Cloud. You are a helpful assistant." */
  "qwen2.5-instruct": "qwen2.5-instruct.jinja",
  /** Meta-Llama-3-*-Instruct, current revision (Llama 3 Community License): no default system prompt. */
  "llama3-instruct": "llama3-instruct.jinja",
  /** gemma-3-*-it (Gemma Terms of Use): no system role — a system message opens the first user turn. */
  "gemma3-it": "gemma3-it.jinja",
});

/** A carried template, for when a model folder is not at hand (its own tokenizer_config.json wins when it is). */
export function bundledChatTemplate(
  name: keyof typeof BUNDLED_TEMPLATES,
  options: { now?: () => Date } = {},
): ChatTemplate {
  const url = new URL(`../templates/${BUNDLED_TEMPLATES[name]}`, import.meta.url);
  return chatTemplateFromSource(readFileSync(url, "utf8"), {
    name,
    file: `@difflens/chat/templates/${BUNDLED_TEMPLATES[name]}`,
    ...options,
  });
}
