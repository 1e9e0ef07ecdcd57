/** A small flag parser: declared flags only, `--flag value` or `--flag=value`, typos answered with the nearest flag. */
import { DiffingError } from "../errors.ts";
import { didYouMean, nearest } from "../nearest.ts";

export interface FlagSpec {
  readonly name: string; // without dashes
  readonly kind: "string" | "number" | "boolean";
  readonly help: string;
  readonly value?: string; // placeholder in --help, e.g. FILE
}

export type ParsedFlags = Record<string, string | number | boolean | undefined>;

export function parseFlags(command: string, argv: readonly string[], specs: readonly FlagSpec[]): ParsedFlags {
  const out: ParsedFlags = {};
  const names = specs.map((s) => `--${s.name}`);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) {
      throw new DiffingError("BAD_FLAG_VALUE", `${command}: unexpected argument "${arg}" (flags start with --; see --help)`, { got: arg });
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs.find((s) => s.name === name);
    if (!spec) {
      const suggestion = nearest(`--${name}`, names);
      throw new DiffingError("UNKNOWN_FLAG", `${command}: unknown flag --${name}${didYouMean(`--${name}`, names)} (run with --help for the list)`, { got: `--${name}`, ...(suggestion ? { suggestion } : {}) });
    }
    if (spec.kind === "boolean") {
      if (eq >= 0) throw new DiffingError("BAD_FLAG_VALUE", `${command}: --${name} takes no value`, { field: name });
      out[spec.name] = true;
      continue;
    }
    const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined || (eq < 0 && raw.startsWith("--"))) throw new DiffingError("BAD_FLAG_VALUE", `${command}: --${name} needs a value (${spec.value ?? spec.kind})`, { field: name });
    if (spec.kind === "number") {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) throw new DiffingError("BAD_FLAG_VALUE", `${command}: --${name} must be a number, got "${raw}"`, { field: name, got: raw });
      out[spec.name] = n;
    } else {
      out[spec.name] = raw;
    }
  }
  return out;
}

export function formatHelp(usage: string, summary: string, specs: readonly FlagSpec[], notes: readonly string[] = []): string {
  const rows = specs.map((s) => [`--${s.name}${s.value ? ` ${s.value}` : ""}`, s.help] as const);
  const width = Math.max(...rows.map(([f]) => f.length), 6) + 2;
  return [`usage: ${usage}`, "", summary, "", "flags:", ...rows.map(([f, h]) => `  ${f.padEnd(width)}${h}`), ...(notes.length ? ["", ...notes] : [])].join("\n") + "\n";
}
