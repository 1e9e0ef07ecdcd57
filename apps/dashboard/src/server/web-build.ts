/**
 * The web client's build, made when missing or stale before the server starts. Stale is judged by a stamp of the
 * sources' content hashes (web/, src/api/, package.json) kept beside the bundle, not by mtimes: a branch switch can
 * leave a bundle built from other sources with newer mtimes than the checked-out ones, and a touch without a change
 * should not cost a rebuild. The build (vite's JS API, web/vite.config.ts) goes to a temp folder swapped in whole, so
 * a reader — another process starting the dashboard — sees the old bundle or the new one, never half of one.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { folderFingerprint } from "@difflens/app-kit";
import { writeFolderAtomic } from "@difflens/common";

const APP_DIR = fileURLToPath(new URL("../..", import.meta.url));
export const WEB_DIST_DIR = path.join(APP_DIR, "dist", "web");
const STAMP = ".build-stamp";
const LOCK = path.join(APP_DIR, "dist", ".web-build.lock");
/** A lock older than this is a crashed builder's: taken over. */
const LOCK_STALE_MS = 5 * 60_000;
// dashboard.css is not required: vite writes none while the client imports no CSS.
const BUNDLE_FILES = ["dashboard.js"];

/** The stamp of the client's sources: one sha256 over every input file's path and hash. */
export function webSourceStamp(): string {
  const inputs = {
    web: folderFingerprint(path.join(APP_DIR, "web")),
    api: folderFingerprint(path.join(APP_DIR, "src", "api")),
    package: createHash("sha256")
      .update(readFileSync(path.join(APP_DIR, "package.json")))
      .digest("hex"),
  };
  return createHash("sha256").update(JSON.stringify(inputs)).digest("hex");
}

/** Why the build in `dir` must be made again, or null when it is up to date with `stamp`. */
export function staleReason(dir: string, stamp: string): string | null {
  const missing = BUNDLE_FILES.find((f) => !existsSync(path.join(dir, f)));
  if (missing) return `${path.relative(APP_DIR, path.join(dir, missing))} is missing`;
  let built = "";
  try {
    built = readFileSync(path.join(dir, STAMP), "utf8").trim();
  } catch {}
  return built === stamp ? null : "its sources changed since it was built";
}

let pending: Promise<string> | null = null;

/** Builds dist/web when missing or stale (and says so); resolves to the dist/web folder. */
export function ensureWebBuild(options: { log?: (line: string) => void } = {}): Promise<string> {
  pending ??= build(options.log ?? ((line) => process.stderr.write(`${line}\n`))).finally(() => {
    pending = null;
  });
  return pending;
}

async function build(log: (line: string) => void): Promise<string> {
  const stamp = webSourceStamp();
  if (staleReason(WEB_DIST_DIR, stamp) === null) return WEB_DIST_DIR;
  await takeLock();
  try {
    const reason = staleReason(WEB_DIST_DIR, stamp); // another process may have built it while we waited
    if (reason !== null) await viteBuild(stamp, reason, log);
    return WEB_DIST_DIR;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

async function takeLock(): Promise<void> {
  mkdirSync(path.dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch {
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function viteBuild(stamp: string, reason: string, log: (line: string) => void): Promise<void> {
  log(`dashboard: building the web client (${reason}) …`);
  const started = performance.now();
  const vite = await import("vite");
  await writeFolderAtomic(
    WEB_DIST_DIR,
    async (tmp) => {
      await vite.build({
        configFile: path.join(APP_DIR, "web", "vite.config.ts"),
        logLevel: "warn",
        build: { outDir: tmp, emptyOutDir: true },
      });
      writeFileSync(path.join(tmp, STAMP), `${stamp}\n`);
    },
    { force: true },
  );
  log(
    `dashboard: web client built in ${((performance.now() - started) / 1000).toFixed(1)} s → ${path.relative(process.cwd(), WEB_DIST_DIR) || "."}`,
  );
}
