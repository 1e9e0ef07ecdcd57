/**
 * report.json: every number the methods page shows, computed from the run folder alone (the page and the figures are
 * drawn from this object, never from the folder directly). NaN is written as null.
 */
import * as path from "node:path";
import { cosine } from "../compare/leading-direction.ts";
import { type CrosscoderReport, crosscoderReport } from "./crosscoder-section.ts";
import { type JsonObject, num, objects } from "./json-fields.ts";
import { ABSENT_MAX, FOUND_MIN, type MethodPlantRow, plantCosines, plantTable } from "./known-answer.ts";
import { METHOD_KEYS, METHOD_TITLES, type MethodKey, type MethodsRun } from "./run-folder.ts";

export const METHODS_REPORT_FORMAT = "difflens-methods-report";

export interface LatentTable {
  /** Column names of `rows` (numbers, in the order first seen; "latent" first). */
  readonly columns: string[];
  readonly rows: Record<string, number | string | null>[];
  /** |cos| of each row's direction to each plant (toy runs; [] otherwise). */
  readonly plantAbsCos: Record<string, number>[];
}

export interface MethodsReport {
  readonly format: typeof METHODS_REPORT_FORMAT;
  readonly version: 1;
  readonly runDir: string;
  readonly base: string;
  readonly chat: string;
  readonly hook: string;
  readonly dIn: number;
  readonly store: {
    readonly rows: number | null;
    readonly shards: number | null;
    readonly dataset: string | null;
  } | null;
  readonly timings: Readonly<Record<string, number>>;
  /** Per method key: its folder (relative to the run) or "not run". */
  readonly methods: Record<MethodKey, { readonly title: string; readonly folder: string | null }>;
  readonly knownAnswer: {
    readonly variant: string;
    readonly plants: string[];
    readonly foundMin: number;
    readonly absentMax: number;
    readonly methods: MethodPlantRow[];
  } | null;
  /** top-latents.json's description fields (stages, ranking, leadingChange, …) beside the latent table. */
  readonly stagewise: ({ readonly about: JsonObject } & LatentTable) | null;
  readonly crosscoders: { readonly batchtopk: CrosscoderReport | null; readonly l1: CrosscoderReport | null };
  readonly diffSae:
    | ({ readonly sae: unknown; readonly bias: unknown; readonly rankedBy: unknown } & LatentTable)
    | null;
  readonly adl: JsonObject | null;
  /** Signed cosines between every headline direction (and the plants, last, on a toy). */
  readonly cosines: { readonly labels: string[]; readonly matrix: number[][] };
}

export async function buildMethodsReport(run: MethodsRun): Promise<MethodsReport> {
  const toy = run.toy ? { variant: run.toy.variant, plants: run.plants } : null;
  const latentTable = (rows: JsonObject[], directions: Float32Array, file: string): LatentTable => {
    const columns = ["latent"];
    for (const r of rows)
      for (const [k, v] of Object.entries(r))
        if ((typeof v === "number" || v === null) && !columns.includes(k)) columns.push(k);
    return {
      columns,
      rows: rows.map((r, i) =>
        Object.fromEntries(columns.map((c) => [c, c in r ? num(r, c, file, `latents[${i}].`) : null])),
      ),
      plantAbsCos: plantCosines(run.plants, directions, rows.length),
    };
  };
  const methods = Object.fromEntries(
    METHOD_KEYS.map((k) => {
      const dir = run.methodDirs[k];
      return [k, { title: METHOD_TITLES[k], folder: dir === undefined ? null : path.relative(run.dir, dir) }];
    }),
  ) as MethodsReport["methods"];
  const storeManifest = run.store?.manifest;
  const diffSaeFile = run.diffSae ? path.join(run.diffSae.dir, "top-latents.json") : "";
  const report: MethodsReport = {
    format: METHODS_REPORT_FORMAT,
    version: 1,
    runDir: run.dir,
    base: run.base,
    chat: run.chat,
    hook: run.hook,
    dIn: run.dIn,
    store: storeManifest
      ? {
          rows: typeof storeManifest.tokenCount === "number" ? storeManifest.tokenCount : null,
          shards: Array.isArray(storeManifest.shards) ? storeManifest.shards.length : null,
          dataset: typeof storeManifest.dataset === "string" ? storeManifest.dataset : null,
        }
      : null,
    timings: run.timings,
    methods,
    knownAnswer: run.toy
      ? {
          variant: run.toy.variant,
          plants: [...run.plants.keys()],
          foundMin: FOUND_MIN,
          absentMax: ABSENT_MAX,
          methods: plantTable(run.toy.variant, run.plants, run.directions),
        }
      : null,
    stagewise: run.stagewise
      ? {
          about: Object.fromEntries(Object.entries(run.stagewise.file).filter(([k]) => k !== "latents")),
          ...latentTable(
            run.stagewise.rows,
            run.stagewise.directions,
            path.join(run.methodDirs.stagewise!, "top-latents.json"),
          ),
        }
      : null,
    crosscoders: {
      batchtopk: run.crosscoders.batchtopk
        ? await crosscoderReport("batchtopk", run.crosscoders.batchtopk, run.dir, toy)
        : null,
      l1: run.crosscoders.l1 ? await crosscoderReport("l1", run.crosscoders.l1, run.dir, toy) : null,
    },
    diffSae: run.diffSae
      ? {
          sae: run.diffSae.file.sae ?? null,
          bias: run.diffSae.file.bias ?? null,
          rankedBy: run.diffSae.file.rankedBy ?? null,
          ...latentTable(run.diffSae.rows, run.diffSae.directions, diffSaeFile),
        }
      : null,
    adl: run.adl ? adlReport(run) : null,
    cosines: cosineMatrix(run),
  };
  return report;
}

/** adl.json as written, its buckets checked, with the steering files as paths relative to the run. */
function adlReport(run: MethodsRun): JsonObject {
  const { file: adl, dir } = run.adl!;
  const file = path.join(dir, "adl.json");
  objects(adl, "buckets", file).forEach((b, i) => {
    num(b, "rows", file, `buckets[${i}].`);
    num(b, "norm", file, `buckets[${i}].`);
  });
  const vectors = Array.isArray(adl.steeringVectors) ? adl.steeringVectors.map(String) : [];
  return {
    ...adl,
    folder: path.relative(run.dir, dir),
    steeringFiles: vectors.map((v) => path.relative(run.dir, path.join(dir, v))),
  };
}

function cosineMatrix(run: MethodsRun): MethodsReport["cosines"] {
  const entries: [string, Float32Array][] = [
    ...run.directions.map((d): [string, Float32Array] => [d.name, d.vector]),
    ...[...run.plants].map(([name, v]): [string, Float32Array] => [`plant/${name}`, v]),
  ];
  return {
    labels: entries.map(([n]) => n),
    matrix: entries.map(([, a]) => entries.map(([, b]) => cosine(a, b))),
  };
}

/** JSON text of the report: NaN and ±Infinity as null, numbers rounded to 6 significant digits. */
export function reportJson(report: MethodsReport): string {
  return `${JSON.stringify(
    report,
    (_k, v) => (typeof v === "number" ? (Number.isFinite(v) ? Number(v.toPrecision(6)) : null) : v),
    2,
  )}\n`;
}
