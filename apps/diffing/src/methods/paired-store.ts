/**
 * A paired activation store: the same token rows through the base and the chat model at one hook, on disk once.
 *   <dir>/manifest.json              format "difflens-paired-activation-store", version, hook, dIn, base/chat model
 *                                    names, dataset, tokenCount, shards [{file, rows}], createdAt (written last:
 *                                    a folder without it is an unfinished harvest)
 *   <dir>/shard-NNNNN.safetensors    base F32 [rows, dIn], chat F32 [rows, dIn] — row r is the same token in both —
 *                                    and the shared record of where each row came from: window I32 [rows] (index of
 *                                    the token window in harvest order), position I32 [rows] (column in the window),
 *                                    assistant_offset I32 [rows] (position − start of the assistant turn's content;
 *                                    −1 before it or in a window without one)
 * The masks are shared by construction: one keep mask chose the rows of both models.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "@difflens/common";
import { type PairedActivationSource, type PairedBatch, SaeError } from "@difflens/sae";
import { type ActivationSource, openSafetensors, Rng, Tensor, writeSafetensors } from "@difflens/tensor";

export const PAIRED_STORE_FORMAT = "difflens-paired-activation-store";
export const PAIRED_STORE_VERSION = 1;

export interface PairedStoreProvenance {
  readonly hook: string;
  readonly dIn: number;
  /** Model names (folder, Hub id or toy recipe) of the two sides. */
  readonly base: string;
  readonly chat: string;
  /** What the token windows were (files, columns, context size). */
  readonly dataset: string;
}

export interface PairedStoreManifest extends PairedStoreProvenance {
  readonly format: typeof PAIRED_STORE_FORMAT;
  readonly version: number;
  readonly tokenCount: number;
  readonly shards: readonly { readonly file: string; readonly rows: number }[];
  readonly createdAt: string;
}

/** Where rows came from, one entry per row. */
export interface RowRecord {
  readonly window: Int32Array; // [rows]
  readonly position: Int32Array; // [rows]
  readonly assistantOffset: Int32Array; // [rows], −1 = not in the assistant turn
}

/** One shard read back: both models' rows and their shared record. */
export interface PairedRows extends RowRecord {
  readonly rows: number;
  readonly base: Float32Array; // [rows, dIn]
  readonly chat: Float32Array; // [rows, dIn]
}

/** Appends paired rows into shards of `shardRows`; `finish` writes the manifest. */
export class PairedStoreWriter {
  private readonly shards: { file: string; rows: number }[] = [];
  private pending: PairedRows[] = [];
  private pendingRows = 0;

  constructor(
    readonly dir: string,
    readonly provenance: PairedStoreProvenance,
    readonly shardRows = 65536,
  ) {
    if (existsSync(join(dir, "manifest.json")))
      throw new SaeError("CONFIG_INVALID", `${dir}: already holds a paired activation store; choose another folder`, {
        file: dir,
      });
    mkdirSync(dir, { recursive: true });
  }

  async append(rows: PairedRows): Promise<void> {
    const { dIn } = this.provenance;
    for (const [name, values] of [
      [this.provenance.base, rows.base],
      [this.provenance.chat, rows.chat],
    ] as const)
      if (values.length !== rows.rows * dIn)
        throw new SaeError(
          "SHAPE_MISMATCH",
          `${this.dir}: ${name} gave ${values.length} values for ${rows.rows} rows of dIn ${dIn}`,
          { expected: rows.rows * dIn, got: values.length },
        );
    this.pending.push(rows);
    this.pendingRows += rows.rows;
    if (this.pendingRows >= this.shardRows) await this.flush();
  }

  async finish(): Promise<PairedStoreManifest> {
    if (this.pendingRows > 0) await this.flush();
    const manifest: PairedStoreManifest = {
      format: PAIRED_STORE_FORMAT,
      version: PAIRED_STORE_VERSION,
      ...this.provenance,
      tokenCount: this.shards.reduce((n, s) => n + s.rows, 0),
      shards: this.shards,
      createdAt: new Date().toISOString(),
    };
    writeJsonAtomic(join(this.dir, "manifest.json"), manifest);
    return manifest;
  }

  private async flush(): Promise<void> {
    const { dIn, hook } = this.provenance;
    const n = this.pendingRows;
    const cat = <T extends Float32Array | Int32Array>(
      make: (n: number) => T,
      pick: (p: PairedRows) => T,
      width = 1,
    ) => {
      const out = make(n * width);
      let off = 0;
      for (const p of this.pending) {
        out.set(pick(p), off);
        off += p.rows * width;
      }
      return out;
    };
    const f32 = (k: number) => new Float32Array(k);
    const i32 = (k: number) => new Int32Array(k);
    const file = `shard-${String(this.shards.length).padStart(5, "0")}.safetensors`;
    await writeSafetensors(
      join(this.dir, file),
      {
        base: new Tensor(
          "f32",
          [n, dIn],
          cat(f32, (p) => p.base, dIn),
        ),
        chat: new Tensor(
          "f32",
          [n, dIn],
          cat(f32, (p) => p.chat, dIn),
        ),
        window: new Tensor(
          "i32",
          [n],
          cat(i32, (p) => p.window),
        ),
        position: new Tensor(
          "i32",
          [n],
          cat(i32, (p) => p.position),
        ),
        assistant_offset: new Tensor(
          "i32",
          [n],
          cat(i32, (p) => p.assistantOffset),
        ),
      },
      { format: PAIRED_STORE_FORMAT, hook },
    );
    this.shards.push({ file, rows: n });
    this.pending = [];
    this.pendingRows = 0;
  }
}

/** A finished paired store, validated on open; read as shards (analyses) or as a paired source (training). */
export class PairedStore {
  private constructor(
    readonly dir: string,
    readonly manifest: PairedStoreManifest,
  ) {}

  static open(dir: string, expect: { hook?: string; dIn?: number } = {}): PairedStore {
    const path = join(dir, "manifest.json");
    if (!existsSync(path))
      throw new SaeError(
        "CHECKPOINT_MISSING",
        `${dir}: no manifest.json — not a paired activation store, or its harvest did not finish`,
        { file: dir },
      );
    const m = JSON.parse(readFileSync(path, "utf8")) as PairedStoreManifest;
    if (m.format !== PAIRED_STORE_FORMAT || m.version !== PAIRED_STORE_VERSION)
      throw new SaeError(
        "FORMAT_INVALID",
        `${path}: format ${JSON.stringify(m.format)} v${m.version}, expected "${PAIRED_STORE_FORMAT}" v${PAIRED_STORE_VERSION}` +
          ((m.format as string) === "difflens-activation-store"
            ? " (a single-model store: pair two with pairActivationStores)"
            : ""),
        { file: path, field: "format" },
      );
    for (const [key, want] of Object.entries(expect))
      if (want !== undefined && m[key as "hook" | "dIn"] !== want)
        throw new SaeError("CHECKPOINT_MISMATCH", `${path}: the store holds ${key} ${m[key as "hook"]}, not ${want}`, {
          file: path,
          field: key,
          expected: want,
          got: m[key as "hook"],
        });
    for (const s of m.shards)
      if (!existsSync(join(dir, s.file)))
        throw new SaeError("CHECKPOINT_MISSING", `${dir}: shard ${s.file} listed in manifest.json is missing`, {
          file: join(dir, s.file),
        });
    return new PairedStore(dir, m);
  }

  get dIn(): number {
    return this.manifest.dIn;
  }

  /** Every shard in order, checked against the manifest. */
  async *shards(): AsyncGenerator<PairedRows> {
    for (const s of this.manifest.shards) yield await this.readShard(s.file, s.rows);
  }

  /**
   * Paired batches of `batchSize` rows (the last may be shorter), `epochs` passes; with a seed the rows of each
   * shard are permuted (the same permutation for both models, so pairs stay aligned). Deterministic: replays for
   * resume.
   */
  source(opts: { batchSize: number; seed?: number; epochs?: number }): PairedActivationSource {
    const { dIn } = this;
    const store = this;
    return {
      dIn,
      async *[Symbol.asyncIterator](): AsyncGenerator<PairedBatch> {
        const rng = opts.seed === undefined ? null : new Rng(opts.seed).fork("paired-store");
        for (let e = 0; e < (opts.epochs ?? 1); e++)
          for await (const shard of store.shards()) {
            const order = Int32Array.from({ length: shard.rows }, (_, i) => i);
            if (rng)
              for (let i = order.length - 1; i > 0; i--) {
                const j = rng.int(i + 1);
                [order[i], order[j]] = [order[j]!, order[i]!];
              }
            for (let r0 = 0; r0 < shard.rows; r0 += opts.batchSize) {
              const n = Math.min(opts.batchSize, shard.rows - r0);
              const gather = (src: Float32Array) => {
                const out = new Float32Array(n * dIn);
                for (let i = 0; i < n; i++)
                  out.set(src.subarray(order[r0 + i]! * dIn, (order[r0 + i]! + 1) * dIn), i * dIn);
                return new Tensor("f32", [n, dIn], out);
              };
              yield { base: gather(shard.base), chat: gather(shard.chat) };
            }
          }
      },
    };
  }

  private async readShard(file: string, rows: number): Promise<PairedRows> {
    const path = join(this.dir, file);
    const f = await openSafetensors(path);
    try {
      const get = (name: string, shape: number[]) => {
        const t = f.get(name);
        if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))
          throw new SaeError(
            "CHECKPOINT_CORRUPT",
            `${path}: ${name} is [${t.shape.join(", ")}], the manifest says [${shape.join(", ")}]`,
            { file: path, field: name, expected: shape, got: t.shape },
          );
        return t.data;
      };
      const { dIn } = this;
      return {
        rows,
        base: (get("base", [rows, dIn]) as Float32Array).slice(),
        chat: (get("chat", [rows, dIn]) as Float32Array).slice(),
        window: (get("window", [rows]) as Int32Array).slice(),
        position: (get("position", [rows]) as Int32Array).slice(),
        assistantOffset: (get("assistant_offset", [rows]) as Int32Array).slice(),
      };
    } finally {
      f.close();
    }
  }
}

/** chat − base of every paired batch, as the source a diff-SAE trains on. */
export function differenceSource(paired: PairedActivationSource): ActivationSource {
  return {
    dIn: paired.dIn,
    async *[Symbol.asyncIterator]() {
      for await (const { base, chat } of paired) {
        const b = base.data as Float32Array,
          c = chat.data as Float32Array;
        const d = new Float32Array(c.length);
        for (let i = 0; i < d.length; i++) d[i] = c[i]! - b[i]!;
        yield new Tensor("f32", [...chat.shape], d);
      }
    },
  };
}
