/**
 * Stage 2's records of one (persona, run seed, model): `<base>.safetensors` holds one f32 tensor per stratum ×
 * segmentation, `marker.A` … `c4.B`, each [examples, layers, heads, groups] (NaN rows where the stratum is null);
 * `<base>.jsonl` holds one line per example, in the same order: persona, runSeed, trial, questionIndex, model,
 * positions, partitionError, fedTokens. The metadata holds the layers, the head count and the model's vocabulary
 * fingerprint. Both are written atomically, the JSONL first; the safetensors metadata
 * carries the JSONL's sha256, so a pair torn by an interrupted run is refused when read rather than misread.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "@difflens/common";
import { readSafetensors, Tensor, writeSafetensors } from "@difflens/tensor";
import { ReadoutsError } from "../errors.ts";
import type { PersonaSeedReadouts } from "./analysis-types.ts";
import type { AttentionReadout } from "./attention-readout.ts";
import { REGION_GROUPS, STRATA, type Stratum } from "./records.ts";
import type { VocabularyFingerprint } from "./vocabulary-check.ts";

/** What a records pair holds: the layers read (the order of the layer axis), the head count, the examples. */
export interface ReadoutRecords {
  readonly layers: readonly number[];
  readonly heads: number;
  readonly readouts: readonly AttentionReadout[];
  /** The vocabulary of the model read (what the force-feed checks its comparator against). */
  readonly vocabulary: VocabularyFingerprint | null;
}

const FORMAT = "difflens/attention-marker-readouts@1";
const SEGMENTATIONS = ["A", "B"] as const;

/** `readouts/<persona>/seed-<S>/<name>` in the run folder (name: trained, trained-negatives, comparator). */
export function readoutsBase(runDir: string, persona: string, runSeed: number, name: string): string {
  return path.join(runDir, "readouts", persona, `seed-${runSeed}`, name);
}

export async function writeReadouts(base: string, records: ReadoutRecords): Promise<void> {
  const file = stripExtension(base);
  const { layers, heads, readouts } = records;
  const size = layers.length * heads * REGION_GROUPS.length;
  const tensors = new Map<string, Tensor>();
  for (const stratum of STRATA) {
    for (const seg of SEGMENTATIONS) {
      const data = new Float32Array(readouts.length * size);
      readouts.forEach((r, e) => {
        const values = r.fractions[stratum][seg];
        if (values.length !== size) {
          throw new ReadoutsError("INPUT_INVALID", `readout ${e} has ${values.length} ${stratum}.${seg} fractions`, {
            field: `fractions.${stratum}.${seg}`,
            expected: `${layers.length} layers × ${heads} heads × ${REGION_GROUPS.length} groups = ${size}`,
            got: values.length,
          });
        }
        data.set(values, e * size);
      });
      tensors.set(
        `${stratum}.${seg}`,
        new Tensor("f32", [readouts.length, layers.length, heads, REGION_GROUPS.length], data),
      );
    }
  }
  const lines = readouts.map(({ fractions: _f, ...meta }) => `${JSON.stringify(meta)}\n`).join("");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(`${file}.jsonl`, lines);
  await writeSafetensors(`${file}.safetensors`, tensors, {
    format: FORMAT,
    layers: JSON.stringify(layers),
    heads: String(heads),
    groups: JSON.stringify(REGION_GROUPS),
    jsonlSha256: sha256(lines),
    vocabulary: JSON.stringify(records.vocabulary),
  });
}

export async function readReadouts(base: string): Promise<ReadoutRecords> {
  const file = stripExtension(base);
  const jsonlFile = `${file}.jsonl`;
  const tensorFile = `${file}.safetensors`;
  for (const f of [jsonlFile, tensorFile]) {
    if (!fs.existsSync(f)) {
      throw new ReadoutsError("INPUT_INVALID", `stage-2 records ${f} not found`, {
        file: f,
        fix: "run the readout stage (attention-marker --stages readout) first",
      });
    }
  }
  const text = fs.readFileSync(jsonlFile, "utf8");
  const { tensors, metadata } = await readSafetensors(tensorFile);
  if (metadata.format !== FORMAT || metadata.jsonlSha256 !== sha256(text)) {
    throw new ReadoutsError("INPUT_INVALID", `${tensorFile} and ${jsonlFile} are not one complete pair of readouts`, {
      file: tensorFile,
      expected: `format ${FORMAT} and the JSONL's sha256 in its metadata`,
      got: `format ${metadata.format}, jsonlSha256 ${metadata.jsonlSha256}`,
      fix: "rerun the readout stage: an earlier run was interrupted between the two writes",
    });
  }
  const layers = JSON.parse(metadata.layers ?? "[]") as number[];
  const heads = Number(metadata.heads);
  const size = layers.length * heads * REGION_GROUPS.length;
  const metas = text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Omit<AttentionReadout, "fractions">);
  const arrays = Object.fromEntries(
    STRATA.flatMap((s) => SEGMENTATIONS.map((seg) => [`${s}.${seg}`, tensors[`${s}.${seg}`]!.data as Float32Array])),
  );
  const readouts = metas.map((meta, e): AttentionReadout => {
    const at = (s: Stratum, seg: "A" | "B") => arrays[`${s}.${seg}`]!.slice(e * size, (e + 1) * size);
    const fractions = Object.fromEntries(STRATA.map((s) => [s, { A: at(s, "A"), B: at(s, "B") }]));
    return { ...meta, fractions: fractions as AttentionReadout["fractions"] };
  });
  const vocabulary = JSON.parse(metadata.vocabulary ?? "null") as VocabularyFingerprint | null;
  return { layers, heads, readouts, vocabulary };
}

/**
 * Stage 3's input for one (persona, run seed), from the records stages 2 and the force-feed wrote: trained positives,
 * trained negatives (C4), and the comparator's when a force-feed ran (else null).
 */
export async function readPersonaSeedReadouts(
  runDir: string,
  persona: string,
  runSeed: number,
): Promise<PersonaSeedReadouts> {
  const base = (name: string) => readoutsBase(runDir, persona, runSeed, name);
  const positives = await readReadouts(base("trained"));
  const negatives = await readReadouts(base("trained-negatives"));
  const forceFed = fs.existsSync(`${base("comparator")}.safetensors`);
  return {
    persona,
    runSeed,
    layers: positives.layers,
    positives: positives.readouts,
    negatives: negatives.readouts,
    comparator: forceFed ? (await readReadouts(base("comparator"))).readouts : null,
  };
}

function stripExtension(file: string): string {
  return file.replace(/\.(safetensors|jsonl)$/, "");
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
