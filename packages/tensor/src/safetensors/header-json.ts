/**
 * A strict RFC 8259 JSON parser for safetensors headers. Hand-written because `JSON.parse` silently keeps the last
 * of two equal keys (a header naming a tensor twice would lose one without a word), turns `"__proto__"` keys into
 * prototype writes on plain objects, and cannot tell `2` from `2.0` (the format's integers must be integers).
 * Objects become `Map`s in document order; integer literals within ±2^53 become numbers; every other number is a
 * `JsonNumber` so callers can reject it with a precise message. Nesting is capped so hostile input cannot overflow
 * the stack.
 */

export type JsonValue = string | number | boolean | null | JsonNumber | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

/** A number that is not an integer literal within Number.MAX_SAFE_INTEGER (a fraction, exponent or huge value). */
export class JsonNumber {
  constructor(
    readonly text: string,
    readonly value: number,
  ) {}
}

/** Why the text is not acceptable JSON: a syntax problem, or a key that occurs twice in one object. */
export class HeaderJsonError extends Error {
  constructor(
    readonly kind: "syntax" | "duplicate",
    message: string,
    /** The duplicated key (kind "duplicate"). */
    readonly key?: string,
    /** The keys leading to the object that holds the duplicate ([] for the root). */
    readonly path: readonly string[] = [],
  ) {
    super(message);
    this.name = "HeaderJsonError";
  }
}

/** A safetensors header nests three levels; anything past this is hostile or broken. */
export const MAX_JSON_DEPTH = 64;

const WS_SPACE = 0x20,
  WS_TAB = 0x09,
  WS_LF = 0x0a,
  WS_CR = 0x0d;

export function parseStrictJson(text: string): JsonValue {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.parseValue(0, []);
  parser.skipWhitespace();
  if (parser.pos !== text.length) parser.fail(`unexpected ${parser.describeHere()} after the JSON value`);
  return value;
}

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new HeaderJsonError("syntax", `${message} at character ${this.pos}`);
  }

  describeHere(): string {
    if (this.pos >= this.text.length) return "end of input";
    return JSON.stringify(this.text.slice(this.pos, this.pos + 12));
  }

  skipWhitespace(): void {
    const t = this.text;
    let p = this.pos;
    while (p < t.length) {
      const c = t.charCodeAt(p);
      if (c !== WS_SPACE && c !== WS_LF && c !== WS_CR && c !== WS_TAB) break;
      p++;
    }
    this.pos = p;
  }

  parseValue(depth: number, path: string[]): JsonValue {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x7b /* { */:
        return this.parseObject(depth, path);
      case 0x5b /* [ */:
        return this.parseArray(depth, path);
      case 0x22 /* " */:
        return this.parseString();
      case 0x74 /* t */:
        return this.parseLiteral("true", true);
      case 0x66 /* f */:
        return this.parseLiteral("false", false);
      case 0x6e /* n */:
        return this.parseLiteral("null", null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
        return this.fail(`unexpected ${this.describeHere()}`);
    }
  }

  private parseLiteral<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail(`unexpected ${this.describeHere()}`);
    this.pos += word.length;
    return value;
  }

  private parseObject(depth: number, path: string[]): JsonObject {
    const out: JsonObject = new Map();
    this.pos++; // {
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== 0x22) this.fail(`expected a string key, got ${this.describeHere()}`);
      const key = this.parseString();
      if (out.has(key)) {
        throw new HeaderJsonError("duplicate", `key ${JSON.stringify(key)} appears twice`, key, [...path]);
      }
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail(`expected ':' after key, got ${this.describeHere()}`);
      this.pos++;
      this.skipWhitespace();
      path.push(key);
      out.set(key, this.parseValue(depth + 1, path));
      path.pop();
      this.skipWhitespace();
      const sep = this.text.charCodeAt(this.pos);
      this.pos++;
      if (sep === 0x7d) return out;
      if (sep !== 0x2c) {
        this.pos--;
        this.fail(`expected ',' or '}' in object, got ${this.describeHere()}`);
      }
      this.skipWhitespace();
    }
  }

  private parseArray(depth: number, path: string[]): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++; // [
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.parseValue(depth + 1, path));
      this.skipWhitespace();
      const sep = this.text.charCodeAt(this.pos);
      this.pos++;
      if (sep === 0x5d) return out;
      if (sep !== 0x2c) {
        this.pos--;
        this.fail(`expected ',' or ']' in array, got ${this.describeHere()}`);
      }
      this.skipWhitespace();
    }
  }

  parseString(): string {
    const t = this.text;
    let p = this.pos + 1; // after the opening quote
    let chunkStart = p;
    let out = "";
    for (;;) {
      if (p >= t.length) {
        this.pos = p;
        this.fail("unterminated string");
      }
      const c = t.charCodeAt(p);
      if (c === 0x22) {
        out += t.slice(chunkStart, p);
        this.pos = p + 1;
        return out;
      }
      if (c < 0x20) {
        this.pos = p;
        this.fail(`raw control character U+${c.toString(16).padStart(4, "0")} in a string`);
      }
      if (c === 0x5c) {
        out += t.slice(chunkStart, p);
        this.pos = p;
        out += this.parseEscape();
        p = this.pos;
        chunkStart = p;
        continue;
      }
      p++;
    }
  }

  /** At a backslash: returns the escaped text and leaves pos after it. Lone surrogates are refused, as serde does. */
  private parseEscape(): string {
    const t = this.text;
    const e = t.charCodeAt(this.pos + 1);
    this.pos += 2;
    switch (e) {
      case 0x22:
        return '"';
      case 0x5c:
        return "\\";
      case 0x2f:
        return "/";
      case 0x62:
        return "\b";
      case 0x66:
        return "\f";
      case 0x6e:
        return "\n";
      case 0x72:
        return "\r";
      case 0x74:
        return "\t";
      case 0x75: {
        const unit = this.readHex4();
        if (unit >= 0xdc00 && unit <= 0xdfff) this.fail("lone trailing surrogate in a \\u escape");
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (t.charCodeAt(this.pos) !== 0x5c || t.charCodeAt(this.pos + 1) !== 0x75) {
            this.fail("lone leading surrogate in a \\u escape");
          }
          this.pos += 2;
          const low = this.readHex4();
          if (low < 0xdc00 || low > 0xdfff) this.fail("leading surrogate not followed by a trailing surrogate");
          return String.fromCharCode(unit, low);
        }
        return String.fromCharCode(unit);
      }
      default:
        this.pos -= 2;
        return this.fail("invalid escape sequence");
    }
  }

  private readHex4(): number {
    const hex = this.text.slice(this.pos, this.pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("invalid \\u escape");
    this.pos += 4;
    return parseInt(hex, 16);
  }

  private parseNumber(): number | JsonNumber {
    const rest = this.text.slice(this.pos, this.pos + 400);
    const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(rest);
    if (m === null) return this.fail(`invalid number ${this.describeHere()}`);
    const literal = m[0];
    if (literal.length === rest.length && this.pos + literal.length < this.text.length) {
      this.fail("number literal longer than 400 characters");
    }
    this.pos += literal.length;
    const value = Number(literal);
    const isIntegerLiteral = m[1] === undefined && m[2] === undefined;
    if (isIntegerLiteral && Number.isSafeInteger(value) && literal !== "-0") return value;
    return new JsonNumber(literal, value);
  }
}
