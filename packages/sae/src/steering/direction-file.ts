/**
 * A steering direction from a file, by extension:
 * - `.safetensors`: the file's only tensor, or the one named by `key`; shape [d] or [1, d], any float dtype;
 * - `.npy`: a NumPy array of shape (d,) or (1, d), little-endian float16, float32 or float64, C order (`np.save`;
 *   read by formats/npy.ts, which refuses anything else, truncated or trailing data included);
 * - `.json`: a list of numbers, or an object whose `key` field (default "direction") is one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readSafetensors, toFloat32Array } from "@difflens/tensor";
import { SaeError } from "../errors.ts";
import { readNpy } from "../formats/npy.ts";

export async function readDirectionFile(file: string, options: { key?: string } = {}): Promise<Float32Array> {
  if (!fs.existsSync(file)) {
    throw new SaeError("CHECKPOINT_MISSING", `direction file ${file} does not exist`, { file });
  }
  const ext = path.extname(file).toLowerCase();
  const values =
    ext === ".safetensors"
      ? await fromSafetensors(file, options.key)
      : ext === ".npy"
        ? fromNpy(file)
        : ext === ".json"
          ? fromJson(file, options.key ?? "direction")
          : unsupported(file);
  if (values.length === 0 || !values.every(Number.isFinite)) {
    const message = `direction file ${file}: expected a non-empty vector of finite numbers`;
    throw new SaeError("FORMAT_INVALID", message, { file, got: values.length });
  }
  return values;
}

function unsupported(file: string): never {
  const message = `direction file ${file}: expected a .safetensors, .npy or .json file`;
  throw new SaeError("FORMAT_UNKNOWN", message, { file, expected: ".safetensors | .npy | .json" });
}

function checkVector(shape: readonly number[], file: string): void {
  if (shape.length === 1 || (shape.length === 2 && shape[0] === 1)) return;
  const message = `direction file ${file}: the direction has shape [${shape.join(", ")}]; expected [d] or [1, d]`;
  throw new SaeError("SHAPE_MISMATCH", message, { file, got: shape });
}

async function fromSafetensors(file: string, key: string | undefined): Promise<Float32Array> {
  const { tensors } = await readSafetensors(file);
  const names = Object.keys(tensors);
  const name = key ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined || !(name in tensors)) {
    const what = key === undefined ? `holds ${names.length} tensors; name one with key` : `has no tensor "${key}"`;
    throw new SaeError("FORMAT_INVALID", `direction file ${file} ${what} (it holds: ${names.join(", ")})`, {
      file,
      field: "key",
    });
  }
  checkVector(tensors[name]!.shape, file);
  return toFloat32Array(tensors[name]!);
}

/** Through the strict `.npy` reader of the SAE formats (errors name the file and what it holds). */
function fromNpy(file: string): Float32Array {
  const { shape, values } = readNpy(fs.readFileSync(file), `direction file ${file}`);
  checkVector(shape, file);
  return values;
}

function fromJson(file: string, key: string): Float32Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new SaeError("FORMAT_INVALID", `direction file ${file}: not JSON (${(e as Error).message})`, { file });
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as Record<string, unknown> | null)?.[key];
  if (!Array.isArray(list) || !list.every((v) => typeof v === "number")) {
    const message = `direction file ${file}: expected a list of numbers${Array.isArray(parsed) ? "" : ` in field "${key}"`}`;
    throw new SaeError("FORMAT_INVALID", message, { file, field: key });
  }
  return Float32Array.from(list as number[]);
}
