import { toFloat32Array } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import { createRandomQwen2, InputError, leftPad } from "../src/index.ts";
import { relErr } from "./helpers.ts";

// Two left-padded prompts of different lengths, then several one-token continuations from the same cached prefix.
const PROMPTS = [
  [5, 9, 2, 33, 17],
  [8, 40, 12],
];
const STEPS = [
  [7, 21],
  [30, 3],
];

describe("KvCache.truncate", () => {
  const model = createRandomQwen2({
    config: { vocabSize: 64, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 48 },
    seed: 5,
  });

  it("reruns a step from the same prefix: each continuation equals its full recompute", async () => {
    const kv = model.createKvCache(2, 8);
    await model.forward(leftPad(PROMPTS), { kvCache: kv, logits: "last" });
    const prefix = kv.length;
    const positions = Array.from(kv.nextPosition);
    for (const step of STEPS) {
      const cached = await model.forward(
        step.map((t) => [t]),
        { kvCache: kv, logits: "last" },
      );
      kv.truncate(prefix);
      expect(Array.from(kv.nextPosition)).toEqual(positions);
      const full = await model.forward(leftPad(PROMPTS.map((p, b) => [...p, step[b]!])), { logits: "last" });
      expect(relErr(toFloat32Array(cached), toFloat32Array(full))).toBeLessThan(1e-5);
    }
  });

  it("refuses a length beyond what is stored", async () => {
    const kv = model.createKvCache(1, 4);
    await model.forward([1, 2], { kvCache: kv });
    expect(() => kv.truncate(3)).toThrow(InputError);
    expect(() => kv.truncate(-1)).toThrow(/outside \[0, 2\]/);
  });
});
