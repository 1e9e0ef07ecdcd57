// tmp: split tall PNGs into viewable chunks
import { writeFileSync } from "node:fs";
import { launchChromium } from "./browser/launch-chromium.ts";
const [file, out, chunk = "1000", x0 = "0", width = "0"] = process.argv.slice(2);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
writeFileSync("/tmp/crops/view.html", `<html><body style="margin:0"><img style="display:block" src="file://${file}"></body></html>`);
await page.goto("file:///tmp/crops/view.html");
await page.waitForLoadState("load");
const { w, h } = await page.evaluate(() => { const i = (globalThis as any).document.images[0]; return { w: i.naturalWidth, h: i.naturalHeight }; });
await page.setViewportSize({ width: w, height: 900 });
const step = Number(chunk);
const cw = Number(width) || w;
for (let y = 0, n = 0; y < h; y += step, n++) {
  await page.screenshot({ path: `${out}-${n}.png`, fullPage: true, clip: { x: Number(x0), y, width: cw, height: Math.min(step, h - y) } });
}
console.log(w, h);
await browser.close();
