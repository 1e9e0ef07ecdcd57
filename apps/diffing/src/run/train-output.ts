/**
 * The output folder of `train` / `finetune`: a new run goes into an empty or new folder; `--resume` continues the
 * run there only when it was started under the same fingerprint (model and data bytes, settings, seed, parent);
 * `--force` trains beside the old folder and swaps the new one in when it is complete. Anything else is refused
 * before a model loads.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  diffFingerprints,
  fingerprintDigest,
  folderFingerprint,
  formatFieldChanges,
  isNonEmptyFolder,
  refuseExistingOutput,
  startOutputFolder,
} from "@difflens/app-kit";
import { writeJsonAtomic } from "@difflens/common";
import type { TrainConfig } from "../config/train-config.ts";
import { DiffingError } from "../errors.ts";
import {
  chatDataFingerprint,
  harvestFingerprint,
  maskFingerprint,
  modelRefFingerprint,
  saeFingerprint,
  textDataFingerprint,
} from "./fingerprint-sections.ts";

const FINGERPRINT_FILE = "fingerprint.json";

/** Everything that determines the SAE a `train` / `finetune` run ends with (`from`: the parent folder). */
export function trainFingerprint(config: TrainConfig, from: string | null): Record<string, unknown> {
  return {
    model: modelRefFingerprint(config.model),
    hook: config.hook,
    data: config.textData ? textDataFingerprint(config.textData) : chatDataFingerprint(config.chatData!),
    mask: maskFingerprint(config.mask),
    sae: saeFingerprint(config.sae, from !== null),
    tokens: config.tokens,
    harvest: harvestFingerprint(config.harvest),
    parent: from === null ? null : folderFingerprint(from),
  };
}

export interface TrainOutput {
  /** Where the run writes: the output folder, or a temp folder beside it (--force). */
  readonly dir: string;
  /** Call when the run is complete: swaps a --force run in. */
  commit(): void;
  /** Call when the run failed: removes a --force run's temp folder. */
  discard(): void;
}

export function openTrainOutput(
  outDir: string,
  options: {
    readonly command: string;
    readonly resume: boolean;
    readonly force: boolean;
    readonly fingerprint: Record<string, unknown>;
  },
  log: (line: string) => void,
): TrainOutput {
  const fingerprint = { digest: fingerprintDigest(options.fingerprint), fields: options.fingerprint };
  const inPlace: TrainOutput = { dir: outDir, commit: () => {}, discard: () => {} };
  if (options.resume && fs.existsSync(path.join(outDir, "latest.json"))) {
    const file = path.join(outDir, FINGERPRINT_FILE);
    if (!fs.existsSync(file)) {
      log(
        `warning: ${outDir} has no ${FINGERPRINT_FILE} (started before difflens recorded them): ` +
          "resuming without checking that the config is the same",
      );
      writeJsonAtomic(file, fingerprint);
      return inPlace;
    }
    const started = JSON.parse(fs.readFileSync(file, "utf8")) as { digest: string; fields: unknown };
    if (started.digest !== fingerprint.digest) {
      const changes = diffFingerprints(started.fields, fingerprint.fields);
      const first = changes[0];
      const what = `${outDir} was started under another config; resuming would mix two configs`;
      throw new DiffingError("FINGERPRINT_MISMATCH", `${what}: ${formatFieldChanges(changes)}`, {
        file,
        ...(first ? { field: first.field, expected: first.current, got: first.recorded } : {}),
        fix:
          "resume with the config (and --from) it was started with, or start a new run: another --out, " +
          "or --force to replace this one when the new run completes",
      });
    }
    return inPlace;
  }
  refuseExistingOutput(outDir, {
    force: options.force,
    what: `${options.command} --out`,
    alternatives: "pass --resume to continue it, or choose another --out",
  });
  if (!isNonEmptyFolder(outDir)) {
    writeJsonAtomic(path.join(outDir, FINGERPRINT_FILE), fingerprint);
    return inPlace;
  }
  log(`--force: training beside ${outDir}; it is replaced when the new run completes`);
  const pending = startOutputFolder(outDir, { force: true });
  writeJsonAtomic(path.join(pending.dir, FINGERPRINT_FILE), fingerprint);
  return pending;
}
