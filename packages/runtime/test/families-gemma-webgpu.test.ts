/**
 * The Gemma forward on webgpu against the float64 references: the Gemma 2 case (both soft-caps, sliding window,
 * query_pre_attn_scalar) and the Gemma 3 case (q/k norms, local/global RoPE with linear scaling via invFreq), each
 * plain with two hooks and as a left-padded batch. Small: lavapipe compiles each pipeline once, slowly.
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensors, toFloat32Array, useBackend } from "@difflens/tensor";
import { expect, it } from "vitest";
import { describeWebgpu } from "../../tensor/test/webgpu-available.ts";
import { loadModel } from "../src/index.ts";
import { ids2d, relErr } from "./helpers.ts";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const SEQ = 11;
const HOOKS = ["blocks.0.attn.hook_pattern", "blocks.1.hook_resid_post"];

describeWebgpu("Gemma 2 / Gemma 3 forward on webgpu vs float64 reference", () => {
  it.each(["gemma2", "gemma3"])(
    "%s gqa-tied-bf16: logits, two hooks and a left-padded batch within 1e-4",
    async (family) => {
      await useBackend("webgpu");
      const dir = path.join(ROOT, family, "gqa-tied-bf16");
      const model = await loadModel(dir);
      const want = (await readSafetensors(path.join(dir, `expected-seq${SEQ}.safetensors`))).tensors;
      const { logits, cache } = await model.runWithCache(ids2d(want.input_ids!), { names: HOOKS });
      expect(relErr(logits!, want.logits!)).toBeLessThan(1e-4);
      for (const n of HOOKS) expect(relErr(cache.get(n), want[n]!), n).toBeLessThan(1e-4);
      const pad = (await readSafetensors(path.join(dir, "padding.safetensors"))).tensors;
      const mask = ids2d(pad.attention_mask!);
      const got = toFloat32Array(await model.forward({ ids: ids2d(pad.input_ids!), attentionMask: mask }));
      const ref = toFloat32Array(pad.logits!);
      const V = model.config.vocabSize;
      for (const [b, m] of mask.entries()) {
        const from = (b * SEQ + m.indexOf(1)) * V;
        expect(relErr(got.subarray(from, (b + 1) * SEQ * V), ref.subarray(from, (b + 1) * SEQ * V))).toBeLessThan(1e-4);
      }
      model.close();
      useBackend("js");
    },
  );
});
