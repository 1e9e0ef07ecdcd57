import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { DTYPE_BYTES } from "../dtype.ts";
import type { Tensor } from "../tensor.ts";
import { INDEX_FILE_NAME, SINGLE_FILE_NAME } from "./checkpoint.ts";
import { SafetensorsError } from "./errors.ts";
import { checkOptionKeys } from "./options.ts";
import { compareUtf8, type TensorMap, tensorEntries, writeSafetensors, writeStreamedAtomic } from "./write.ts";

export interface ShardedWriteOptions {
  /** Largest data size of one shard in bytes; a single tensor larger than this gets a shard of its own. */
  maxShardBytes: number;
  /** `__metadata__` written into every shard (transformers writes {format: "pt"}). */
  metadata?: Readonly<Record<string, string>>;
}

export interface ShardedWriteResult {
  /** Shard file names, in order. */
  files: string[];
  /** The index file, or null when everything fit in one `model.safetensors`. */
  index: string | null;
  /** Sum of all tensors' data bytes (the index's metadata.total_size). */
  totalSize: number;
}

const SHARD_NAME = /^model-\d{5}-of-\d{5}\.safetensors$/;

/**
 * Saves tensors as a checkpoint folder the way transformers does: one `model.safetensors` when the data fits in
 * `maxShardBytes`, else `model-0000i-of-0000N.safetensors` shards filled greedily in the caller's order plus
 * `model.safetensors.index.json` ({metadata: {total_size}, weight_map}, keys sorted, indent 2). Every file is
 * written atomically and the index last, so a reader never sees an index naming a shard that is not complete.
 * Shard files and an index left in the folder by an earlier save with another layout are removed afterwards.
 */
export async function writeShardedCheckpoint(
  dir: string,
  tensors: TensorMap,
  options: ShardedWriteOptions,
): Promise<ShardedWriteResult> {
  checkOptionKeys(options, ["maxShardBytes", "metadata"], "writeShardedCheckpoint", dir);
  const { maxShardBytes } = options;
  if (!(Number.isSafeInteger(maxShardBytes) && maxShardBytes > 0)) {
    throw new SafetensorsError("INVALID_OPTIONS", `maxShardBytes must be a positive integer, got ${maxShardBytes}`, {
      file: dir,
    });
  }
  const entries = tensorEntries(tensors);
  const shards: Array<Array<[string, Tensor]>> = [];
  let current: Array<[string, Tensor]> = [];
  let currentBytes = 0;
  let totalSize = 0;
  for (const entry of entries) {
    const bytes = entry[1].size * (DTYPE_BYTES[entry[1].dtype] ?? 0);
    if (current.length > 0 && currentBytes + bytes > maxShardBytes) {
      shards.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += bytes;
    totalSize += bytes;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);

  await fsp.mkdir(dir, { recursive: true });
  if (shards.length === 1) {
    await writeSafetensors(path.join(dir, SINGLE_FILE_NAME), new Map(shards[0]), options.metadata);
    await removeStale(dir, new Set([SINGLE_FILE_NAME]));
    return { files: [SINGLE_FILE_NAME], index: null, totalSize };
  }
  const n = shards.length;
  const files = shards.map(
    (_, i) => `model-${String(i + 1).padStart(5, "0")}-of-${String(n).padStart(5, "0")}.safetensors`,
  );
  const weightMap: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    await writeSafetensors(path.join(dir, files[i]!), new Map(shards[i]), options.metadata);
    for (const [name] of shards[i]!) Object.defineProperty(weightMap, name, { value: files[i], enumerable: true });
  }
  const sortedMap = Object.fromEntries(
    Object.keys(weightMap)
      .sort(compareUtf8)
      .map((k) => [k, weightMap[k]]),
  );
  // As transformers writes it: json.dumps(index, indent=2, sort_keys=True) + "\n", whose ensure_ascii escapes
  // every non-ASCII UTF-16 unit as \uXXXX (lowercase hex).
  const indexText = `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sortedMap }, null, 2).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  )}\n`;
  const indexPath = path.join(dir, INDEX_FILE_NAME);
  await writeStreamedAtomic(indexPath, async (h) => {
    await h.writeFile(indexText, "utf8");
  });
  await removeStale(dir, new Set([...files, INDEX_FILE_NAME]));
  return { files, index: INDEX_FILE_NAME, totalSize };
}

/** Deletes checkpoint files of an earlier save (other shard counts, a single file vs. an index) not in `keep`. */
async function removeStale(dir: string, keep: Set<string>): Promise<void> {
  for (const name of fs.readdirSync(dir)) {
    const ours = name === SINGLE_FILE_NAME || name === INDEX_FILE_NAME || SHARD_NAME.test(name);
    if (ours && !keep.has(name)) await fsp.rm(path.join(dir, name), { force: true });
  }
}
