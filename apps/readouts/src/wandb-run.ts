/** The app's W&B run of one command: offline by default, in `<runDir>/wandb` (`pnpm difflens-wandb sync` uploads it). */
import * as path from "node:path";
import { type WandbRun, init as wandbInit } from "@difflens/wandb";
import type { WandbConfig } from "./sae-conditions/config-sections.ts";

/** Opens the run (not for mode "disabled"); a missing API key under "online" falls back to offline, said on `log`. */
export function openWandbRun(
  wandb: WandbConfig,
  runDir: string,
  run: { readonly name: string; readonly jobType: string; readonly config: Record<string, unknown> },
  log: (line: string) => void,
): WandbRun {
  return wandbInit(
    {
      project: wandb.project,
      entity: wandb.entity,
      mode: wandb.mode,
      dir: path.join(runDir, "wandb"),
      ...run,
      onMissingApiKey: "offline",
      silent: true,
    },
    (m) => log(`wandb: ${m}`),
  );
}
