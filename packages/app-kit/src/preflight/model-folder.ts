/**
 * A model folder checked without reading its weights: config.json, the weight index (single file or sharded) and
 * every tensor's presence, dtype and shape from the safetensors headers; a PEFT adapter's modules against the
 * weights they change. Seconds for a 7B model, where loading it reads gigabytes.
 */
import {
  type DecoderConfig,
  familyByName,
  hookShape,
  loadLoraAdapter,
  parseHookName,
  readModelConfig,
  resolveModelFolder,
} from "@difflens/runtime";
import { openCheckpoint } from "@difflens/tensor";
import { AppKitError } from "../errors.ts";
import type { ModelRef } from "../models/model-ref.ts";

export interface ModelFolderCheck {
  /** The folder the model loads from (a Hub cache snapshot for `ORG/NAME`). */
  readonly folder: string;
  readonly config: DecoderConfig;
  /** Bytes of every weight, as stored (bf16 counts 2 per element). */
  readonly weightBytes: number;
}

const FLOAT_DTYPES: Readonly<Record<string, number>> = { f32: 4, bf16: 2, f16: 2 };

export async function checkModelFolder(ref: ModelRef): Promise<ModelFolderCheck> {
  const folder = resolveModelFolder(ref.path);
  const config = readModelConfig(folder);
  const checkpoint = await openCheckpoint(folder, { mmap: false });
  let weightBytes = 0;
  try {
    const shapes = familyByName(config.architecture).weightShapes(config);
    for (const [name, shape] of shapes) {
      if (name === "lm_head.weight" && !checkpoint.has(name)) continue; // HF falls back to the embedding
      if (!checkpoint.has(name)) throw invalid(folder, `missing weight "${name}" (shape [${shape.join(", ")}])`, name);
      const info = checkpoint.info(name);
      const dtype = String(info.dtype).toLowerCase();
      const size = FLOAT_DTYPES[dtype];
      if (size === undefined)
        throw invalid(folder, `weight "${name}" has dtype ${info.dtype}; expected f32, bf16 or f16`, name);
      if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
        const got = `[${info.shape.join(", ")}]`;
        throw invalid(folder, `weight "${name}" has shape ${got}, config.json implies [${shape.join(", ")}]`, name);
      }
      weightBytes += size * shape.reduce((a, b) => a * b, 1);
    }
    if (ref.adapter !== null) await checkAdapter(ref.adapter, shapes);
  } finally {
    checkpoint.close();
  }
  return { folder, config, weightBytes };
}

/** Every LoRA module must change a weight the model has, with matching in/out widths. */
async function checkAdapter(dir: string, shapes: ReadonlyMap<string, readonly number[]>): Promise<void> {
  const adapter = await loadLoraAdapter(dir);
  for (const [module, { a, b }] of adapter.modules) {
    const shape = shapes.get(`${module}.weight`);
    if (shape === undefined)
      throw invalid(dir, `adapter module "${module}" changes no weight of the base model`, module);
    if (b.shape[0] !== shape[0] || a.shape[1] !== shape[1]) {
      const got = `B [${b.shape.join(", ")}] · A [${a.shape.join(", ")}]`;
      throw invalid(dir, `adapter module "${module}" is ${got}; the base weight is [${shape.join(", ")}]`, module);
    }
  }
}

/** Width of one row of `hook`'s activations (what an SAE on it reads); an unknown hook name throws UNKNOWN_HOOK. */
export function hookWidth(config: DecoderConfig, hook: string): number {
  const { site } = parseHookName(hook, config);
  return hookShape(site, config, { batch: 1, pos: 1 })
    .slice(2)
    .reduce((a, b) => a * b, 1);
}

function invalid(file: string, message: string, field: string): AppKitError {
  return new AppKitError("MODEL_INVALID", `${file}: ${message}`, { file, field });
}
