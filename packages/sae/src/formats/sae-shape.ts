/**
 * An SAE folder's widths (d_in, d_sae) read from its config file, so every SAE is checked against its hook before any
 * forward pass without loading gigabytes of weights; a folder whose config does not state them is loaded.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { detectSaeFormat, loadSae, type SaeFormat } from "./formats.ts";
import { GEMMA_SCOPE_FILE } from "./gemma-scope.ts";
import { readNpyHeader } from "./npy.ts";
import { ZipArchive } from "./zip.ts";

export interface SaeShape {
  readonly format: SaeFormat;
  readonly dIn: number;
  readonly dSae: number;
}

export async function readSaeShape(dir: string): Promise<SaeShape> {
  const format = detectSaeFormat(dir);
  const stated = statedShape(dir, format);
  if (stated !== null) return { format, ...stated };
  const sae = await loadSae(dir);
  return { format, dIn: sae.dIn, dSae: sae.dSae };
}

function statedShape(dir: string, format: SaeFormat): { dIn: number; dSae: number } | null {
  const read = (name: string): Record<string, unknown> | null => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as Record<string, unknown>;
    } catch {
      return null;
    }
  };
  const int = (v: unknown) => (typeof v === "number" && Number.isInteger(v) && v > 0 ? v : null);
  if (format === "gemma_scope") {
    // W_enc's .npy header (the entry's first bytes) says [dIn, dSae]: no need to read the matrix.
    const file = path.join(dir, GEMMA_SCOPE_FILE);
    const shape = ZipArchive.openFile(file, (zip) => {
      const head = zip.entries.has("W_enc.npy") ? zip.readHead("W_enc.npy", 1 << 16) : null;
      return head === null ? null : readNpyHeader(head, `${file}:W_enc`).shape;
    });
    return shape?.length === 2 ? { dIn: shape[0]!, dSae: shape[1]! } : null;
  }
  if (format === "qwen_scope") return null;
  if (format === "dictionary_learning") {
    const trainer = (read("config.json")?.trainer ?? {}) as Record<string, unknown>;
    const dIn = int(trainer.activation_dim);
    const dSae = int(trainer.dict_size);
    return dIn !== null && dSae !== null ? { dIn, dSae } : null;
  }
  const cfg = read("cfg.json") ?? {};
  const dIn = int(cfg.d_in);
  if (dIn === null) return null;
  const expansion = int(cfg.expansion_factor);
  const dSae = int(cfg.d_sae) ?? int(cfg.num_latents) ?? (expansion === null ? null : expansion * dIn);
  return dSae === null ? null : { dIn, dSae };
}
