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
 * a parser error by the furthest token the parser looked at (recorded through a Proxy), mapped back to the source by
 * lexing prefixes.
 */
export function compileTemplate(source: string, file: string): Program {
  let tokens: LexTokens;
  try {
    tokens = tokenize(source, LEX_OPTIONS);
  } catch (cause) {
    const message = (cause as Error).message;
    throw syntaxError(source, file, message, lexErrorOffset(source, message), cause);
  }
  let furthest = -1;
  const watched = new Proxy(tokens, {
    get(target, property, receiver) {
      if (typeof property === "string" && /^\d+$/.test(property)) furthest = Math.max(furthest, Number(property));
      return Reflect.get(target, property, receiver);
    },
  });
  try {
    return parse(watched);
  } catch (cause) {
    const raw = (cause as Error).message;
    const atEnd = furthest >= tokens.length;
    const message = atEnd ? `unexpected end of template, an unclosed block? (${raw})` : raw;
    const offset = atEnd ? source.length : tokenOffset(source, furthest);
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
    // An unterminated string or comment: the longest prefix that still lexes ends where it opens.
    for (let n = source.length - 1; n > 0; n--) if (lexes(source.slice(0, n)) !== null) return n;
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

function tokenOffset(source: string, tokenIndex: number): number {
  const count = (n: number) => lexes(source.slice(0, n))?.length ?? -1;
  let lo = 0;
  let hi = source.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (count(mid) > tokenIndex) hi = mid;
    else lo = mid + 1;
  }
  // Prefixes cut inside a string literal do not lex, which can mislead the bisection; step back to the first
  // prefix that has the token.
  let n = lo;
  while (n > 1 && count(n - 1) > tokenIndex) n--;
  return Math.max(0, n - 1);
}
