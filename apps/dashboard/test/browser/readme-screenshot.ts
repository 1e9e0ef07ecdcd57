/**
 * docs/dashboard.png, the README's screenshot: the demo's top-ranked latent's feature page, served by the real server.
 * Run after `pnpm demo`:  pnpm --filter dashboard tsx test/browser/readme-screenshot.ts [runs/diffing/demo]
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startDashboardServer } from "../../src/server/http-server.ts";
import { ensureWebBuild } from "../../src/server/web-build.ts";
import { launchChromium } from "./launch-chromium.ts";

const REPO = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../../..");
const root = resolve(REPO, process.argv[2] ?? "runs/diffing/demo");
const webDir = await ensureWebBuild();
const server = await startDashboardServer({ root, port: 0, webDir, live: false });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
  const runs = await (await page.request.get(`${server.url}api/runs`)).json();
  const run = runs.runs.find((r: { kind: string }) => r.kind === "diffing").id as string;
  const scatterUrl = `${server.url}api/diffing/scatter?run=${encodeURIComponent(run)}&space=decoder`;
  const scatter = await (await page.request.get(scatterUrl)).json();
  const top = scatter.points.find((point: { rank: number }) => point.rank === 1).latent;
  await page.goto(`${server.url}#/run/${encodeURIComponent(run)}/feature/MF/${top}`);
  await page.locator("[data-testid=token]").first().waitFor();
  await page.locator("[data-testid=feature-page] svg").first().waitFor(); // the density histogram
  const out = resolve(REPO, "docs/dashboard.png");
  await page.screenshot({ path: out });
  console.log(`wrote ${out} (run ${run}, latent ${top})`);
} finally {
  await browser.close();
  await server.close();
}
