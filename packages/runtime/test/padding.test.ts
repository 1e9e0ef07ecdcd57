import * as path from "node:path";
import { useBackend } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import { leftPad, loadModel } from "../src/index.ts";
import { availableBackends, FIXTURES, ids2d, readExpected, relErr } from "./helpers.ts";

describe.each(availableBackends())("left-padded batches (%s backend)", (backend) => {
  it("match the float64 reference and per-sequence runs at real positions (1e-5)", async () => {
    useBackend(backend);
    const model = await loadModel(path.join(FIXTURES, "gqa-tied-bf16"));
    const exp = await readExpected("gqa-tied-bf16/padding.safetensors");
    const ids = ids2d(exp.input_ids!);
    const mask = ids2d(exp.attention_mask!);
    const last = `blocks.${model.config.nLayers - 1}.hook_resid_post`;
    let seenMaskInHook = false;
    const { logits, cache } = await model.withHooks(
      {
        [last]: (t, ctx) => {
          expect(t.shape).toEqual([4, 7, 32]);
          // the context maps padded indices back to real positions
          expect(Array.from(ctx.attentionMask.subarray(7, 14))).toEqual([0, 0, 0, 0, 1, 1, 1]);
          expect(Array.from(ctx.positionIds.subarray(7, 14))).toEqual([1, 1, 1, 1, 0, 1, 2]);
          seenMaskInHook = true;
        },
      },
      () => model.runWithCache({ ids, attentionMask: mask }, { names: [last] }),
    );
    expect(seenMaskInHook).toBe(true);
    const V = model.config.vocabSize;
    const D = model.config.dModel;
    const lg = logits!.data as Float32Array;
    const rp = cache.get(last).data as Float32Array;
    const refL = exp.logits!.data as Float32Array;
    const refR = exp[last]!.data as Float32Array;
    for (let b = 0; b < 4; b++) {
      const n = mask[b]!.reduce((s, x) => s + x, 0);
      const start = 7 - n;
      const alone = (await model.forward(ids[b]!.slice(start))).data as Float32Array;
      const mine = lg.subarray((b * 7 + start) * V, (b + 1) * 7 * V);
      expect(relErr(mine, alone), `row ${b} vs alone`).toBeLessThan(1e-5);
      expect(relErr(mine, refL.subarray((b * 7 + start) * V, (b + 1) * 7 * V)), `row ${b} vs reference`).toBeLessThan(
        1e-5,
      );
      expect(
        relErr(rp.subarray((b * 7 + start) * D, (b + 1) * 7 * D), refR.subarray((b * 7 + start) * D, (b + 1) * 7 * D)),
      ).toBeLessThan(1e-5);
    }
  });
  it("leftPad builds ids and masks; ragged batches, empty rows and bad masks are errors", async () => {
    useBackend(backend);
    const model = await loadModel(path.join(FIXTURES, "gqa-tied-bf16"));
    expect(leftPad([[1, 2, 3], [4]], 0)).toEqual({
      ids: [
        [1, 2, 3],
        [0, 0, 4],
      ],
      attentionMask: [
        [1, 1, 1],
        [0, 0, 1],
      ],
    });
    expect(() => leftPad([[1], []])).toThrow(/empty/);
    await expect(model.forward({ ids: [[1, 2]], attentionMask: [[0, 0]] })).rejects.toThrow(/no real tokens/);
    await expect(model.forward({ ids: [[1, 2]], attentionMask: [[1, 2]] })).rejects.toThrow(/expected 0 or 1/);
    await expect(
      model.forward({
        ids: [[1, 2]],
        attentionMask: [
          [1, 1],
          [1, 1],
        ],
      }),
    ).rejects.toThrow(/2 rows/);
  });
});
