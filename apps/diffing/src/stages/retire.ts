/**
 * `--retrain STAGE…`: the named stages and every stage after them are moved aside (never deleted), and so are
 * compare/ and features/, which were computed from them: `stages/D` → `stages/D.retired-20250101T120000Z`.
 */
import * as path from "node:path";
import { retireFolder } from "@difflens/app-kit";
import type { DiffingConfig, StageName } from "../config/diffing-config.ts";
import { stageDir, withDescendants } from "./stage-plan.ts";

/** Moves the outputs aside and returns [from, to] pairs (relative to the run folder) of what was there. */
export function retireStages(
  config: DiffingConfig,
  stages: readonly StageName[],
  now: Date = new Date(),
): Array<[string, string]> {
  const folders = [
    ...withDescendants(stages).map((s) => stageDir(config, s)),
    path.join(config.runDir, "compare"),
    path.join(config.runDir, "features"),
  ];
  const moved: Array<[string, string]> = [];
  for (const folder of folders) {
    const aside = retireFolder(folder, now);
    if (aside !== null) moved.push([path.relative(config.runDir, folder), path.relative(config.runDir, aside)]);
  }
  return moved;
}
