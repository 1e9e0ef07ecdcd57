/**
 * The pipeline's `run.json` (app-kit's run record): the resolved config, versions, git commit, seed, and one event
 * per command run in the folder; paths inside are relative to the run folder.
 */
import { type RunEvent, recordRun } from "@difflens/app-kit";

export function recordDiffingRun(runDir: string, config: object, seed: number, event: RunEvent): void {
  recordRun(runDir, { format: "difflens-diffing-run", app: import.meta.url, config, seed }, event);
}
