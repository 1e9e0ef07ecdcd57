import * as fs from "node:fs";
import * as path from "node:path";
import type { Tensor } from "../tensor.ts";
import { SafetensorsError } from "./errors.ts";
import {
  type OpenSafetensorsOptions,
  openSafetensorsSync,
  type SafetensorsAccess,
  type SafetensorsFile,
} from "./file.ts";
import type { SafetensorsTensorInfo } from "./header.ts";
import { HeaderJsonError, JsonNumber, type JsonValue, parseStrictJson } from "./header-json.ts";
import { checkOptionKeys } from "./options.ts";

export const SINGLE_FILE_NAME = "model.safetensors";
export const INDEX_FILE_NAME = "model.safetensors.index.json";

/** Where a tensor of a checkpoint lives: the shard's info plus the shard's path. */
export interface CheckpointTensorInfo extends SafetensorsTensorInfo {
  readonly file: string;
}

/**
 * A model checkpoint as one set of tensors, whether it is one `model.safetensors` or shards listed by
 * `model.safetensors.index.json`. Each shard is opened (header validated) up front; tensor bytes are read by `get`.
 */
export class SafetensorsCheckpoint {
  /** The file the checkpoint was opened from: the single file, or the index. */
  readonly source: string;
  /** The shards (one entry for a single file), in the order they were opened. */
  readonly files: readonly SafetensorsFile[];
  /** The index's own "metadata" object (e.g. total_size); {} for a single file. */
  readonly indexMetadata: Readonly<Record<string, unknown>>;
  private readonly owner: ReadonlyMap<string, SafetensorsFile>;

  constructor(
    source: string,
    files: SafetensorsFile[],
    owner: Map<string, SafetensorsFile>,
    indexMetadata: Record<string, unknown>,
  ) {
    this.source = source;
    this.files = Object.freeze(files);
    this.owner = owner;
    this.indexMetadata = Object.freeze(indexMetadata);
  }

  /** `__metadata__` of the first shard (writers put the same record, e.g. {format: "pt"}, in every shard). */
  get metadata(): Readonly<Record<string, string>> {
    return this.files[0]?.metadata ?? {};
  }

  /** "mmap" when every shard is memory-mapped, else "pread". */
  get access(): SafetensorsAccess {
    return this.files.every((f) => f.access === "mmap") ? "mmap" : "pread";
  }

  keys(): string[] {
    return [...this.owner.keys()];
  }

  has(name: string): boolean {
    return this.owner.has(name);
  }

  info(name: string): CheckpointTensorInfo {
    const file = this.fileOf(name);
    return { ...file.info(name), file: file.path };
  }

  get(name: string): Tensor {
    return this.fileOf(name).get(name);
  }

  getBytes(name: string): Uint8Array {
    return this.fileOf(name).getBytes(name);
  }

  /** The shard that holds `name`. */
  fileOf(name: string): SafetensorsFile {
    const file = this.owner.get(name);
    if (file === undefined) {
      throw new SafetensorsError(
        "TENSOR_NOT_FOUND",
        `no such tensor in this checkpoint of ${this.owner.size} tensors`,
        { file: this.source, tensor: name },
      );
    }
    return file;
  }

  close(): void {
    for (const f of this.files) f.close();
  }
}

/**
 * Opens a checkpoint: a `.safetensors` file, an index `.json` file, or a folder holding `model.safetensors` (preferred,
 * as transformers does) or `model.safetensors.index.json`.
 */
export async function openCheckpoint(
  dirOrFile: string,
  options: OpenSafetensorsOptions = {},
): Promise<SafetensorsCheckpoint> {
  checkOptionKeys(options, ["mmap", "mapFile", "mapRange"], "openCheckpoint", dirOrFile);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dirOrFile);
  } catch {
    throw new SafetensorsError("CHECKPOINT_NOT_FOUND", "no such file or folder", { file: dirOrFile });
  }
  if (stat.isDirectory()) {
    const single = path.join(dirOrFile, SINGLE_FILE_NAME);
    const index = path.join(dirOrFile, INDEX_FILE_NAME);
    if (fs.existsSync(single)) return openSingle(single, options);
    if (fs.existsSync(index)) return openSharded(index, options);
    const others = fs
      .readdirSync(dirOrFile)
      .filter((f) => f.endsWith(".safetensors"))
      .slice(0, 5);
    throw new SafetensorsError(
      "CHECKPOINT_NOT_FOUND",
      `the folder has neither ${SINGLE_FILE_NAME} nor ${INDEX_FILE_NAME}${others.length > 0 ? `; it has ${others.join(", ")} — open that file directly` : ""}`,
      { file: dirOrFile },
    );
  }
  return dirOrFile.endsWith(".json") ? openSharded(dirOrFile, options) : openSingle(dirOrFile, options);
}

function openSingle(file: string, options: OpenSafetensorsOptions): SafetensorsCheckpoint {
  const f = openSafetensorsSync(file, options);
  return new SafetensorsCheckpoint(file, [f], new Map(f.keys().map((k) => [k, f])), {});
}

function openSharded(indexPath: string, options: OpenSafetensorsOptions): SafetensorsCheckpoint {
  const { weightMap, metadata } = readIndex(indexPath);
  const dir = path.dirname(indexPath);
  const shardNames = [...new Set(weightMap.values())].sort();
  const files: SafetensorsFile[] = [];
  try {
    for (const shard of shardNames) {
      const shardPath = path.join(dir, shard);
      if (!fs.existsSync(shardPath)) {
        throw new SafetensorsError(
          "MISSING_SHARD",
          `the index lists shard ${shard}, but ${shardPath} does not exist (${countOf(weightMap, shard)} tensors are mapped to it)`,
          { file: indexPath, tensor: firstKeyOf(weightMap, shard) },
        );
      }
      files.push(openSafetensorsSync(shardPath, options));
    }
    const byShard = new Map(shardNames.map((s, i) => [s, files[i]!]));
    const owner = new Map<string, SafetensorsFile>();
    for (const [name, shard] of weightMap) {
      const file = byShard.get(shard)!;
      if (!file.has(name)) {
        throw new SafetensorsError(
          "INDEX_KEY_NOT_IN_SHARD",
          `the index maps it to ${shard}, but that shard has no such tensor`,
          { file: indexPath, tensor: name },
        );
      }
    }
    // Every tensor of every shard, so a duplicate across shards is caught even when the index lists only one copy.
    for (const file of files) {
      for (const name of file.keys()) {
        const earlier = owner.get(name);
        if (earlier !== undefined) {
          throw new SafetensorsError(
            "DUPLICATE_TENSOR",
            `it is in both ${path.basename(earlier.path)} and ${path.basename(file.path)}`,
            { file: indexPath, tensor: name },
          );
        }
        owner.set(name, file);
      }
    }
    return new SafetensorsCheckpoint(indexPath, files, owner, metadata);
  } catch (err) {
    for (const f of files) f.close();
    throw err;
  }
}

function readIndex(indexPath: string): { weightMap: Map<string, string>; metadata: Record<string, unknown> } {
  let text: string;
  try {
    text = fs.readFileSync(indexPath, "utf8");
  } catch (err) {
    throw new SafetensorsError("IO_ERROR", String((err as Error).message), { file: indexPath });
  }
  let root: JsonValue;
  try {
    root = parseStrictJson(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    if (!(err instanceof HeaderJsonError)) throw err;
    if (err.kind === "duplicate") {
      throw new SafetensorsError(
        "DUPLICATE_TENSOR",
        `key ${JSON.stringify(err.key)} appears twice in ${err.path.length === 0 ? "the index" : `"${err.path.join(".")}"`}`,
        err.key === undefined ? { file: indexPath } : { file: indexPath, tensor: err.key },
      );
    }
    throw new SafetensorsError("BAD_INDEX", `not valid JSON: ${err.message}`, { file: indexPath });
  }
  const weightMapJson = root instanceof Map ? root.get("weight_map") : undefined;
  if (!(weightMapJson instanceof Map)) {
    throw new SafetensorsError(
      "BAD_INDEX",
      `the index must be an object with a "weight_map" object of tensor name → shard file`,
      { file: indexPath },
    );
  }
  const weightMap = new Map<string, string>();
  for (const [name, shard] of weightMapJson) {
    if (typeof shard !== "string" || shard === "" || path.isAbsolute(shard) || shard.split(/[\\/]/).includes("..")) {
      throw new SafetensorsError(
        "BAD_INDEX",
        `weight_map must name a shard file inside the checkpoint folder, got ${JSON.stringify(plain(shard))}`,
        { file: indexPath, tensor: name },
      );
    }
    weightMap.set(name, shard);
  }
  const metaJson = root instanceof Map ? root.get("metadata") : undefined;
  const metadata: Record<string, unknown> = {};
  if (metaJson instanceof Map) {
    for (const [k, v] of metaJson) Object.defineProperty(metadata, k, { value: plain(v), enumerable: true });
  }
  return { weightMap, metadata };
}

/** Converts parsed JSON back to plain values (for messages and the index metadata). */
function plain(v: JsonValue): unknown {
  if (v instanceof JsonNumber) return v.value;
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function firstKeyOf(weightMap: Map<string, string>, shard: string): string | undefined {
  for (const [k, s] of weightMap) if (s === shard) return k;
  return undefined;
}

function countOf(weightMap: Map<string, string>, shard: string): number {
  let n = 0;
  for (const s of weightMap.values()) if (s === shard) n++;
  return n;
}
