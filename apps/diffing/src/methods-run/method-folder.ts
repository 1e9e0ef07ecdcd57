/**
 * Rerun safety of a methods run: each unit of work (the store, a method) writes its folders under a temp parent
 * beside them, records `method.json` { hash, wallS, finishedAt } in each, and swaps them in when complete. A
 * finished unit whose recorded hash equals the current one is reused; any other is redone (a crash mid-write leaves
 * the old folders whole, plus a `.tmp-*` folder to delete).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fingerprintDigest } from "@difflens/app-kit";
import { writeJsonAtomic } from "@difflens/common";

export const METHOD_RECORD = "method.json";

export interface MethodRecord {
  readonly hash: string;
  readonly wallS: number;
  /** Seconds of the unit's parts, when it has several (adl and diffSae). */
  readonly timings?: Readonly<Record<string, number>>;
  readonly finishedAt: string;
}

/** The unit's hash: sha256 of the canonical JSON of everything that determines its result. */
export function unitHash(inputs: unknown): string {
  return fingerprintDigest(inputs);
}

/** The record of a finished folder with this hash, or null (absent, unfinished or made from other inputs). */
export function finishedRecord(dir: string, hash: string): MethodRecord | null {
  const file = path.join(dir, METHOD_RECORD);
  if (!fs.existsSync(file)) return null;
  try {
    const rec = JSON.parse(fs.readFileSync(file, "utf8")) as MethodRecord;
    return rec.hash === hash ? rec : null;
  } catch {
    return null;
  }
}

/**
 * Runs `write(tempParent)` — which must fill `tempParent/<folder>` for every name in `folders` — unless every
 * `<outDir>/<folder>` is already finished with `hash`. Returns whether it was reused and the unit's record (wall
 * seconds of the run that made it).
 */
export async function runUnit(
  outDir: string,
  folders: readonly string[],
  hash: string,
  // biome-ignore lint/suspicious/noConfusingVoidType: most units have no parts to time
  write: (tempParent: string) => Promise<Record<string, number> | void>,
): Promise<{ reused: boolean; record: MethodRecord }> {
  const records = folders.map((f) => finishedRecord(path.join(outDir, f), hash));
  if (records.every((r) => r !== null)) return { reused: true, record: records[0]! };
  fs.mkdirSync(outDir, { recursive: true });
  const temp = fs.mkdtempSync(path.join(outDir, `.tmp-${folders[0]}-`));
  try {
    const t0 = performance.now();
    const timings = await write(temp);
    const record: MethodRecord = {
      hash,
      wallS: (performance.now() - t0) / 1000,
      ...(timings ? { timings } : {}),
      finishedAt: new Date().toISOString(),
    };
    for (const f of folders) {
      const done = path.join(temp, f);
      if (!fs.existsSync(done))
        throw new Error(`methods run: the unit that writes ${folders.join(", ")} left no ${f}/`);
      writeJsonAtomic(path.join(done, METHOD_RECORD), record);
    }
    for (const f of folders) swapIn(path.join(temp, f), path.join(outDir, f));
    return { reused: false, record };
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

/** Replaces `dest` by `done`: the old folder is renamed aside first and removed once the new one is in. */
function swapIn(done: string, dest: string): void {
  if (!fs.existsSync(dest)) {
    fs.renameSync(done, dest);
    return;
  }
  const old = `${path.join(path.dirname(dest), `.${path.basename(dest)}`)}.old-${process.pid}-${Date.now()}`;
  fs.renameSync(dest, old);
  fs.renameSync(done, dest);
  fs.rmSync(old, { recursive: true, force: true });
}
