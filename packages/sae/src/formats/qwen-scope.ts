/**
 * Qwen Scope TopK SAEs (Qwen/SAE-Res-{model}-W{N}K-L0_{k}: one `layer{n}.sae.pt` per layer), read as SAELens's
 * `qwen_scope` loader reads them: a `torch.save` dict of W_enc [dSae, dIn], W_dec [dIn, dSae], b_enc [dSae],
 * b_dec [dIn] (the loader transposes both matrices into SAELens's layout), k from the repo name's `L0_{k}`, the hook
 * the residual stream after layer n (`blocks.n.hook_resid_post`). Read through the allow-listed pickle reader.
 *
 * Unsure (the model card and SAELens's loader were not at hand in full): whether the encoder subtracts b_dec first.
 * We follow the model card's TopK formula, pre = x·W_encᵀ + b_enc (no b_dec subtraction); `applyBDecToInput: true`
 * switches. The path given is the `.sae.pt` file itself (a repo folder holds every layer).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { SaeError } from "../errors.ts";
import { Sae } from "../sae.ts";
import { transpose } from "./folder-io.ts";
import { readTorchStateDict, type TorchTensor } from "./torch-load.ts";

export const QWEN_SCOPE_FILE = /^layer(\d+)\.sae\.pt$/;

export interface LoadQwenScopeOptions {
  /** Top-k; default from the path's `L0_{k}` (the repo name). */
  k?: number;
  /** Subtract b_dec from the input before the encoder. Default false (see the file's header). */
  applyBDecToInput?: boolean;
}

/** Whether `p` is one Qwen Scope layer file. */
export function isQwenScopeFile(p: string): boolean {
  return QWEN_SCOPE_FILE.test(path.basename(p)) && existsSync(p) && statSync(p).isFile();
}

/** The Qwen Scope layer files of a folder (a downloaded repo), for the error that asks for one of them. */
export function qwenScopeLayerFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => QWEN_SCOPE_FILE.test(f));
  } catch {
    return [];
  }
}

export async function loadQwenScope(file: string, options: LoadQwenScopeOptions = {}): Promise<Sae> {
  const layer = Number(QWEN_SCOPE_FILE.exec(path.basename(file))?.[1]);
  const sd = readTorchStateDict(file);
  const get = (name: string): TorchTensor => {
    const t = sd.get(name);
    if (t === undefined)
      throw new SaeError("FORMAT_INVALID", `${file}: no "${name}" (has: ${[...sd.keys()].join(", ")})`, {
        file,
        field: name,
      });
    return t;
  };
  const enc = get("W_enc");
  if (enc.shape.length !== 2)
    throw new SaeError("SHAPE_MISMATCH", `${file}: "W_enc" has shape [${enc.shape}], expected [d_sae, d_in]`, {
      file,
      field: "W_enc",
      got: enc.shape,
    });
  const [dSae, dIn] = enc.shape as [number, number];
  const f32 = (name: string, shape: number[]): Float32Array => {
    const t = get(name);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw new SaeError(
        "SHAPE_MISMATCH",
        `${file}: "${name}" has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}] (W_enc is [${dSae}, ${dIn}])`,
        { file, field: name, expected: shape, got: t.shape },
      );
    return t.values instanceof Float32Array ? t.values : Float32Array.from(t.values);
  };
  const k = options.k ?? kFromPath(file);
  if (k === null)
    throw new SaeError(
      "FORMAT_INVALID",
      `${file}: no k — the path does not name the repo (…-L0_{k}) and no k option was given`,
      { file, field: "k", fix: "pass { k } (the repo name's L0_ number)" },
    );
  return new Sae(
    {
      dIn,
      dSae,
      activation: { kind: "topk", k },
      applyBDecToInput: options.applyBDecToInput ?? false,
      hookName: `blocks.${layer}.hook_resid_post`,
    },
    {
      wEnc: f32("W_enc", [dSae, dIn]),
      bEnc: f32("b_enc", [dSae]),
      wDec: transpose(f32("W_dec", [dIn, dSae]), dIn, dSae),
      bDec: f32("b_dec", [dIn]),
    },
  );
}

/** k from a `SAE-Res-…-L0_{k}` component of the path (a repo folder or its Hub cache name), else null. */
function kFromPath(file: string): number | null {
  const m = /SAE-Res-[^/\\]*-L0_(\d+)(?:[/\\]|$)/.exec(path.resolve(file));
  return m === null ? null : Number(m[1]);
}
