import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "@difflens/common";
import { f32ArrayToBf16, Tensor, writeSafetensors } from "@difflens/tensor";
import { DataError } from "../errors.ts";
import { STORE_FORMAT, STORE_VERSION, type StoreManifest, type StoreProvenance } from "./manifest.ts";

/**
 * Harvest once, train many times: appends activation rows into safetensors shards of `shardRows` rows,
 * each written atomically; the manifest is written last, so a store without one is an unfinished store.
 */
export class ActivationStoreWriter {
  private readonly shards: { file: string; rows: number }[] = [];
  private pending: Float32Array;
  private filled = 0;

  constructor(
    readonly dir: string,
    readonly provenance: StoreProvenance,
    readonly shardRows = 65536,
  ) {
    if (existsSync(join(dir, "manifest.json"))) {
      throw new DataError(
        "BAD_CONFIG",
        `${dir}: already holds an activation store (manifest.json); choose another folder`,
      );
    }
    mkdirSync(dir, { recursive: true });
    this.pending = new Float32Array(shardRows * provenance.dIn);
  }

  get tokenCount(): number {
    return this.shards.reduce((n, s) => n + s.rows, 0) + this.filled;
  }

  /** rows: [n, dIn] f32, row-major. */
  async append(rows: Float32Array): Promise<void> {
    const { dIn } = this.provenance;
    if (rows.length % dIn !== 0) {
      throw new DataError(
        "BAD_ACTIVATIONS",
        `${this.dir}: appended ${rows.length} values, not a multiple of dIn ${dIn}`,
      );
    }
    let offset = 0;
    while (offset < rows.length) {
      const take = Math.min(rows.length - offset, this.pending.length - this.filled * dIn);
      this.pending.set(rows.subarray(offset, offset + take), this.filled * dIn);
      this.filled += take / dIn;
      offset += take;
      if (this.filled === this.shardRows) await this.flushShard();
    }
  }

  /** Writes the last shard and the manifest. */
  async finish(): Promise<StoreManifest> {
    if (this.filled > 0) await this.flushShard();
    const manifest: StoreManifest = {
      format: STORE_FORMAT,
      version: STORE_VERSION,
      ...this.provenance,
      tokenCount: this.shards.reduce((n, s) => n + s.rows, 0),
      shards: this.shards,
      createdAt: new Date().toISOString(),
    };
    writeJsonAtomic(join(this.dir, "manifest.json"), manifest);
    return manifest;
  }

  private async flushShard(): Promise<void> {
    const { dIn, dtype } = this.provenance;
    const values = this.pending.subarray(0, this.filled * dIn);
    const tensor =
      dtype === "bf16"
        ? new Tensor("bf16", [this.filled, dIn], f32ArrayToBf16(values))
        : new Tensor("f32", [this.filled, dIn], values.slice());
    const file = `shard-${String(this.shards.length).padStart(5, "0")}.safetensors`;
    await writeSafetensors(join(this.dir, file), { activations: tensor }, { hook: this.provenance.hook });
    this.shards.push({ file, rows: this.filled });
    this.filled = 0;
  }
}
