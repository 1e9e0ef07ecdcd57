#!/usr/bin/env node
/**
 * `pnpm dashboard <folder>`: serves a run folder (or a folder of runs) as the dashboard, building the web client
 * first when missing or stale; `--export <out>` writes a static copy that opens from disk instead.
 * Exit status: 0 (the server ran until stopped, or the export was written), 1 a run error, 2 bad usage.
 */
import { statSync } from "node:fs";
import * as path from "node:path";
import { type AppFlagSpec, BACKEND_FLAG, chooseBackend, invocationDir, resolvePathFlags } from "@difflens/app-kit";
import { type Command, isMainModule, type Log, runCommand, UsageError } from "@difflens/common";
import { exportStatic } from "../export/static-export.ts";
import { startDashboardServer } from "../server/http-server.ts";
import { ensureWebBuild } from "../server/web-build.ts";

export const DASHBOARD_FLAGS: readonly AppFlagSpec[] = [
  { name: "port", kind: "integer", value: "N", help: "port to listen on (default 8080; 0 = any free port)" },
  {
    name: "host",
    kind: "string",
    value: "ADDRESS",
    help: "address to bind (default 127.0.0.1; anything else is reachable from other machines, without authentication)",
  },
  { name: "no-live", kind: "boolean", help: "do not run models: the live box says it is off" },
  {
    name: "export",
    kind: "string",
    value: "OUT",
    path: true,
    help: "write a static export (HTML + JSON + figures, opens from disk) to OUT instead of serving",
  },
  { ...BACKEND_FLAG, help: `the live box's ${BACKEND_FLAG.help}` },
];

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

export interface ServeHooks {
  /** Resolves when the server at `url` should stop (default: on SIGINT or SIGTERM). */
  readonly untilStopped?: (url: string) => Promise<void>;
  /** Makes the web build and resolves to its folder (default `ensureWebBuild`; tests pass a prepared one). */
  readonly webBuild?: (log: Log) => Promise<string>;
}

export function dashboardCommand(hooks: ServeHooks = {}): Command {
  return {
    summary:
      "Serve run folders as a local web app: run list, diffing scatter, feature pages, readouts, live prompt → features.",
    flags: DASHBOARD_FLAGS,
    positionals: [{ name: "folder", help: "a run folder, or a folder of runs (e.g. runs/diffing/demo)" }],
    notes: [
      "Read-only: nothing in the served folder is written. Paths outside it are refused.",
      "The web client (dist/web) is built first when it is missing or its sources changed.",
    ],
    run: async ({ flags, positionals, log }) => {
      const base = invocationDir();
      const resolved = resolvePathFlags(flags, DASHBOARD_FLAGS, base);
      const folder = path.resolve(base, String(positionals["folder"]));
      const port = flags["port"] === undefined ? 8080 : Number(flags["port"]);
      if (port < 0 || port > 65535)
        throw new UsageError("USAGE", `--port: expected 0–65535, got ${port}`, { field: "--port" });
      const host = typeof flags["host"] === "string" ? flags["host"] : "127.0.0.1";
      if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
        throw new UsageError("USAGE", `${folder}: no such folder (expected a run folder or a folder of runs)`, {
          file: folder,
        });
      }
      const webDir = await (hooks.webBuild ?? ((l: Log) => ensureWebBuild({ log: l })))(log);
      if (typeof resolved["export"] === "string") {
        const out = path.resolve(base, resolved["export"]);
        const { files, bytes } = await exportStatic(folder, out, { webDir, log, force: flags["force"] === true });
        log(
          `dashboard: static export of ${folder} → ${out} (${files} files, ${(bytes / 1e6).toFixed(1)} MB); open ${path.join(out, "index.html")}`,
        );
        return 0;
      }
      if (!LOOPBACK.has(host)) {
        log(
          `dashboard: warning: binding ${host} — anyone who can reach this machine can read these runs and run models (no authentication)`,
        );
      }
      // Live runs models: by default the native kernels when the add-on loads (about 9× the js kernels' speed).
      if (flags["no-live"] !== true) log(`dashboard: live backend ${(await chooseBackend(flags["backend"])).name}`);
      const server = await startDashboardServer({
        root: folder,
        host,
        port,
        live: flags["no-live"] !== true,
        webDir,
        log,
      });
      log(`dashboard: serving ${folder}`);
      process.stdout.write(`${server.url}\n`);
      await (hooks.untilStopped ?? untilSignal)(server.url);
      await server.close();
      return 0;
    },
  };
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

export function main(argv: readonly string[], log?: Log, hooks?: ServeHooks): Promise<number> {
  return runCommand(dashboardCommand(hooks), {
    program: "pnpm dashboard",
    argv,
    usageCodes: ["NOT_FOUND"],
    ...(log ? { log } : {}),
  });
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
