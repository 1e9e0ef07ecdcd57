/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core, one browser for the whole file, the
 * real server on port 0 over a folder holding the diffing fixture run, a copy of it with a truncated features.json and
 * a missing stage, and a real attention-marker readouts run; then the static export of the same folder from disk.
 * Screenshots of every page, desktop and narrow, go to apps/dashboard/test-output/screenshots/ (gitignored).
 * Without chromium the whole file skips and says why.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportStatic } from "../../src/export/static-export.ts";
import { startDashboardServer } from "../../src/server/http-server.ts";
import { ensureWebBuild } from "../../src/server/web-build.ts";
import { diffingFixtureRun } from "../fixture/diffing-run.ts";
import { chromiumMissingReason, launchChromium } from "./launch-chromium.ts";
import { axeViolations, type InPage, screenshots, TEST_OUTPUT } from "./page-checks.ts";
import { attentionMarkerFixtureRun } from "./readouts-fixture.ts";

/** Pages load their data and draw their charts asynchronously; on a loaded 2-core machine that takes seconds. */
const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 20_000, interval: 100 });

const skipReason = chromiumMissingReason();
if (skipReason) console.warn(`dashboard browser tests SKIPPED: ${skipReason}`);

const DIFFING = "diffing";
const BROKEN = "broken";
const READOUTS = "readouts";

describe.skipIf(skipReason !== null)("the dashboard in chromium", () => {
  let browser: Browser;
  let server: { url: string; close(): Promise<void> };
  let page: Page;
  let root: string;
  let webDir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const [web, diffing, readouts, launched] = await Promise.all([
      ensureWebBuild(),
      diffingFixtureRun(),
      attentionMarkerFixtureRun(),
      launchChromium(),
    ]);
    webDir = web;
    browser = launched;
    root = servedRoot(diffing, readouts);
    server = await startDashboardServer({ root, port: 0, webDir });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on("pageerror", (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const open = async (hash: string) => {
    await page.goto(new URL(`#${hash}`, server.url).href);
  };

  it("lists every run", async () => {
    await open("/");
    await poll(() => page.locator("[data-testid=run-row]").count()).toBe(3);
    await screenshots(page, "run-list");
    expect(await axeViolations(page)).toEqual([]);
  });

  it("draws one scatter point per latent and opens a labelled latent's feature page on click", async () => {
    const scatter = await (
      await page.request.get(`${server.url}api/diffing/scatter?run=${DIFFING}&space=decoder`)
    ).json();
    await open(`/run/${DIFFING}`);
    const symbols = page.locator("[data-testid=scatter] .mark-symbol path");
    await poll(() => symbols.count()).toBe(scatter.dSae);
    expect(scatter.points.length).toBe(scatter.dSae);
    await screenshots(page, "diffing-run");
    expect(await axeViolations(page)).toEqual([]);

    // A labelled latent (stored contexts: a diamond with its number) whose symbol is on top where it is drawn, so a
    // real mouse click there reaches it; vega keeps each symbol's datum on its SVG element.
    const target = await symbols.evaluateAll((paths) => {
      const inPage = globalThis as unknown as InPage;
      for (const path of paths as unknown as VegaSymbol[]) {
        const datum = path.__data__?.datum;
        if (!datum?.hasContexts) continue;
        const box = path.getBoundingClientRect();
        const x = box.x + box.width / 2;
        const y = box.y + box.height / 2;
        if (inPage.document.elementFromPoint(x, y) === path) return { latent: datum.latent, x, y };
      }
      return null;
    });
    expect(target).not.toBeNull();
    await page.mouse.click(target!.x, target!.y);
    await page.waitForURL(`**#/run/${DIFFING}/feature/MF/${target!.latent}`);
    await page.locator("[data-testid=feature-page]").waitFor();
    const highlighted = () =>
      page.$$eval(
        "[data-testid=token]",
        (tokens) =>
          tokens.filter((token) => {
            const background = (globalThis as unknown as InPage).getComputedStyle(token).backgroundColor;
            return (
              Number(token.getAttribute("data-value")) > 0 &&
              background !== "rgba(0, 0, 0, 0)" &&
              background !== "transparent"
            );
          }).length,
      );
    await poll(highlighted).toBeGreaterThan(0);
    expect(await page.locator("[data-testid=contexts-base]").count()).toBe(1);
    expect(await page.locator("[data-testid=contexts-chat]").count()).toBe(1);
    await screenshots(page, "feature-page");
    expect(await axeViolations(page)).toEqual([]);
  });

  it("shows a focused token's value (not by colour alone)", async () => {
    const token = page.locator("[data-testid=token][tabindex='0']").first();
    await token.focus();
    const shown = await token.evaluate((element) => ({
      tip: element.getAttribute("data-tip"),
      label: element.getAttribute("aria-label"),
      after: (globalThis as unknown as InPage).getComputedStyle(element, "::after").content,
    }));
    expect(shown.tip).toMatch(/\d/);
    expect(shown.label).toContain(shown.tip);
    expect(shown.after).toBe(JSON.stringify(shown.tip));
  });

  it("runs the live box and links each token's latents to their feature pages", async () => {
    await open(`/run/${DIFFING}`);
    await page.locator("[data-testid=live-input]").fill("The cat sat on the mat.");
    await page.locator("[data-testid=live-run]").click();
    await poll(() => page.locator("[data-testid=live-token]").count()).toBeGreaterThan(3);
    expect(await page.locator("[data-testid=live-latent]").count()).toBeGreaterThan(0);
    await screenshots(page, "live");
    const href = await page.locator("[data-testid=live-latent]").first().getAttribute("href");
    expect(href).toMatch(new RegExp(`#/run/${DIFFING}/feature/[A-Z]+/\\d+$`));
  });

  it("reaches the latent links and the live controls with Tab", async () => {
    await open(`/run/${DIFFING}`);
    await page.locator("[data-testid=latent-link]").first().waitFor();
    const reached = new Set<string>();
    for (let press = 0; press < 80 && reached.size < 3; press++) {
      await page.keyboard.press("Tab");
      const testId = await page.evaluate(
        () => (globalThis as unknown as InPage).document.activeElement?.getAttribute("data-testid") ?? "",
      );
      if (["latent-link", "live-input", "live-run"].includes(testId)) reached.add(testId);
    }
    expect([...reached].sort()).toEqual(["latent-link", "live-input", "live-run"]);
  });

  it("refuses a path-traversal request from the page's origin", async () => {
    await open("/");
    const statuses = await page.evaluate(
      async (run) =>
        Promise.all(
          ["../../../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "/etc/passwd"].map(
            async (path) => (await fetch(`/api/file?run=${run}&path=${path}`)).status,
          ),
        ),
      DIFFING,
    );
    expect(statuses).toEqual([403, 403, 403]);
  });

  it("shows an error panel naming the broken files while the other pages work", async () => {
    await open(`/run/${BROKEN}`);
    // The run page names the missing stage, its scatter the truncated features.json (read for the labels).
    const panels = () => page.locator("[data-testid=error-panel]").allTextContents();
    await poll(async () => (await panels()).join("\n")).toContain("stages/DF/stage.json");
    await poll(async () => (await panels()).join("\n")).toContain("features/features.json");
    await screenshots(page, "broken-run");
    await open("/");
    await poll(() => page.locator("[data-testid=run-row]").count()).toBe(3);
  });

  it("renders the readouts run with its figures and marked generations", async () => {
    await open(`/run/${READOUTS}`);
    await poll(() => page.locator("mark").count()).toBeGreaterThan(0);
    await screenshots(page, "readouts-run");
    expect(await axeViolations(page)).toEqual([]);
  });

  it("opens the static export from disk without a server", async () => {
    const out = join(TEST_OUTPUT, "static-export");
    rmSync(out, { recursive: true, force: true });
    // A few feature pages per run keep this quick; test/export-static.test.ts checks a full export's files.
    await exportStatic(root, out, { webDir, maxFeatureLatents: 3 });
    const scatter = await (
      await page.request.get(`${server.url}api/diffing/scatter?run=${DIFFING}&space=decoder`)
    ).json();
    const top = scatter.points.find((point: { rank: number }) => point.rank === 1).latent;
    await server.close(); // nothing may come from the server now
    const index = pathToFileURL(join(out, "index.html")).href;
    await page.goto(`${index}#/`);
    await poll(() => page.locator("[data-testid=run-row]").count()).toBe(3);
    await screenshots(page, "static-run-list");
    await page.goto(`${index}#/run/${DIFFING}/feature/MF/${top}`);
    await page.locator("[data-testid=feature-page]").waitFor();
    // The page's heading renders before its data script has loaded: wait for the contexts, do not sample once.
    await poll(() => page.locator("[data-testid=token]").count()).toBeGreaterThan(0);
    await screenshots(page, "static-feature-page");
    // The generations pager asks for the pages the export wrote.
    await page.goto(`${index}#/run/${READOUTS}`);
    await poll(() => page.getByText(/^1–20 of \d+$/).count()).toBe(1);
    await page.getByRole("button", { name: "Next" }).click();
    await poll(() => page.getByText(/^21–\d+ of \d+$/).count()).toBe(1);
  });

  it("raised no uncaught error in any page", () => {
    expect(pageErrors).toEqual([]);
  });
});

/** What vega's SVG renderer leaves on a symbol's element: the scene item, whose datum is the scatter point. */
interface VegaSymbol {
  __data__?: { datum?: { latent: number; hasContexts: boolean } };
  getBoundingClientRect(): { x: number; y: number; width: number; height: number };
}

/**
 * A temp folder with the three runs the pages are checked on: copies, since the served folder must not be the shared
 * cache. It sits at the fixture's own depth under runs/.cache, so the run.json's relative paths (the toy models the
 * live box loads) resolve from the copies as from the original.
 */
function servedRoot(diffing: string, readouts: string): string {
  const parent = join(diffing, "..", "..", "..", "dashboard-browser");
  mkdirSync(parent, { recursive: true });
  const root = mkdtempSync(join(parent, "served-"));
  cpSync(diffing, join(root, DIFFING), { recursive: true });
  cpSync(readouts, join(root, READOUTS), { recursive: true });
  const broken = join(root, BROKEN);
  cpSync(diffing, broken, { recursive: true });
  const features = join(broken, "features", "features.json");
  truncateSync(features, Math.floor(statSync(features).size / 2));
  rmSync(join(broken, "stages", "DF"), { recursive: true, force: true });
  mkdirSync(TEST_OUTPUT, { recursive: true });
  return root;
}
