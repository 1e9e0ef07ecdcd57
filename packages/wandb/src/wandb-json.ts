// W&B's history/summary dialect of JSON: standard JSON plus the bare tokens NaN, Infinity and -Infinity.
// The Python client writes them with json.dumps(allow_nan=True) and wandb-core with its "constants" mode
// (wandb/wandb PRs #7164, #12116), so the server accepts them in history lines. JSON.stringify would turn
// them into null and lose the fact that a loss diverged, hence this hand-written pair.

/** Serialise plain data (objects, arrays, strings, numbers, booleans, null), writing non-finite numbers as
 * NaN / Infinity / -Infinity tokens. Anything else (undefined, functions, bigint, class instances) throws a
 * TypeError naming its path, so callers can report the offending key. */
export function stringifyWandbJson(value: unknown, path = "$", seen: Set<object> = new Set()): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "number":
      if (Number.isFinite(value)) return JSON.stringify(value);
      return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "object": {
      if (seen.has(value)) throw new TypeError(`${path}: circular reference`);
      seen.add(value);
      try {
        return stringifyObject(value, path, seen);
      } finally {
        seen.delete(value);
      }
    }
    default:
      throw new TypeError(`${path}: ${describe(value)} is not plain data`);
  }
}

function stringifyObject(value: object, path: string, seen: Set<object>): string {
  if (Array.isArray(value)) {
    return `[${value.map((v: unknown, i) => stringifyWandbJson(v, `${path}[${i}]`, seen)).join(",")}]`;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`${path}: ${describe(value)} is not plain data`);
  }
  const parts = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `${JSON.stringify(k)}:${stringifyWandbJson(v, `${path}.${k}`, seen)}`,
  );
  return `{${parts.join(",")}}`;
}

/** A short description of a value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") {
    const ctor = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return ctor !== undefined && ctor !== "Object" ? `an instance of ${ctor}` : "an object";
  }
  return value === undefined ? "undefined" : `a ${typeof value}`;
}

/** Parse the dialect back; throws SyntaxError with the position on malformed input. */
export function parseWandbJson(text: string): unknown {
  const parser = new DialectParser(text);
  parser.skipSpace();
  const value = parser.value();
  parser.skipSpace();
  if (parser.pos !== text.length) parser.fail("end of input");
  return value;
}

class DialectParser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(expected: string): never {
    throw new SyntaxError(`expected ${expected} at position ${this.pos}`);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && " \t\r\n".includes(this.text[this.pos]!)) this.pos++;
  }

  value(): unknown {
    const c = this.text[this.pos];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    for (const [token, v] of CONSTANTS) {
      if (this.text.startsWith(token, this.pos)) {
        this.pos += token.length;
        return v;
      }
    }
    return this.number();
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') this.fail("a string key");
      const key = this.string();
      this.skipSpace();
      if (this.text[this.pos] !== ":") this.fail("':'");
      this.pos++;
      this.skipSpace();
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === "}") return out;
      if (c !== ",") this.fail("',' or '}'");
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      out.push(this.value());
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === "]") return out;
      if (c !== ",") this.fail("',' or ']'");
    }
  }

  private string(): string {
    const start = this.pos;
    this.pos++;
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail("closing quote");
      if (c === "\\") this.pos += 2;
      else if (c === '"') break;
      else this.pos++;
    }
    this.pos++;
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  private number(): number {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + 64));
    if (match === null) this.fail("a JSON value");
    this.pos += match[0].length;
    return Number(match[0]);
  }
}

const CONSTANTS: ReadonlyArray<readonly [string, unknown]> = [
  ["true", true],
  ["false", false],
  ["null", null],
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["-Infinity", Number.NEGATIVE_INFINITY],
];
