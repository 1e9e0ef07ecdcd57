#!/usr/bin/env node
/**
 * `pnpm --filter dashboard build` (and `turbo run build`): the web client through `ensureWebBuild`, so a build made
 * here carries the same source stamp, lock and atomic swap as the one `pnpm dashboard` makes — a plain `vite build`
 * would empty dist/web under a server (or a browser test) reading it, and leave no stamp behind.
 */
import { isMainModule } from "@difflens/common";
import { ensureWebBuild } from "../server/web-build.ts";

if (isMainModule(import.meta.url)) {
  const dir = await ensureWebBuild({ log: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`dashboard: web client up to date in ${dir}\n`);
}
