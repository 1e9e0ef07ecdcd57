import { nearest } from "@difflens/common";
import { parseSystemCondition } from "./conditions.ts";
import { ChatError } from "./errors.ts";
import type { TokenizeChatOptions } from "./tokenize-chat.ts";

type Parse = (value: unknown, key: string) => unknown;

const bool: Parse = (v, key) => {
  if (typeof v !== "boolean") throw bad(key, "boolean", v);
  return v;
};
const stringList: Parse = (v, key) => {
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) throw bad(key, "an array of strings", v);
  return Object.freeze([...v]);
};
const FIELDS: Record<keyof TokenizeChatOptions, Parse> = {
  addGenerationPrompt: bool,
  condition: (v) => parseSystemCondition(v),
  roles: stringList,
  specials: stringList,
  markers: (v, key) => {
    const o = v as Record<string, unknown> | null;
    const expected = "{ turnStart: string, turnEnd: string, headerEnd?, roleNames?, bosToken?, specials? }";
    if (o === null || typeof o !== "object" || typeof o["turnStart"] !== "string" || typeof o["turnEnd"] !== "string")
      throw bad(key, expected, v);
    const optional = { headerEnd: "string", bosToken: "string", roleNames: "object", specials: "object" } as const;
    for (const k of Object.keys(o)) {
      if (k === "turnStart" || k === "turnEnd") continue;
      const want = optional[k as keyof typeof optional];
      const value = o[k];
      const ok =
        want !== undefined &&
        (want === "string"
          ? typeof value === "string"
          : k === "specials"
            ? Array.isArray(value) && value.every((x) => typeof x === "string")
            : value !== null &&
              typeof value === "object" &&
              !Array.isArray(value) &&
              Object.values(value).every((x) => typeof x === "string"));
      if (!ok) throw bad(`${key}.${k}`, expected, value);
    }
    return Object.freeze({ ...o });
  },
  extra: (v, key) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw bad(key, "an object of template variables", v);
    return Object.freeze({ ...(v as Record<string, unknown>) });
  },
};

function bad(field: string, expected: string, got: unknown): ChatError {
  return new ChatError("INVALID_OPTION", `bad value for option ${field}`, {
    field,
    expected,
    got: JSON.stringify(got),
  });
}

/**
 * Validates `tokenizeChat`/`renderChat` options read from a config file: unknown keys are rejected with the nearest
 * valid key, `condition` accepts a label (`"custom:<text>"`) or an object. Returns a new frozen object.
 */
export function resolveTokenizeChatOptions(input: unknown): Readonly<TokenizeChatOptions> {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new ChatError("INVALID_OPTION", "chat options must be an object", { got: JSON.stringify(input) });
  }
  const known = Object.keys(FIELDS);
  const out: Record<string, unknown> = { addGenerationPrompt: false };
  for (const [key, value] of Object.entries(input)) {
    const parse = FIELDS[key as keyof TokenizeChatOptions];
    if (parse === undefined) {
      const suggestion = nearest(key, known);
      throw new ChatError("INVALID_OPTION", `unknown option "${key}"`, {
        field: key,
        expected: known.join(", "),
        ...(suggestion === undefined ? {} : { suggestion, fix: `did you mean "${suggestion}"?` }),
      });
    }
    if (value !== undefined) out[key] = parse(value, key);
  }
  return Object.freeze(out as TokenizeChatOptions);
}
