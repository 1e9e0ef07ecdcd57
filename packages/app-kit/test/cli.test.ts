import type { Command } from "@difflens/common";
import { describe, expect, it } from "vitest";
import { AppKitError, CONFIG_FLAG, RUN_DIR_FLAG, runAppCli, WANDB_FLAG } from "../src/index.ts";

const fail = (error: Error) => () => {
  throw error;
};
const commands: Record<string, Command> = {
  ok: {
    summary: "succeeds",
    flags: [CONFIG_FLAG, RUN_DIR_FLAG, WANDB_FLAG],
    run: ({ flags, log }) => (log(`config=${String(flags.config)}`), 0),
  },
  check: { summary: "a failed check", flags: [], run: () => 1 },
  config: { summary: "a bad config", flags: [], run: fail(new AppKitError("CONFIG_UNKNOWN_KEY", 'unknown key "hok"')) },
  broken: { summary: "a run error", flags: [], run: fail(new Error("disk full")) },
};

async function cli(...argv: string[]): Promise<{ status: number; lines: string[]; out: string }> {
  const lines: string[] = [];
  let out = "";
  const log = (line: string) => lines.push(line);
  const status = await runAppCli(commands, { program: "toy", argv, log, out: (t) => (out += t), backend: "js" });
  return { status, lines, out };
}

describe("runAppCli", () => {
  it("chooses the backend, then runs the command (exit 0)", async () => {
    const r = await cli("ok", "--config", "a.json", "--run-dir", "runs/x");
    expect(r.status).toBe(0);
    expect(r.lines).toEqual(["backend: js", "config=a.json"]);
  });

  it.each([
    [["check"], 1, "backend: js"],
    [["config"], 2, 'error [CONFIG_UNKNOWN_KEY]: unknown key "hok"'],
    [["broken"], 1, "error: disk full"],
    [["ok", "--confg", "a"], 2, 'did you mean "--config"'],
    [["okk"], 2, 'did you mean "ok"'],
  ])("%j exits %i", async (argv, status, line) => {
    const r = await cli(...argv);
    expect(r.status).toBe(status);
    expect(r.lines.join("\n")).toContain(line);
  });

  it("prints each command's help with the shared flags (exit 0, no backend chosen)", async () => {
    const r = await cli("ok", "--help");
    expect(r.status).toBe(0);
    expect(r.lines).toEqual([]);
    expect(r.out).toContain("--config FILE");
    expect(r.out).toContain("--run-dir DIR");
    expect(r.out).toContain("--wandb MODE");
  });
});
