/**
 * Every method's headline directions in one place, read back from the method folders (so a reused folder counts
 * like a fresh one):
 *   directions.safetensors   `<method>/<label>` F32 [dIn], unit — e.g. adl/leading, diff-sae/latent-12,
 *                            crosscoder-batchtopk/latent-301, stagewise/latent-7, stagewise/leading-change
 *   directions.json          { dIn, directions: [{ name, method, label, detail }] } in the same order
 * Per method: ADL's leading direction; the diff-SAE's top latents (by mass); each crosscoder's scored latents of
 * highest relative norm (chat decoder); the stage-wise ranking's top latents (MF decoder) and its leading change.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeJsonAtomic } from "@difflens/common";
import { openSafetensors, Tensor, toFloat32Array, writeSafetensors } from "@difflens/tensor";

export interface HeadlineDirection {
  readonly name: string;
  /** The method's folder name (adl, diff-sae, crosscoder-batchtopk, crosscoder-l1, stagewise). */
  readonly method: string;
  readonly label: string;
  readonly detail: Record<string, unknown>;
  readonly direction: Float32Array;
}

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));

/** Rows of a [n, dIn] tensor (or the one [dIn] vector) of a safetensors file. */
async function rows(file: string, name: string): Promise<Float32Array[]> {
  const f = await openSafetensors(file);
  try {
    const t = f.get(name);
    const data = toFloat32Array(t).slice();
    const d = t.shape[t.shape.length - 1]!;
    return Array.from({ length: data.length / d }, (_, i) => data.subarray(i * d, (i + 1) * d));
  } finally {
    f.close();
  }
}

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v) || 1;
  return Float32Array.from(v, (x) => x / n);
}

/** Headline directions of the methods present in `runDir` (folders named as in methods.json). */
export async function collectDirections(runDir: string, topLatents: number): Promise<HeadlineDirection[]> {
  const out: HeadlineDirection[] = [];
  const has = (...p: string[]) => fs.existsSync(path.join(runDir, ...p));
  const add = (method: string, label: string, detail: Record<string, unknown>, direction: Float32Array) =>
    out.push({ name: `${method}/${label}`, method, label, detail, direction: unit(direction) });

  if (has("adl", "adl.json")) {
    const adl = readJson(path.join(runDir, "adl", "adl.json"));
    const [leading] = await rows(path.join(runDir, "adl", adl.leading.file), "direction");
    add("adl", "leading", { explained: adl.leading.explained }, leading!);
  }
  if (has("diff-sae", "top-latents.json")) {
    const top = readJson(path.join(runDir, "diff-sae", "top-latents.json"));
    const dirs = await rows(path.join(runDir, "diff-sae", "top-latents.safetensors"), "directions");
    top.latents.slice(0, topLatents).forEach((l: { latent: number } & Record<string, unknown>, i: number) => {
      const { latent, ...detail } = l;
      add("diff-sae", `latent-${latent}`, { latent, ...detail }, dirs[i]!);
    });
  }
  for (const kind of ["batchtopk", "l1"]) {
    const method = `crosscoder-${kind}`;
    if (!has(method, "analysis.json")) continue;
    const analysis = readJson(path.join(runDir, method, "analysis.json"));
    const dirs = await rows(path.join(runDir, method, "latents.safetensors"), "chat_directions");
    const scored = (analysis.latents as { latent: number; relativeNorm: number }[]).map((l, i) => ({ l, i }));
    scored.sort((a, b) => b.l.relativeNorm - a.l.relativeNorm || a.l.latent - b.l.latent);
    for (const { l, i } of scored.slice(0, topLatents)) add(method, `latent-${l.latent}`, { ...l }, dirs[i]!);
  }
  if (has("stagewise", "top-latents.json")) {
    const top = readJson(path.join(runDir, "stagewise", "top-latents.json"));
    const file = path.join(runDir, "stagewise", "top-latents.safetensors");
    const dirs = await rows(file, "directions");
    top.latents.slice(0, topLatents).forEach((l: { latent: number }, i: number) => {
      add("stagewise", `latent-${l.latent}`, { ...l }, dirs[i]!);
    });
    const [lead] = await rows(file, "leading_change");
    add("stagewise", "leading-change", { explained: top.leadingChange.explained }, lead!);
  }
  return out;
}

/** Writes directions.safetensors and directions.json into `runDir`. */
export async function writeDirections(runDir: string, directions: readonly HeadlineDirection[]): Promise<void> {
  const dIn = directions[0]?.direction.length ?? 0;
  await writeSafetensors(
    path.join(runDir, "directions.safetensors"),
    Object.fromEntries(directions.map((d) => [d.name, new Tensor("f32", [dIn], d.direction)])),
    { format: "difflens-methods-directions" },
  );
  writeJsonAtomic(path.join(runDir, "directions.json"), {
    dIn,
    directions: directions.map(({ direction: _d, ...rest }) => rest),
  });
}
