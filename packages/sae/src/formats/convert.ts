import { SaeError } from "../errors.ts";
import { Sae } from "../sae.ts";
import { detectSaeFormat, type LoadSaeOptions, loadSae, writeSaeLens, writeSparsify } from "./formats.ts";

/**
 * Converts an SAE folder of any readable format into a sparsify folder (our base layout) or a SAELens
 * folder. TopK-family SAEs only (BatchTopK is written as TopK with its k: the threshold is dropped
 * and reported). Returns what was read and written.
 */
export async function convertSae(
  src: string,
  dst: string,
  to: "sparsify" | "saelens",
  opts: LoadSaeOptions = {},
): Promise<{ from: string; to: string; dIn: number; dSae: number; k: number; note?: string }> {
  const from = detectSaeFormat(src);
  const sae = await loadSae(src, { ...opts, batchTopKUseThreshold: false });
  const act = sae.activation;
  if (act.kind !== "topk" && act.kind !== "batchtopk") {
    throw new SaeError(
      "UNSUPPORTED_ARCHITECTURE",
      `${src}: only TopK-family SAEs convert to ${to}; this one is ${act.kind}`,
      { file: src },
    );
  }
  const topk = new Sae(
    { dIn: sae.dIn, dSae: sae.dSae, activation: { kind: "topk", k: act.k }, hookName: sae.hookName },
    sae.weights,
  );
  if (to === "sparsify") await writeSparsify(dst, topk);
  else await writeSaeLens(dst, topk);
  const note =
    act.kind === "batchtopk"
      ? `BatchTopK threshold ${act.threshold} not representable; written as per-row top-${act.k}`
      : undefined;
  return { from, to, dIn: sae.dIn, dSae: sae.dSae, k: act.k, ...(note ? { note } : {}) };
}
