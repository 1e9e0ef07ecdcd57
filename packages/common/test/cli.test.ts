import { describe, expect, it } from "vitest";
import {
  type Command,
  type FlagSpec,
  parseCommandLine,
  runCommand,
  runCommandTable,
  UsageError,
} from "../src/index.ts";

const FLAGS: FlagSpec[] = [
  { name: "seed", kind: "integer", value: "N", help: "seed" },
  { name: "scale", kind: "number", help: "scale" },
  { name: "config", kind: "string", value: "FILE", short: "c", help: "config" },
  { name: "resume", kind: "boolean", help: "resume" },
  { name: "hook", kind: "strings", help: "hooks" },
];

function usageMessage(argv: string[]): string {
  try {
    parseCommandLine("cmd", argv, FLAGS);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("expected a usage error");
}

describe("parseCommandLine", () => {
  it("parses every kind, both spellings and repeats", () => {
    const parsed = parseCommandLine(
      "cmd",
      ["--seed", "3", "--scale=0.5", "-c", "a.json", "--resume", "--hook", "x", "--hook=y"],
      FLAGS,
    );
    expect(parsed.flags).toEqual({ seed: 3, scale: 0.5, config: "a.json", resume: true, hook: ["x", "y"] });
    expect(parsed.help).toBe(false);
  });

  it("takes negative numbers as values", () => {
    expect(parseCommandLine("cmd", ["--seed", "-1", "--scale", "-0.5"], FLAGS).flags).toEqual({
      seed: -1,
      scale: -0.5,
    });
  });

  it("answers typos with the nearest flag", () => {
    expect(usageMessage(["--resum"])).toContain('did you mean "--resume"');
    expect(usageMessage(["--seeed", "1"])).toContain('did you mean "--seed"');
    expect(usageMessage(["--zzzzzzzz"])).not.toContain("did you mean");
    // Without a --resume flag, "--resum" is not close to "--seed": the shared dashes do not count.
    expect(() => parseCommandLine("cmd", ["--resum"], [{ name: "seed", kind: "integer", help: "seed" }])).toThrow(
      /unknown flag --resum \(run with --help/,
    );
  });

  it("rejects bad values, missing values and stray arguments", () => {
    expect(usageMessage(["--seed", "1.5"])).toContain("--seed must be a whole number");
    expect(usageMessage(["--scale", "abc"])).toContain("--scale must be a number");
    expect(usageMessage(["--config"])).toContain("--config needs a value");
    expect(usageMessage(["stray"])).toContain('unexpected argument "stray"');
  });

  it("assigns positionals and reports missing ones", () => {
    const positionals = [
      { name: "src", help: "source" },
      { name: "rest", help: "more", variadic: true, required: false },
    ];
    expect(parseCommandLine("cmd", ["a", "b", "c"], [], positionals).positionals).toEqual({
      src: "a",
      rest: ["b", "c"],
    });
    expect(() => parseCommandLine("cmd", [], [], positionals)).toThrow(/missing SRC/);
  });

  it("--help wins over everything else", () => {
    expect(parseCommandLine("cmd", ["--bogus", "--help"], FLAGS).help).toBe(true);
  });
});

describe("runCommandTable and runCommand: exit codes 0 / 1 / 2", () => {
  const lines: string[] = [];
  const printed: string[] = [];
  const io = { log: (l: string) => lines.push(l), out: (t: string) => printed.push(t) };
  const commands: Record<string, Command> = {
    ok: { summary: "succeeds", flags: FLAGS, run: ({ flags }) => (flags.seed === 7 ? 0 : 1) },
    boom: {
      summary: "throws",
      flags: [],
      run: () => {
        throw Object.assign(new Error("bad config"), { code: "CONFIG_UNKNOWN_KEY" });
      },
    },
  };

  it.each([
    [["ok", "--seed", "7"], 0],
    [["ok", "--seed", "1"], 1],
    [["ok", "--sed", "7"], 2],
    [["okk"], 2],
    [[], 2],
    [["--help"], 0],
    [["ok", "--help"], 0],
    [["boom"], 2],
  ])("%j → %i", async (argv, code) => {
    expect(await runCommandTable(commands, { program: "prog", argv, usageCodes: ["CONFIG_UNKNOWN_KEY"], ...io })).toBe(
      code,
    );
  });

  it("a run error that is not a usage error exits 1 with its code", async () => {
    lines.length = 0;
    expect(await runCommandTable(commands, { program: "prog", argv: ["boom"], ...io })).toBe(1);
    expect(lines[0]).toBe("error [CONFIG_UNKNOWN_KEY]: bad config");
  });

  it("prints help with flags and positionals", async () => {
    printed.length = 0;
    const single: Command = {
      summary: "one",
      flags: FLAGS,
      positionals: [{ name: "src", help: "source" }],
      run: () => 0,
    };
    expect(await runCommand(single, { program: "single", argv: ["--help"], ...io })).toBe(0);
    expect(printed.join("")).toContain("usage: single SRC [flags]");
    expect(printed.join("")).toContain("--seed N");
    expect(printed.join("")).toContain("-h, --help");
  });
});
