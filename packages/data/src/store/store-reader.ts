import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type ActivationSource, openSafetensors, Rng, Tensor, toFloat32Array } from "@difflens/tensor";
import { DataError } from "../errors.ts";
import { checkProvenance, parseManifest, type StoreManifest, type StoreProvenance } from "./manifest.ts";
import { ShuffleBuffer } from "./shuffle-buffer.ts";

export interface StoreReadOptions {
  /** Rows per yielded batch. */
  readonly batchSize: number;
  /** Rows held for shuffling (larger mixes better; SAELens-style buffers hold many batches). 0 = no shuffle. */
  readonly bufferRows: number;
  /** Seed for the shard order and the buffer's draws. */
  readonly seed: number;
  /** Passes over the store (default 1). */
  readonly epochs?: number;
}

/** An activation store on disk: validated manifest + shards, read back as an `ActivationSource`. */
export class ActivationStore {
  private constructor(
    readonly dir: string,
    readonly manifest: StoreManifest,
  ) {}

  /** Opens and validates a store; `expect` refuses one made for another hook, width or model. */
  static open(dir: string, expect: Partial<StoreProvenance> = {}): ActivationStore {
    const path = join(dir, "manifest.json");
    if (!existsSync(path)) {
      throw new DataError(
        "STORE_CORRUPT",
        `${dir}: no manifest.json — not an activation store, or its harvest did not finish`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new DataError("STORE_CORRUPT", `${path}: not valid JSON (${(error as Error).message})`);
    }
    const manifest = parseManifest(json, path);
    checkProvenance(manifest, expect, path);
    for (const shard of manifest.shards) {
      if (!existsSync(join(dir, shard.file)))
        throw new DataError("STORE_CORRUPT", `${dir}: shard ${shard.file} listed in manifest.json is missing`);
    }
    return new ActivationStore(dir, manifest);
  }

  get dIn(): number {
    return this.manifest.dIn;
  }

  /** Batches of [batchSize, dIn] f32 through a seeded shuffling buffer; the last batch may be smaller. */
  source(options: StoreReadOptions): ActivationSource {
    return {
      dIn: this.dIn,
      [Symbol.asyncIterator]: () => this.batches(options),
    };
  }

  private async *batches({ batchSize, bufferRows, seed, epochs = 1 }: StoreReadOptions): AsyncGenerator<Tensor> {
    const { dIn } = this.manifest;
    const rng = new Rng(seed);
    const buffer = new ShuffleBuffer(Math.max(bufferRows, batchSize), dIn, rng);
    for (let epoch = 0; epoch < epochs; epoch++) {
      const shards = [...this.manifest.shards];
      if (bufferRows > 0) {
        for (let i = shards.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [shards[i], shards[j]] = [shards[j]!, shards[i]!];
        }
      }
      for (const shard of shards) {
        const rows = await this.readShard(shard.file, shard.rows);
        for (let offset = 0; offset < shard.rows; ) {
          offset += buffer.push(rows, offset);
          while (buffer.full || (bufferRows === 0 && buffer.size >= batchSize)) {
            yield new Tensor(
              "f32",
              [batchSize, dIn],
              bufferRows === 0 ? buffer.takeInOrder(batchSize) : buffer.take(batchSize),
            );
          }
        }
      }
    }
    while (buffer.size > 0) {
      const n = Math.min(batchSize, buffer.size);
      yield new Tensor("f32", [n, dIn], bufferRows === 0 ? buffer.takeInOrder(n) : buffer.take(n));
    }
  }

  private async readShard(file: string, rows: number): Promise<Float32Array> {
    const path = join(this.dir, file);
    const shard = await openSafetensors(path);
    try {
      const tensor = shard.get("activations");
      if (tensor.shape[0] !== rows || tensor.shape[1] !== this.manifest.dIn) {
        throw new DataError(
          "STORE_CORRUPT",
          `${path}: activations are [${tensor.shape.join(", ")}], the manifest says [${rows}, ${this.manifest.dIn}]`,
        );
      }
      return tensor.dtype === "f32" ? (tensor.data as Float32Array).slice() : toFloat32Array(tensor);
    } finally {
      shard.close();
    }
  }
}
