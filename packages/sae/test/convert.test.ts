import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Tensor } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { convertSae } from "../src/formats/convert.ts";
import { loadSae } from "../src/formats/formats.ts";

const root = mkdtempSync(path.join(tmpdir(), "difflens-sae-convert-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("convertSae", () => {
  it("converts dictionary_learning ae.pt once to sparsify and SAELens folders with the same top-k function", async () => {
    const src = new URL("./fixtures/dictionary-learning", import.meta.url).pathname;
    const orig = await loadSae(src, { batchTopKUseThreshold: false });
    const x = new Tensor("f32", [5, 16], Float32Array.from({ length: 80 }, (_, i) => Math.cos(i * 0.37) * 2));
    for (const to of ["sparsify", "saelens"] as const) {
      const info = await convertSae(src, path.join(root, to), to);
      expect(info).toMatchObject({ from: "dictionary_learning", to, dIn: 16, dSae: 64, k: 4 });
      const back = await loadSae(path.join(root, to));
      expect(Array.from(back.forward(x).data as Float32Array)).toEqual(Array.from(orig.forward(x).data as Float32Array));
    }
  });
});
