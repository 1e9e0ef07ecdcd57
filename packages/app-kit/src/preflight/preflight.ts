/**
 * A preflight: every check of a command's inputs runs before any compute, and all the problems are reported at
 * once — a bad data file found after three days of training a parent stage costs three days. Each check is a
 * function that throws its usual error; the collector keeps going and reports them together.
 */
import { isDifflensError, type Log } from "@difflens/common";
import { AppKitError } from "../errors.ts";

export interface PreflightProblem {
  /** What was checked, e.g. `chat data datasets/chat.parquet`. */
  readonly check: string;
  readonly error: Error;
}

export class Preflight {
  readonly problems: PreflightProblem[] = [];
  readonly passed: string[] = [];

  /** Runs one check; a thrown error becomes a problem (and `undefined` is returned), never an exit. */
  async check<T>(what: string, fn: () => T | Promise<T>): Promise<T | undefined> {
    try {
      const value = await fn();
      this.passed.push(what);
      return value;
    } catch (error) {
      this.problems.push({ check: what, error: error instanceof Error ? error : new Error(String(error)) });
      return undefined;
    }
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }

  /** `preflight: ok — 7 checks passed (model …, tokenizer, …)`. */
  summary(): string {
    const checks = this.passed.join("; ");
    return this.ok
      ? `preflight: ok — ${this.passed.length} checks passed (${checks})`
      : preflightMessage(this.problems);
  }

  /**
   * Throws when anything failed: the one error unchanged (its class, code and exit status stay what the command
   * would have raised without a preflight), or PREFLIGHT_FAILED listing every problem with its fix.
   */
  finish(log?: Log): void {
    if (this.ok) {
      log?.(this.summary());
      return;
    }
    if (this.problems.length === 1) throw this.problems[0]!.error;
    const problems = this.problems.map((p) => ({ check: p.check, code: codeOf(p.error), message: p.error.message }));
    throw new AppKitError("PREFLIGHT_FAILED", preflightMessage(this.problems), { problems });
  }
}

function preflightMessage(problems: readonly PreflightProblem[]): string {
  const lines = [`${problems.length} problems found before any compute (nothing was run or written):`];
  problems.forEach((p, i) => {
    const code = codeOf(p.error);
    lines.push(`  ${i + 1}. ${p.check}: ${code ? `[${code}] ` : ""}${p.error.message}`);
    const fix = isDifflensError(p.error) ? p.error.facts.fix : undefined;
    if (typeof fix === "string" && !p.error.message.includes(fix)) lines.push(`     fix: ${fix}`);
  });
  return lines.join("\n");
}

function codeOf(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}
