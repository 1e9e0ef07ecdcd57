/**
 * Shared parity checks for the Llama-style families' float64 fixtures (tools/reference/llama, tools/reference/qwen3):
 * logits and every recorded hook within 1e-4 relative, and each fixture's `ablated.<quirk>` logits far from the
 * expected ones (the fixture provably exercises the quirk the runtime matches).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensors, type Tensor, toFloat32Array, useBackend } from "@difflens/tensor";
import { expect, it } from "vitest";
import { generate, loadModel } from "../src/index.ts";
import { ids2d, relErr } from "./helpers.ts";

export const TOL = 1e-4;
/** How far an ablated forward must land from the expected logits to count as "breaks the match". */
export const BROKEN = 0.05;

export interface Manifest {
  cases: Record<
    string,
    { dtype: string; tied: boolean; gqa: boolean; rope_scaling: string | null; ablations: string[] }
  >;
  seq_lens: number[];
}

export function fixtureRoot(family: string): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", family);
}

export function readManifest(family: string): Manifest {
  return JSON.parse(fs.readFileSync(path.join(fixtureRoot(family), "manifest.json"), "utf8")) as Manifest;
}

export async function readFixture(family: string, file: string): Promise<Record<string, Tensor>> {
  return (await readSafetensors(path.join(fixtureRoot(family), file))).tensors;
}

/** One `it` per case: logits and every hook of every sequence length within TOL of the reference. */
export function parityCases(family: string, backend: "js" | "native"): void {
  const manifest = readManifest(family);
  for (const [name, info] of Object.entries(manifest.cases)) {
    const label = `${name} (${info.gqa ? "GQA" : "MHA"}, ${info.tied ? "tied" : "untied"}, ${info.dtype}${info.rope_scaling ? `, rope ${info.rope_scaling}` : ""})`;
    it(`${label}: logits and every hook at seq ${manifest.seq_lens.join("/")}`, async () => {
      useBackend(backend);
      const model = await loadModel(path.join(fixtureRoot(family), name));
      expect(model.config.architecture).toBe(family);
      expect(model.dtype).toBe(info.dtype === "BF16" ? "bf16" : "f32");
      expect(model.weights.lmHead === model.weights.embedTokens).toBe(info.tied);
      for (const seq of manifest.seq_lens) {
        const expected = await readFixture(family, `${name}/expected-seq${seq}.safetensors`);
        const names = Object.keys(expected).filter((k) => k.includes("hook_"));
        expect(names.length).toBeGreaterThan(model.config.nLayers + 10);
        const { logits, cache } = await model.runWithCache(ids2d(expected.input_ids!), { names });
        const errors: Record<string, number> = { logits: relErr(logits!, expected.logits!) };
        for (const n of names) {
          expect(cache.get(n).shape, n).toEqual(expected[n]!.shape);
          errors[n] = hookErr(n, cache.get(n), expected[n]!);
        }
        for (const [n, e] of Object.entries(errors)) expect(e, `${name} seq ${seq} ${n}`).toBeLessThan(TOL);
      }
      model.close();
    });
  }
}

/** A hook's error against its reference: relative, or for attention scores `scoresErr`. */
export function hookErr(name: string, ours: Tensor, expected: Tensor): number {
  return name.endsWith("hook_attn_scores") ? scoresErr(ours, expected) : relErr(ours, expected);
}

/** Attention scores: the same entries masked (−∞), relative error over the rest (Infinity when a mask differs). */
function scoresErr(ours: Tensor, expected: Tensor): number {
  const a = toFloat32Array(ours);
  const b = toFloat32Array(expected);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < b.length; i++) {
    if (Number.isFinite(a[i]!) !== Number.isFinite(b[i]!)) return Number.POSITIVE_INFINITY;
    if (Number.isFinite(b[i]!)) {
      x.push(a[i]!);
      y.push(b[i]!);
    }
  }
  return relErr(x, y);
}

/** Each fixture's reference-side ablations (quirk off in the float64 forward) are far from its expected logits. */
export function ablationCases(family: string): void {
  const manifest = readManifest(family);
  const longest = Math.max(...manifest.seq_lens);
  for (const [name, info] of Object.entries(manifest.cases)) {
    it(`${name}: switching off ${info.ablations.join(", ")} in the reference breaks the match`, async () => {
      const expected = await readFixture(family, `${name}/expected-seq${longest}.safetensors`);
      expect(info.ablations.length).toBeGreaterThan(0);
      for (const quirk of info.ablations) {
        const ablated = expected[`ablated.${quirk}`];
        expect(ablated, quirk).toBeDefined();
        expect(relErr(ablated!, expected.logits!), quirk).toBeGreaterThan(BROKEN);
      }
    });
  }
}

/**
 * A copy of a fixture folder (weights linked) whose config.json is edited: how a test switches a quirk off in the
 * runtime itself. Returns the folder; the caller removes it.
 */
export function editedFixture(family: string, name: string, edit: (cfg: Record<string, unknown>) => void): string {
  const src = path.join(fixtureRoot(family), name);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `difflens-${family}-`));
  const cfg = JSON.parse(fs.readFileSync(path.join(src, "config.json"), "utf8")) as Record<string, unknown>;
  edit(cfg);
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(cfg));
  fs.symlinkSync(path.join(src, "model.safetensors"), path.join(dir, "model.safetensors"));
  return dir;
}

/** Logits of the fixture's longest sequence through a (possibly edited) folder, and the expected ones. */
export async function longestLogits(
  family: string,
  name: string,
  folder: string,
): Promise<{ ours: Tensor; expected: Tensor }> {
  const manifest = readManifest(family);
  const expected = await readFixture(family, `${name}/expected-seq${Math.max(...manifest.seq_lens)}.safetensors`);
  const model = await loadModel(folder);
  const { logits } = await model.runWithCache(ids2d(expected.input_ids!), { names: [] });
  model.close();
  return { ours: logits!, expected: expected.logits! };
}

/** Greedy generation with the KV cache equals full recomputation (tokens, 1e-5 logits), batched with left padding. */
export function kvCacheCase(family: string, name: string): void {
  it(`${name}: KV-cache generation equals full recomputation (batched, left-padded)`, async () => {
    useBackend("js");
    const model = await loadModel(path.join(fixtureRoot(family), name));
    const prompts = [
      [5, 9, 2, 33, 7],
      [17, 8],
      [40, 41, 42],
    ];
    const cfg = { maxNewTokens: 6, stopTokens: [], returnLogits: true };
    const withKv = await generate(model, prompts, cfg);
    const without = await generate(model, prompts, { ...cfg, useKvCache: false });
    expect(withKv.tokens).toEqual(without.tokens);
    expect(relErr(withKv.stepLogits!, without.stepLogits!)).toBeLessThan(1e-5);
    model.close();
  });
}
