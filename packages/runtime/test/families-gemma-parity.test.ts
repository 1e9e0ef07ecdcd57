/**
 * Gemma 2 and Gemma 3 (text) against their float64 numpy references (tools/reference/gemma2|gemma3/make_fixtures.py):
 * logits and EVERY hook of every layer within 1e-4 relative, a left-padded batch under sliding windows, and a KV-cache
 * continuation whose keys reach past the window.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensors, type Tensor, toFloat32Array, useBackend } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import { loadModel } from "../src/index.ts";
import { availableBackends, ids2d, relErr } from "./helpers.ts";

const TOL = 1e-4;
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

interface CaseInfo {
  readonly dtype: string;
  readonly tied: boolean;
  readonly seq: number;
}

function manifest(family: string): Record<string, CaseInfo> {
  return JSON.parse(fs.readFileSync(path.join(ROOT, family, "manifest.json"), "utf8")).cases;
}

async function expected(family: string, file: string): Promise<Record<string, Tensor>> {
  return (await readSafetensors(path.join(ROOT, family, file))).tensors;
}

/** Scores: the same -Infinity entries (causal + window), the finite ones within TOL. */
function scoresErr(got: Tensor, want: Tensor): number {
  const g = toFloat32Array(got);
  const w = toFloat32Array(want);
  const gf: number[] = [];
  const wf: number[] = [];
  for (let i = 0; i < w.length; i++) {
    if (Number.isFinite(w[i]!) !== Number.isFinite(g[i]!)) return Number.POSITIVE_INFINITY;
    if (Number.isFinite(w[i]!)) {
      gf.push(g[i]!);
      wf.push(w[i]!);
    }
  }
  return relErr(gf, wf);
}

/** Rows [from, to) of a [1, seq, vocab] (or [seq, vocab]) logits tensor. */
function rows(t: Tensor, from: number, to: number): Float32Array {
  const v = t.shape[t.shape.length - 1]!;
  return toFloat32Array(t).subarray(from * v, to * v);
}

for (const family of ["gemma2", "gemma3"]) {
  describe.each(availableBackends())(`${family} forward vs float64 reference (%s backend)`, (backend) => {
    for (const [name, info] of Object.entries(manifest(family))) {
      it(`${name}: logits and every hook, seq 1 and ${info.seq}; left padding; KV cache past the window`, async () => {
        useBackend(backend);
        const model = await loadModel(path.join(ROOT, family, name));
        expect(model.config.architecture).toBe(family);
        expect(model.dtype).toBe(info.dtype === "BF16" ? "bf16" : "f32");
        expect(model.weights.lmHead === model.weights.embedTokens).toBe(info.tied);

        const full = await expected(family, `${name}/expected-seq${info.seq}.safetensors`);
        const names = Object.keys(full).filter((k) => k !== "input_ids" && k !== "logits");
        expect(new Set(names)).toEqual(new Set(model.hookNames())); // the fixture covers every hook site
        const ids = ids2d(full.input_ids!);
        const { logits, cache } = await model.runWithCache(ids, { names });
        const errors: Record<string, number> = { logits: relErr(logits!, full.logits!) };
        for (const n of names) {
          expect(cache.get(n).shape, n).toEqual(full[n]!.shape);
          errors[n] = n.endsWith("hook_attn_scores")
            ? scoresErr(cache.get(n), full[n]!)
            : relErr(cache.get(n), full[n]!);
        }
        for (const [n, e] of Object.entries(errors)) expect(e, `${name} ${n}`).toBeLessThan(TOL);

        const one = await expected(family, `${name}/expected-seq1.safetensors`);
        const short = await model.runWithCache(ids2d(one.input_ids!), { filter: (n) => n.endsWith("hook_resid_post") });
        expect(relErr(short.logits!, one.logits!)).toBeLessThan(TOL);
        for (const [n, t] of Object.entries(one))
          if (n.endsWith("hook_resid_post")) expect(relErr(short.cache.get(n), t), n).toBeLessThan(TOL);

        // left padding: pads count in the window's distance (HF masks by cache position)
        const pad = await expected(family, `${name}/padding.safetensors`);
        const mask = ids2d(pad.attention_mask!);
        const padded = await model.forward({ ids: ids2d(pad.input_ids!), attentionMask: mask });
        const S = info.seq;
        for (const [b, m] of mask.entries()) {
          const start = m.indexOf(1);
          expect(
            relErr(rows(padded, b * S + start, (b + 1) * S), rows(pad.logits!, b * S + start, (b + 1) * S)),
          ).toBeLessThan(TOL);
        }

        // the padded batch again through the KV cache: padded prefill, then the last two tokens one at a time
        const padIds = ids2d(pad.input_ids!);
        const padKv = model.createKvCache(2, S);
        await model.forward(
          { ids: padIds.map((r) => r.slice(0, S - 2)), attentionMask: mask.map((r) => r.slice(0, S - 2)) },
          { kvCache: padKv },
        );
        for (let s = S - 2; s < S; s++) {
          const step = await model.forward(
            padIds.map((r) => [r[s]!]),
            { kvCache: padKv },
          );
          for (let b = 0; b < 2; b++)
            expect(
              relErr(rows(step, b, b + 1), rows(pad.logits!, b * S + s, b * S + s + 1)),
              `padded cached ${b} ${s}`,
            ).toBeLessThan(TOL);
        }

        // KV cache: a prefill shorter than the sequence, then one token at a time (keys beyond the window drop out)
        const kv = model.createKvCache(1, S);
        const prefill = 3;
        const first = await model.forward([ids[0]!.slice(0, prefill)], { kvCache: kv });
        expect(relErr(first, rows(full.logits!, 0, prefill))).toBeLessThan(TOL);
        for (let s = prefill; s < S; s++) {
          const step = await model.forward([[ids[0]![s]!]], { kvCache: kv });
          expect(relErr(step, rows(full.logits!, s, s + 1)), `${name} cached step ${s}`).toBeLessThan(TOL);
        }
        model.close();
      });
    }
  });
}
