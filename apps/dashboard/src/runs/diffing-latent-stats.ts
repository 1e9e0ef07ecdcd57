/**
 * Reads features/latent-stats-<stage>.safetensors (written by `diffing features`; layout in
 * apps/diffing/src/features/latent-stats-file.ts): the header is parsed and checked, then only the bytes of the
 * rows asked for are read (one latent's logits and histogram, or the [dSae] firing counts for the run page).
 * Every failure is a DashboardError naming the file (relative to the run folder) and the tensor.
 */
import * as fs from "node:fs";
import { openSafetensorsSync, type SafetensorsTensorInfo } from "@difflens/tensor";
import { LATENT_STATS_FORMAT, latentStatsFileName } from "diffing";
import type { StageName } from "../api/diffing-types.ts";
import { DashboardError } from "../errors.ts";
import type { DiscoveredRun } from "./discovered-run.ts";
import { resolveRunPath } from "./read-run-file.ts";

/** The stage's file, relative to the run folder. */
export function latentStatsFile(stage: StageName): string {
  return `features/${latentStatsFileName(stage)}`;
}

/** The tensors of the file: [rows, columns] with their dtype. */
const TENSORS = {
  firing_count: "I32",
  max_activation: "F32",
  density_hist: "I32",
  logits_pos_ids: "I32",
  logits_pos_values: "F32",
  logits_neg_ids: "I32",
  logits_neg_values: "F32",
} as const;
type TensorName = keyof typeof TENSORS;

export interface LatentStatsHeader {
  readonly file: string;
  readonly dSae: number;
  readonly tokens: number;
  readonly bins: number;
  readonly model: "base" | "chat";
  readonly unembedding: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** One latent's row of every tensor. */
export interface LatentStatsRow {
  readonly firing: number;
  readonly maxActivation: number;
  readonly histogram: number[];
  readonly positive: { id: number; value: number }[];
  readonly negative: { id: number; value: number }[];
}

export class LatentStatsReader {
  private constructor(
    readonly header: LatentStatsHeader,
    private readonly absPath: string,
    private readonly infos: ReadonlyMap<string, SafetensorsTensorInfo>,
  ) {}

  static async open(run: DiscoveredRun, stage: StageName): Promise<LatentStatsReader> {
    const file = latentStatsFile(stage);
    const abs = await resolveRunPath(run, file);
    let st: ReturnType<typeof openSafetensorsSync>;
    try {
      st = openSafetensorsSync(abs, { mmap: false });
    } catch (error) {
      throw new DashboardError("RUN_FILE_INVALID", `${file}: ${(error as Error).message}`, { file }, { cause: error });
    }
    const { metadata, tensors } = st.header;
    st.close();
    if (metadata.format !== LATENT_STATS_FORMAT)
      throw invalid(file, "__metadata__.format", `"${LATENT_STATS_FORMAT}"`, metadata.format);
    const dSae = Number(metadata.dSae);
    const bins = Number(metadata.bins);
    for (const [name, dtype] of Object.entries(TENSORS)) {
      const info = tensors.get(name);
      if (!info) throw invalid(file, name, `a ${dtype} tensor`, "absent");
      if (info.formatDtype !== dtype || info.shape[0] !== dSae)
        throw invalid(file, name, `${dtype} [${dSae}, …]`, `${info.formatDtype} [${info.shape.join(", ")}]`);
    }
    const model = metadata.model === "chat" ? "chat" : "base";
    const header = {
      file,
      dSae,
      bins,
      tokens: Number(metadata.tokens),
      model,
      unembedding: metadata.unembedding ?? `${model} model`,
      metadata,
    } as const;
    return new LatentStatsReader(header, abs, tensors);
  }

  /** Every latent's firing count ([dSae]). */
  firingCounts(): Int32Array {
    return new Int32Array(this.readRows("firing_count", 0, this.header.dSae));
  }

  row(latent: number): LatentStatsRow {
    if (!Number.isInteger(latent) || latent < 0 || latent >= this.header.dSae)
      throw new DashboardError(
        "NOT_FOUND",
        `latent ${latent} is not in ${this.header.file} (dSae ${this.header.dSae})`,
        {
          file: this.header.file,
          field: "latent",
        },
      );
    const ints = (name: TensorName) => Array.from(new Int32Array(this.readRows(name, latent, 1)));
    const floats = (name: TensorName) => Array.from(new Float32Array(this.readRows(name, latent, 1)));
    const pair = (ids: number[], values: number[]) => ids.map((id, i) => ({ id, value: values[i]! }));
    return {
      firing: ints("firing_count")[0]!,
      maxActivation: floats("max_activation")[0]!,
      histogram: ints("density_hist"),
      positive: pair(ints("logits_pos_ids"), floats("logits_pos_values")),
      negative: pair(ints("logits_neg_ids"), floats("logits_neg_values")),
    };
  }

  /** The bytes of rows [from, from + count) of one tensor (all 4-byte dtypes), with one positional read. */
  private readRows(name: TensorName, from: number, count: number): ArrayBuffer {
    const info = this.infos.get(name)!;
    const rowBytes = info.byteLength / info.shape[0]!;
    const out = new Uint8Array(rowBytes * count);
    const fd = fs.openSync(this.absPath, "r");
    try {
      const got = fs.readSync(fd, out, 0, out.length, info.byteOffset + from * rowBytes);
      if (got !== out.length) throw invalid(this.header.file, name, `${out.length} bytes`, `${got} (truncated?)`);
    } finally {
      fs.closeSync(fd);
    }
    return out.buffer;
  }
}

function invalid(file: string, field: string, expected: string, got: unknown): DashboardError {
  return new DashboardError("RUN_FILE_INVALID", `${file}: ${field} — expected ${expected}, got ${String(got)}`, {
    file,
    field,
    expected,
  });
}
