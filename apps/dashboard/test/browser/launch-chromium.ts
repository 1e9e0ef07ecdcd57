// One headless Debian chromium for a browser test file, driven by playwright-core (no browser download at install).
// Without /usr/bin/chromium the browser tests skip and say why: `.ci/run` installs it, a dev machine may not have it.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.DIFFLENS_CHROMIUM ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or null when they can. */
export function chromiumMissingReason(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  return `no chromium at ${CHROMIUM_PATH} (install Debian's \`chromium\`, as .ci/run does, or set DIFFLENS_CHROMIUM)`;
}

/**
 * Headless chromium, no sandbox (CI runs as root), nothing that reaches the network. Playwright gives every launch a
 * fresh temporary profile (`--user-data-dir` of its own, removed on close; it refuses one passed in `args`).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
