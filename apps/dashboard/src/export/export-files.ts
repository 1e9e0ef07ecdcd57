// Files copied into a static export: the run files its pages show, and the web build.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { DiscoveredRun } from "../runs/discovered-run.ts";
import { resolveRunPath } from "../runs/read-run-file.ts";

export interface Written {
  files: number;
  bytes: number;
}

/**
 * Copies `relPath` of the run folder to `<outDir>/files/<runId>/<relPath>`, where the client's static mode looks for
 * `/api/file` URLs. The path resolves as the server's /api/file resolves it (inside the run folder, no links out); a
 * file it refuses or cannot find is skipped — the page shows its own error — so nothing from outside the served runs
 * is ever exported.
 */
export async function copyRunFile(run: DiscoveredRun, relPath: string, outDir: string): Promise<Written> {
  const source = await resolveRunPath(run, relPath).catch(() => null);
  if (source === null) return { files: 0, bytes: 0 };
  const target = join(outDir, "files", run.id, relative(run.dir, source));
  if (existsSync(target)) return { files: 0, bytes: 0 }; // pages may show the same figure twice
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
  return { files: 1, bytes: statSync(source).size };
}

/** Copies the web build (`dist/web`: dashboard.js, dashboard.css, anything beside them) into `assetsDir`. */
export function copyAssets(webDir: string, assetsDir: string): Written {
  const written = { files: 0, bytes: 0 };
  mkdirSync(assetsDir, { recursive: true });
  for (const entry of readdirSync(webDir, { withFileTypes: true })) {
    const source = join(webDir, entry.name);
    const target = join(assetsDir, entry.name);
    if (entry.isDirectory()) {
      const inner = copyAssets(source, target);
      written.files += inner.files;
      written.bytes += inner.bytes;
    } else if (entry.isFile()) {
      copyFileSync(source, target);
      written.files += 1;
      written.bytes += statSync(source).size;
    }
  }
  return written;
}
