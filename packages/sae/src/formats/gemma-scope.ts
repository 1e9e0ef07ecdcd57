/**
 * Gemma Scope folders (google/gemma-scope-*: `layer_L/width_W/average_l0_N/params.npz`): an `np.savez` zip of
 * W_enc [dIn, dSae], W_dec [dSae, dIn], b_enc [dSae], b_dec [dIn], threshold [dSae] — a JumpReLU SAE whose encoder
 * does not subtract b_dec (pre = x·W_enc + b_enc; f = pre where pre > threshold, else 0; x̂ = f·W_dec + b_dec), as
 * SAELens's Gemma Scope loader reads it. The hook comes from the path when it names a Gemma Scope repo and a layer
 * (`gemma-scope-…-res` → blocks.L.hook_resid_post, `-mlp` → blocks.L.hook_mlp_out, `-att` → blocks.L.attn.hook_z).
 * The embedding SAEs (`…-res/embedding/…`, scaled by √d_model in SAELens) are not handled.
 */
import * as path from "node:path";
import { SaeError } from "../errors.ts";
import { Sae } from "../sae.ts";
import { transpose } from "./folder-io.ts";
import { type NpyArray, type ReadNpyOptions, readNpy } from "./npy.ts";
import { ZipArchive } from "./zip.ts";

export const GEMMA_SCOPE_FILE = "params.npz";

/** Every array of an `np.savez` / `np.savez_compressed` archive, by name (the entry name without `.npy`). */
export function readNpz(file: string, options: ReadNpyOptions = {}): Map<string, NpyArray> {
  return ZipArchive.openFile(file, (zip) => {
    const out = new Map<string, NpyArray>();
    for (const entry of zip.names()) {
      if (!entry.endsWith(".npy"))
        throw new SaeError("FORMAT_INVALID", `${file}: entry "${entry}" is not a .npy array`, { file, field: entry });
      const name = entry.slice(0, -".npy".length);
      out.set(name, readNpy(zip.read(entry), `${file}:${name}`, options));
    }
    return out;
  });
}

export interface LoadGemmaScopeOptions extends ReadNpyOptions {}

export async function loadGemmaScope(dir: string, options: LoadGemmaScopeOptions = {}): Promise<Sae> {
  const file = path.join(dir, GEMMA_SCOPE_FILE);
  const arrays = readNpz(file, options);
  const get = (name: string): NpyArray => {
    const a = arrays.get(name);
    if (a === undefined)
      throw new SaeError(
        "FORMAT_INVALID",
        `${file}: array "${name}" missing (has: ${[...arrays.keys()].join(", ") || "nothing"})`,
        { file, field: name },
      );
    return a;
  };
  const wEncArray = get("W_enc");
  if (wEncArray.shape.length !== 2)
    throw new SaeError("SHAPE_MISMATCH", `${file}: "W_enc" has shape [${wEncArray.shape}], expected [d_in, d_sae]`, {
      file,
      field: "W_enc",
      got: wEncArray.shape,
    });
  const [dIn, dSae] = wEncArray.shape as [number, number];
  const take = (name: string, shape: number[]): Float32Array => {
    const a = get(name);
    if (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i]))
      throw new SaeError(
        "SHAPE_MISMATCH",
        `${file}: "${name}" has shape [${a.shape.join(", ")}], expected [${shape.join(", ")}] (W_enc is [${dIn}, ${dSae}])`,
        { file, field: name, expected: shape, got: a.shape },
      );
    return a.values;
  };
  const weights = {
    wEnc: transpose(wEncArray.values, dIn, dSae),
    bEnc: take("b_enc", [dSae]),
    wDec: take("W_dec", [dSae, dIn]),
    bDec: take("b_dec", [dIn]),
  };
  const threshold = take("threshold", [dSae]);
  const extra = [...arrays.keys()].filter((k) => !["W_enc", "W_dec", "b_enc", "b_dec", "threshold"].includes(k));
  if (extra.length > 0)
    throw new SaeError("UNSUPPORTED_ARCHITECTURE", `${file}: unexpected arrays ${extra.join(", ")} (not Gemma Scope)`, {
      file,
      field: extra[0]!,
    });
  return new Sae(
    { dIn, dSae, activation: { kind: "jumprelu", threshold }, applyBDecToInput: false, hookName: gemmaScopeHook(dir) },
    weights,
  );
}

/** The TransformerLens hook a Gemma Scope path names, or null when the path does not say. */
export function gemmaScopeHook(dir: string): string | null {
  const p = path.resolve(dir).split(path.sep).join("/");
  const repo = /gemma-scope-[\w.-]*?-(res|mlp|att)(?:[-_/]|$)/.exec(p);
  const layer = /(?:^|\/)layer_(\d+)(?:\/|$)/.exec(p);
  if (repo === null || layer === null) return null;
  const site = { res: "hook_resid_post", mlp: "hook_mlp_out", att: "attn.hook_z" }[repo[1] as "res" | "mlp" | "att"];
  return `blocks.${layer[1]}.${site}`;
}
