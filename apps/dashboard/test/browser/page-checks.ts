// What the browser tests check on every page: axe-core's serious and critical violations, and screenshots at a
// desktop and a narrow (phone) size for a person to look at.
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";

/** apps/dashboard/test-output (gitignored): screenshots and the static export of the browser tests. */
export const TEST_OUTPUT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../test-output");

const AXE_SCRIPT = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  narrow: { width: 390, height: 844 },
} as const;

/**
 * The browser globals the in-page functions below and in the tests use: the root tsconfig has no DOM library (tests
 * run in Node), so a function passed to `page.evaluate` reaches them through `globalThis as InPage`.
 */
export interface InPage {
  document: {
    activeElement: { getAttribute(name: string): string | null } | null;
    elementFromPoint(x: number, y: number): unknown;
  };
  getComputedStyle(element: unknown, pseudo?: string): { backgroundColor: string; content: string };
  axe?: { run(context: unknown): Promise<AxeResults> };
}

/** axe-core's serious and critical violations on the page as it is now, one line each (rule, impact, targets). */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.addScriptTag({ path: AXE_SCRIPT });
  const violations = await page.evaluate(async () => {
    const inPage = globalThis as unknown as InPage;
    return (await inPage.axe!.run(inPage.document)).violations;
  });
  return violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((node) => node.target.join(" ")).join(", ")}`);
}

interface AxeResults {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}

/** `<name>-desktop.png` and `<name>-narrow.png` (full page) under test-output/screenshots; the viewport is restored. */
export async function screenshots(page: Page, name: string): Promise<void> {
  const dir = join(TEST_OUTPUT, "screenshots");
  const before = page.viewportSize() ?? VIEWPORTS.desktop;
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(50); // a re-layout (vega resizes on a window resize)
    await page.screenshot({ path: join(dir, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(before);
}
