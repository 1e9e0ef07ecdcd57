import { DataError } from "../errors.ts";

export const STORE_FORMAT = "difflens-activation-store";
export const STORE_VERSION = 1;

/** What a store holds: enough to refuse activations from another model, hook or width. */
export interface StoreProvenance {
  /** Model the activations came from (folder name or Hub id). */
  readonly model: string;
  /** Hook point, TransformerLens name (e.g. `blocks.13.hook_resid_pre`). */
  readonly hook: string;
  /** Dataset description (files, columns, context size). */
  readonly dataset: string;
  /** Width of each activation row. */
  readonly dIn: number;
  /** Storage dtype of the shards. */
  readonly dtype: "f32" | "bf16";
}

export interface StoreManifest extends StoreProvenance {
  readonly format: typeof STORE_FORMAT;
  readonly version: number;
  /** Rows over all shards. */
  readonly tokenCount: number;
  readonly shards: readonly { readonly file: string; readonly rows: number }[];
  readonly createdAt: string;
}

/** Validates a parsed manifest.json, naming the file and the field that is wrong. */
export function parseManifest(json: unknown, path: string): StoreManifest {
  const fail = (field: string, expected: string): never => {
    throw new DataError("STORE_CORRUPT", `${path}: field "${field}" should be ${expected}`);
  };
  if (typeof json !== "object" || json === null) fail("(root)", "an object");
  const m = json as Record<string, unknown>;
  if (m.format !== STORE_FORMAT) fail("format", `"${STORE_FORMAT}" (is this an activation store?)`);
  if (m.version !== STORE_VERSION) fail("version", String(STORE_VERSION));
  for (const key of ["model", "hook", "dataset", "createdAt"]) if (typeof m[key] !== "string") fail(key, "a string");
  if (!Number.isInteger(m.dIn) || (m.dIn as number) < 1) fail("dIn", "a positive integer");
  if (m.dtype !== "f32" && m.dtype !== "bf16") fail("dtype", `"f32" or "bf16"`);
  if (!Array.isArray(m.shards)) fail("shards", "an array");
  let rows = 0;
  for (const [i, shard] of (m.shards as unknown[]).entries()) {
    const s = shard as Record<string, unknown>;
    if (typeof s?.file !== "string" || !Number.isInteger(s.rows))
      fail(`shards[${i}]`, "{ file: string, rows: integer }");
    rows += s.rows as number;
  }
  if (m.tokenCount !== rows) fail("tokenCount", `the sum of shard rows (${rows})`);
  return json as StoreManifest;
}

/** Refuses a store made for another hook, width or model, before any training starts. */
export function checkProvenance(manifest: StoreManifest, expect: Partial<StoreProvenance>, path: string): void {
  for (const key of ["model", "hook", "dIn", "dtype"] as const) {
    const wanted = expect[key];
    if (wanted !== undefined && manifest[key] !== wanted) {
      throw new DataError(
        "STORE_MISMATCH",
        `${path}: the store holds ${key} ${JSON.stringify(manifest[key])}, but ${JSON.stringify(wanted)} was requested`,
      );
    }
  }
}
