import { parse, tokenize } from "@huggingface/jinja";
import { ChatError } from "./errors.ts";

/** The lexer options transformers uses for chat templates (and @huggingface/jinja's Template). */
const LEX_OPTIONS = { lstrip_blocks: true, trim_blocks: true } as const;

type Program = ReturnType<typeof parse>;
type LexTokens = ReturnType<typeof tokenize>;

/** 1-based line and column of a UTF-16 offset in `source`. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, Math.max(0, Math.min(offset, source.length)));
  const line = before.split("\n").length;
  const column = before.length - (before.lastIndexOf("\n") + 1) + 1;
  return { line, column };
}

/**
 * Lexes and parses a template. @huggingface/jinja's errors carry no position, so on failure we find one: a lexer
 * error is located by the shortest prefix of the source that raises the same error (the lexer reads left to right);
 * a parser error by the last token the parser read (recorded through a Proxy), found in the source by
 * walking the tokens' texts in order.
 */
export function compileTemplate(source: string, file: string): Program {
  let tokens: LexTokens;
  try {
    tokens = tokenize(source, LEX_OPTIONS);
  } catch (cause) {
    const message = (cause as Error).message;
    throw syntaxError(source, file, message, lexErrorOffset(source, message), cause);
  }
  // The parser reads tokens[current] right before it throws, so the last index read is the offending token.
  let furthest = -1;
  const watched = new Proxy(tokens, {
    get(target, property, receiver) {
      if (typeof property === "string" && /^\d+$/.test(property)) furthest = Number(property);
      return Reflect.get(target, property, receiver);
    },
  });
  try {
    return parse(watched);
  } catch (cause) {
    const raw = (cause as Error).message;
    const atEnd = furthest >= tokens.length;
    const message = atEnd ? `unexpected end of template, an unclosed block? (${raw})` : raw;
    const offset = atEnd ? source.length : tokenOffset(source, tokens, furthest);
    throw syntaxError(source, file, message, offset, cause);
  }
}

function syntaxError(source: string, file: string, message: string, offset: number, cause: unknown): ChatError {
  const { line, column } = lineColumn(source, offset);
  const lineText = source.split("\n")[line - 1] ?? "";
  return new ChatError(
    "TEMPLATE_SYNTAX",
    `chat template does not parse: ${message}`,
    { file, line, column, got: lineText.length > 120 ? `${lineText.slice(0, 117)}...` : lineText },
    { cause },
  );
}

function lexes(prefix: string): LexTokens | null {
  try {
    return tokenize(prefix, LEX_OPTIONS);
  } catch {
    return null;
  }
}

function throwsMessage(prefix: string, message: string): boolean {
  try {
    tokenize(prefix, LEX_OPTIONS);
    return false;
  } catch (e) {
    return (e as Error).message === message;
  }
}

function lexErrorOffset(source: string, message: string): number {
  if (message === "Unexpected end of input" || message === "Missing end of comment tag") {
    // An unterminated string or comment: the longest prefix that still lexes ends where it opens (give or take
    // the whitespace before it, which the lexer cannot end on either).
    for (let n = source.length - 1; n > 0; n--) {
      if (lexes(source.slice(0, n)) !== null) {
        while (n < source.length && /\s/.test(source[n] as string)) n++;
        return n;
      }
    }
    return 0;
  }
  let lo = 1;
  let hi = source.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (throwsMessage(source.slice(0, mid), message)) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
}

/**
 * Source offset of token `tokenIndex`: walk the tokens in order, finding each one's text from a moving cursor.
 * (Lexing prefixes does not work here: the lexer throws whenever a prefix ends inside a word or whitespace.)
 */
function tokenOffset(source: string, tokens: LexTokens, tokenIndex: number): number {
  let cursor = 0;
  for (let i = 0; i <= tokenIndex && i < tokens.length; i++) {
    const value = (tokens[i] as { value: string }).value;
    const at = value.length > 0 ? source.indexOf(value, cursor) : -1;
    if (i === tokenIndex) return at >= 0 ? at : cursor;
    if (at >= 0) cursor = at + value.length;
  }
  return cursor;
}
