import * as path from "node:path";
import type { Command } from "@difflens/common";
import { describe, expect, it } from "vitest";
import {
  AppKitError,
  CONFIG_FLAG,
  invocationDir,
  RUN_DIR_FLAG,
  rerunCommandLine,
  runAppCli,
  WANDB_FLAG,
} from "../src/index.ts";

const fail = (error: Error) => () => {
  throw error;
};
const commands: Record<string, Command> = {
  ok: {
    summary: "succeeds",
    flags: [CONFIG_FLAG, RUN_DIR_FLAG, WANDB_FLAG],
    run: ({ flags, log }) => {
      log(`config=${String(flags.config)}`);
      return 0;
    },
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
    expect(r.out).toContain("--backend NAME");
  });
});

describe("--backend on every command", () => {
  const run = async (argv: string[], env?: string) => {
    const lines: string[] = [];
    const before = process.env.DIFFLENS_BACKEND;
    if (env === undefined) delete process.env.DIFFLENS_BACKEND;
    else process.env.DIFFLENS_BACKEND = env;
    try {
      const status = await runAppCli(commands, { program: "toy", argv, log: (l) => lines.push(l), out: () => {} });
      return { status, lines };
    } finally {
      if (before === undefined) delete process.env.DIFFLENS_BACKEND;
      else process.env.DIFFLENS_BACKEND = before;
    }
  };

  it("takes the flag, else DIFFLENS_BACKEND; a name that is no backend is a usage error naming its source", async () => {
    expect(await run(["check", "--backend", "js"], "native")).toEqual({ status: 1, lines: ["backend: js"] });
    expect((await run(["check"], "js")).lines).toEqual(["backend: js"]);
    const flag = await run(["ok", "--backend", "gpu"]);
    expect(flag.status).toBe(2);
    expect(flag.lines.join("\n")).toMatch(/--backend: expected one of auto, native, js, webgpu, got "gpu"/);
    const env = await run(["ok"], "cuda");
    expect(env.status).toBe(2);
    expect(env.lines.join("\n")).toMatch(/DIFFLENS_BACKEND: expected one of/);
  });
});

describe("paths on the command line (issue 15, defect 7)", () => {
  const seen: Record<string, unknown> = {};
  const table: Record<string, Command> = {
    paths: {
      summary: "records its flags",
      flags: [CONFIG_FLAG, RUN_DIR_FLAG, { name: "resume", kind: "boolean", help: "" }],
      run: ({ flags }) => {
        Object.assign(seen, flags);
        return 0;
      },
    },
  };
  const quiet = () => undefined;

  it("resolve from where the command was typed (INIT_CWD under pnpm), not the app's folder", async () => {
    expect(invocationDir({ INIT_CWD: "/home/me/repo" }, "/home/me/repo/apps/diffing")).toBe("/home/me/repo");
    expect(invocationDir({}, "/somewhere")).toBe("/somewhere");
    const argv = ["paths", "--config", "configs/a.json", "--run-dir", "/abs/run"];
    expect(
      await runAppCli(table, { program: "toy", argv, log: quiet, backend: "js", invocationDir: "/home/me/repo" }),
    ).toBe(0);
    expect(seen).toMatchObject({ config: path.resolve("/home/me/repo/configs/a.json"), "run-dir": "/abs/run" });
  });

  it("prints the line that continues an interrupted command, once, then exits as killed", async () => {
    expect(rerunCommandLine("pnpm --filter x", ["paths", "--config", "my file.json"], table.paths!.flags)).toBe(
      "pnpm --filter x paths --config 'my file.json' --resume",
    );
    const lines: string[] = [];
    const signals: string[] = [];
    const interrupted: Command = {
      summary: "waits",
      flags: table.paths!.flags,
      run: () => {
        process.emit("SIGINT", "SIGINT");
        process.emit("SIGINT", "SIGINT");
        return 0;
      },
    };
    const options = {
      program: "toy",
      argv: ["wait", "--config", "a.json"],
      log: (l: string) => lines.push(l),
      backend: "js" as const,
    };
    await runAppCli({ wait: interrupted }, { ...options, onSignal: (s) => signals.push(s) });
    expect(signals).toEqual(["SIGINT", "SIGINT"]);
    const hints = lines.filter((l) => l.includes("interrupted"));
    expect(hints).toHaveLength(1);
    expect(hints[0]).toContain("toy wait --config a.json --resume");
    expect(process.listenerCount("SIGINT")).toBe(0); // removed after the command
  });
});
