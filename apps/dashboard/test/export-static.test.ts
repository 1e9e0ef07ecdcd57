// The static export in Node: every answer the client asks for is on disk under its staticDataKey, equal to what the
// server's builders return, the figure files are copied, the web build is in assets/, and the folder is written whole.
// (That it opens from disk in chromium is checked in test/browser/dashboard.test.ts.)
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportStatic } from "../src/export/static-export.ts";
import { type RouteName, STAGES, STATIC_GLOBAL, staticDataKey } from "../src/index.ts";
import { diffingScatter } from "../src/runs/diffing-scatter.ts";
import { discoverRuns } from "../src/runs/discover.ts";
import { featurePage } from "../src/runs/feature-page.ts";
import { diffingFixtureRun } from "./fixture/diffing-run.ts";

let runDir: string;
let work: string;
let webDir: string;

beforeAll(async () => {
  runDir = await diffingFixtureRun();
  work = mkdtempSync(join(tmpdir(), "difflens-export-"));
  webDir = join(work, "web"); // a stand-in for dist/web: the export copies whatever the build holds
  mkdirSync(webDir);
  writeFileSync(join(webDir, "dashboard.js"), "/* client */\n");
  writeFileSync(join(webDir, "dashboard.css"), "/* styles */\n");
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What `data/<key>.js` assigns, evaluated as the browser would. */
function readData(out: string, route: RouteName, query: Record<string, string | number>): unknown {
  const key = staticDataKey(route, query);
  const window: Record<string, Record<string, unknown>> = {};
  runInNewContext(readFileSync(join(out, "data", `${key}.js`), "utf8"), { window });
  return window[STATIC_GLOBAL]![key];
}

describe("exportStatic", () => {
  it("writes every page's data, the figure files, the web build and a static index.html", async () => {
    const out = join(work, "out");
    const written = await exportStatic(runDir, out, { webDir });
    expect(written.files).toBe(countFiles(out));

    const html = readFileSync(join(out, "index.html"), "utf8");
    expect(html).toContain('window.__DIFFLENS_MODE__ = "static"');
    expect(readFileSync(join(out, "assets", "dashboard.js"), "utf8")).toBe("/* client */\n");

    const list = readData(out, "runs", {}) as { runs: { id: string }[]; live: boolean };
    expect(list.runs.map((run) => run.id)).toEqual(["."]);
    expect(list.live).toBe(false);

    const [run] = await discoverRuns(runDir);
    const page = readData(out, "run", { run: "." }) as { figures: { file: string; png: string | null }[] };
    for (const figure of page.figures) {
      if (figure.png) expect(existsSync(join(out, "files", figure.png))).toBe(true);
    }
    for (const space of ["decoder", "encoder"] as const) {
      expect(readData(out, "scatter", { run: ".", space })).toEqual(await diffingScatter(run!, space));
    }
    const { points } = await diffingScatter(run!, "decoder");
    for (const stage of STAGES) {
      for (const { latent } of points) expect(existsSync(dataFile(out, stage, latent))).toBe(true);
    }
    expect(readData(out, "feature", { run: ".", stage: "MF", latent: 3 })).toEqual(await featurePage(run!, "MF", 3));
  });

  it("caps the feature pages per run, with a note on the run page", async () => {
    const out = join(work, "capped");
    await exportStatic(runDir, out, { webDir, maxFeatureLatents: 2 });
    const features = readdirSync(join(out, "data")).filter((name) => name.startsWith("feature__"));
    expect(features.length).toBe(2 * STAGES.length);
    const page = readData(out, "run", { run: "." }) as { errors: { file: string; message: string }[] };
    expect(page.errors.map((error) => error.message).join(" ")).toMatch(/top 2 of \d+ latents/);
  });

  it("refuses an output inside the served folder, or one that exists, and leaves nothing behind", async () => {
    await expect(exportStatic(runDir, join(runDir, "export"), { webDir })).rejects.toThrow(/lies inside the input/);
    expect(existsSync(join(runDir, "export"))).toBe(false);
    const out = join(work, "occupied");
    mkdirSync(out);
    writeFileSync(join(out, "keep.txt"), "mine");
    await expect(exportStatic(runDir, out, { webDir })).rejects.toThrow(/already exists/);
    expect(readdirSync(out)).toEqual(["keep.txt"]);
    expect(readdirSync(work).filter((name) => name.includes(".tmp-"))).toEqual([]);
  });
});

function dataFile(out: string, stage: string, latent: number): string {
  return join(out, "data", `${staticDataKey("feature", { run: ".", stage, latent })}.js`);
}

function countFiles(dir: string): number {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    count += entry.isDirectory() ? countFiles(join(dir, entry.name)) : 1;
  }
  return count;
}
