/**
 * One argument parser for every difflens CLI, over `node:util` `parseArgs`: declared flags only, `--flag value` or
 * `--flag=value`, numbers checked, unknown flags answered with the nearest valid one, and `--help` on every command.
 */
import { parseArgs } from "node:util";
import { DifflensError } from "../errors.ts";
import { nearest } from "../nearest.ts";

export interface FlagSpec {
  /** Without dashes: `run-dir`. */
  readonly name: string;
  /** `strings` may repeat (`--hook a --hook b`); `integer` is a whole number. */
  readonly kind: "string" | "number" | "integer" | "boolean" | "strings";
  readonly help: string;
  /** Placeholder in --help, e.g. `FILE`. */
  readonly value?: string;
  /** One letter: `-o`. */
  readonly short?: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly help: string;
  /** Default true. */
  readonly required?: boolean;
  /** Takes every remaining argument (last positional only). */
  readonly variadic?: boolean;
}

export type FlagValue = string | number | boolean | string[] | undefined;
export type ParsedFlags = Record<string, FlagValue>;

export interface ParsedCommandLine {
  readonly flags: ParsedFlags;
  readonly positionals: Record<string, string | string[] | undefined>;
  /** True when --help or -h was given (nothing else is checked then). */
  readonly help: boolean;
}

/** A command line a person got wrong: exit status 2. */
export class UsageError extends DifflensError<"USAGE"> {}

const HELP_FLAG: FlagSpec = { name: "help", kind: "boolean", short: "h", help: "show this help" };

/** The flags a command accepts, --help included once. */
export function withHelp(flags: readonly FlagSpec[]): FlagSpec[] {
  return flags.some((f) => f.name === "help") ? [...flags] : [...flags, HELP_FLAG];
}

/**
 * Parses `argv` (without the program and command names) against the declared flags and positionals.
 * `command` prefixes every message (`compare: unknown flag --seeed — did you mean "--seed"?`).
 */
export function parseCommandLine(
  command: string,
  argv: readonly string[],
  flags: readonly FlagSpec[],
  positionals: readonly PositionalSpec[] = [],
): ParsedCommandLine {
  const specs = withHelp(flags);
  if (argv.includes("--help") || argv.includes("-h")) return { flags: {}, positionals: {}, help: true };
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {};
  for (const spec of specs) {
    options[spec.name] = {
      type: spec.kind === "boolean" ? "boolean" : "string",
      ...(spec.kind === "strings" ? { multiple: true } : {}),
      ...(spec.short ? { short: spec.short } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, specs), options, strict: true, allowPositionals: true });
  } catch (error) {
    throw usageErrorFrom(command, error, specs);
  }
  const out: ParsedFlags = {};
  for (const spec of specs) {
    const raw = parsed.values[spec.name];
    if (raw === undefined) continue;
    out[spec.name] = convert(command, spec, raw);
  }
  return { flags: out, positionals: assignPositionals(command, parsed.positionals, positionals), help: false };
}

/** `--offset -1` → `--offset=-1`: parseArgs would read `-1` as a short flag, but a value-taking flag wants it. */
function joinNegativeValues(argv: readonly string[], specs: readonly FlagSpec[]): string[] {
  const takesValue = new Set(specs.filter((s) => s.kind !== "boolean").map((s) => `--${s.name}`));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (takesValue.has(arg) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

function convert(command: string, spec: FlagSpec, raw: string | boolean | (string | boolean)[]): FlagValue {
  if (spec.kind === "boolean") return raw === true;
  if (spec.kind === "strings") return (Array.isArray(raw) ? raw : [raw]).map(String);
  const text = String(Array.isArray(raw) ? raw[raw.length - 1] : raw);
  if (spec.kind === "string") {
    if (text.startsWith("--")) throw missingValue(command, spec);
    return text;
  }
  const value = Number(text);
  const whole = spec.kind === "integer";
  if (text.trim() === "" || !Number.isFinite(value) || (whole && !Number.isInteger(value))) {
    throw new UsageError(
      "USAGE",
      `${command}: --${spec.name} must be ${whole ? "a whole number" : "a number"}, got "${text}"`,
      {
        field: `--${spec.name}`,
        got: text,
        expected: whole ? "integer" : "number",
      },
    );
  }
  return value;
}

function missingValue(command: string, spec: FlagSpec): UsageError {
  return new UsageError("USAGE", `${command}: --${spec.name} needs a value (${spec.value ?? spec.kind})`, {
    field: `--${spec.name}`,
    expected: spec.value ?? spec.kind,
  });
}

function assignPositionals(
  command: string,
  given: readonly string[],
  specs: readonly PositionalSpec[],
): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  let index = 0;
  for (const spec of specs) {
    if (spec.variadic) {
      out[spec.name] = given.slice(index);
      index = given.length;
      if (spec.required !== false && (out[spec.name] as string[]).length === 0) throw missingPositional(command, spec);
      continue;
    }
    const value = given[index];
    if (value === undefined && spec.required !== false) throw missingPositional(command, spec);
    out[spec.name] = value;
    if (value !== undefined) index++;
  }
  if (index < given.length) {
    const extra = given[index]!;
    throw new UsageError("USAGE", `${command}: unexpected argument "${extra}" (flags start with --; see --help)`, {
      got: extra,
    });
  }
  return out;
}

function missingPositional(command: string, spec: PositionalSpec): UsageError {
  return new UsageError("USAGE", `${command}: missing ${spec.name.toUpperCase()} (${spec.help}; see --help)`, {
    field: spec.name,
  });
}

/** Turns `parseArgs`'s own errors into ours, with the nearest valid flag for an unknown one. */
function usageErrorFrom(command: string, error: unknown, specs: readonly FlagSpec[]): UsageError {
  const err = error as Error & { code?: string };
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const unknown = /'(-{1,2}[^'=]+)/.exec(err.message)?.[1] ?? "?";
    // Compared without the dashes, which every flag shares and which would make any short typo look close.
    const bare = nearest(
      unknown.replace(/^-+/, ""),
      specs.map((s) => s.name),
    );
    const suggestion = bare === undefined ? undefined : `--${bare}`;
    const hint = suggestion ? ` — did you mean "${suggestion}"?` : "";
    return new UsageError("USAGE", `${command}: unknown flag ${unknown}${hint} (run with --help for the list)`, {
      got: unknown,
      ...(suggestion ? { suggestion } : {}),
    });
  }
  if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const named = [...err.message.matchAll(/--([\w-]+)/g)].map((m) => m[1]);
    const spec = specs.find((s) => named.includes(s.name));
    if (spec && spec.kind !== "boolean") return missingValue(command, spec);
    if (spec) return new UsageError("USAGE", `${command}: --${spec.name} takes no value`, { field: `--${spec.name}` });
  }
  return new UsageError("USAGE", `${command}: ${err.message}`, {}, { cause: error });
}

/** The --help text of one command. */
export function formatHelp(
  usage: string,
  summary: string,
  flags: readonly FlagSpec[],
  options: { positionals?: readonly PositionalSpec[]; notes?: readonly string[] } = {},
): string {
  const flagRows = withHelp(flags).map((s) => {
    const short = s.short ? `-${s.short}, ` : "";
    return [
      `${short}--${s.name}${s.value ? ` ${s.value}` : s.kind === "boolean" ? "" : ` ${s.kind.toUpperCase()}`}`,
      s.help,
    ] as const;
  });
  const positionalRows = (options.positionals ?? []).map(
    (p) => [p.name.toUpperCase() + (p.variadic ? "…" : ""), p.help] as const,
  );
  const width = Math.max(8, ...[...flagRows, ...positionalRows].map(([f]) => f.length)) + 2;
  const lines = [`usage: ${usage}`, "", summary, ""];
  if (positionalRows.length > 0)
    lines.push("arguments:", ...positionalRows.map(([f, h]) => `  ${f.padEnd(width)}${h}`), "");
  lines.push("flags:", ...flagRows.map(([f, h]) => `  ${f.padEnd(width)}${h}`));
  if (options.notes && options.notes.length > 0) lines.push("", ...options.notes);
  return `${lines.join("\n")}\n`;
}
