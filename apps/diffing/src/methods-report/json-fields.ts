/**
 * Reading a methods run folder's JSON and safetensors files with errors that name the file, the field and what was
 * expected (METHODS_RUN_INVALID). JSON writes NaN as null, so a number field reads null back as NaN.
 */
import * as fs from "node:fs";
import { readSafetensors, type Tensor } from "@difflens/tensor";
import { DiffingError } from "../errors.ts";

export type JsonObject = Record<string, unknown>;

export function invalid(file: string, message: string, facts: Record<string, unknown> = {}): DiffingError {
  return new DiffingError("METHODS_RUN_INVALID", `${file}: ${message}`, {
    file,
    fix: "rerun the methods (`pnpm --filter diffing methods-report`) or point at a complete methods run folder",
    ...facts,
  });
}

export function readJsonObject(file: string): JsonObject {
  if (!fs.existsSync(file)) throw invalid(file, "missing");
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw invalid(file, `not valid JSON (${(err as Error).message})`);
  }
  return asObject(value, file, "(top level)");
}

export function asObject(value: unknown, file: string, field: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalid(file, `${field}: expected an object`, { field, expected: "object", got: typeof value });
  return value as JsonObject;
}

export function field(o: JsonObject, key: string, file: string, where = ""): unknown {
  if (!(key in o)) throw invalid(file, `field "${where}${key}" is missing`, { field: `${where}${key}` });
  return o[key];
}

export function num(o: JsonObject, key: string, file: string, where = ""): number {
  const v = field(o, key, file, where);
  if (v === null) return Number.NaN;
  if (typeof v !== "number")
    throw invalid(file, `field "${where}${key}": expected a number`, { field: `${where}${key}`, got: v });
  return v;
}

export function str(o: JsonObject, key: string, file: string, where = ""): string {
  const v = field(o, key, file, where);
  if (typeof v !== "string")
    throw invalid(file, `field "${where}${key}": expected a string`, { field: `${where}${key}`, got: v });
  return v;
}

export function strOrNull(o: JsonObject, key: string, file: string, where = ""): string | null {
  return o[key] === null || o[key] === undefined ? null : str(o, key, file, where);
}

export function arr(o: JsonObject, key: string, file: string, where = ""): unknown[] {
  const v = field(o, key, file, where);
  if (!Array.isArray(v))
    throw invalid(file, `field "${where}${key}": expected a list`, { field: `${where}${key}`, got: typeof v });
  return v;
}

export function objects(o: JsonObject, key: string, file: string, where = ""): JsonObject[] {
  return arr(o, key, file, where).map((v, i) => asObject(v, file, `${where}${key}[${i}]`));
}

/** Numbers of a list (null → NaN). */
export function numbers(o: JsonObject, key: string, file: string, where = ""): number[] {
  return arr(o, key, file, where).map((v, i) => {
    if (v === null) return Number.NaN;
    if (typeof v !== "number")
      throw invalid(file, `field "${where}${key}[${i}]": expected a number`, { field: `${where}${key}[${i}]`, got: v });
    return v;
  });
}

/** Every tensor of a safetensors file. */
export async function readTensors(file: string): Promise<Record<string, Tensor>> {
  if (!fs.existsSync(file)) throw invalid(file, "missing");
  try {
    return (await readSafetensors(file)).tensors;
  } catch (err) {
    throw invalid(file, `unreadable safetensors (${(err as Error).message})`);
  }
}

/** The F32 tensors of a safetensors file, each checked against the expected shape. */
export async function readF32(
  file: string,
  shapes: Readonly<Record<string, readonly number[]>>,
): Promise<Record<string, Float32Array>> {
  const tensors = await readTensors(file);
  const out: Record<string, Float32Array> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const t = tensors[name];
    if (!t) throw invalid(file, `tensor "${name}" missing (has: ${Object.keys(tensors).join(", ")})`, { field: name });
    if (t.dtype !== "f32" || t.shape.join() !== shape.join())
      throw invalid(
        file,
        `tensor "${name}": expected F32 [${shape.join(", ")}], got ${t.dtype} [${t.shape.join(", ")}]`,
        {
          field: name,
          expected: shape,
          got: t.shape,
        },
      );
    out[name] = Float32Array.from(t.data as Float32Array);
  }
  return out;
}

/** Row i of a [rows, d] matrix. */
export function row(m: Float32Array, i: number, d: number): Float32Array {
  return m.subarray(i * d, (i + 1) * d);
}
