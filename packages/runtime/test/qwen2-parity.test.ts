import * as fs from "node:fs";
import * as path from "node:path";
import { useBackend } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import { loadModel } from "../src/index.ts";
import { availableBackends, FIXTURES, ids2d, readExpected, relErr } from "./helpers.ts";

// Fixtures: tools/reference/qwen2/make_fixtures.py (float64 numpy reference written from the architecture spec).
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, "manifest.json"), "utf8")) as {
  cases: Record<string, { dtype: string; tied: boolean; gqa: boolean }>;
  seq_lens: number[];
};

const TOL = 1e-4;

describe.each(availableBackends())("Qwen2 forward vs float64 reference (%s backend)", (backend) => {
  for (const [name, info] of Object.entries(manifest.cases)) {
    it(`${name} (${info.gqa ? "GQA" : "MHA"}, ${info.tied ? "tied" : "untied"}, ${info.dtype}): logits and hooks at seq ${manifest.seq_lens.join("/")}`, async () => {
      useBackend(backend);
      const model = await loadModel(path.join(FIXTURES, name));
      expect(model.dtype).toBe(info.dtype === "BF16" ? "bf16" : "f32");
      expect(model.weights.lmHead === model.weights.embedTokens).toBe(info.tied);
      for (const seq of manifest.seq_lens) {
        const expected = await readExpected(`${name}/expected-seq${seq}.safetensors`);
        const names = Object.keys(expected).filter((k) => k !== "input_ids" && k !== "logits");
        expect(names.length).toBeGreaterThan(model.config.nLayers + 10);
        const { logits, cache } = await model.runWithCache(ids2d(expected.input_ids!), { names });
        const errors: Record<string, number> = { logits: relErr(logits!, expected.logits!) };
        for (const n of names) {
          expect(cache.get(n).shape).toEqual(expected[n]!.shape);
          errors[n] = relErr(cache.get(n), expected[n]!);
        }
        for (const [n, e] of Object.entries(errors)) expect(e, `${name} seq ${seq} ${n}`).toBeLessThan(TOL);
      }
      model.close();
    });
  }
});
