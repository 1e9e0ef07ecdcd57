import { createRandomQwen2, harvest, type Model } from "@difflens/runtime";
import { Sae } from "@difflens/sae";
import { Rng, useBackend } from "@difflens/tensor";
import { loadTokenizer, type Tokenizer } from "@difflens/tokenizer";
import { beforeAll, describe, expect, it } from "vitest";
import { type ContextWindow, featurePage, type LatentExamples, maxActivatingContexts } from "../src/index.ts";
import { QWEN_TOKENIZER, TINY_QWEN2 } from "./helpers.ts";

const HOOK = "blocks.1.hook_resid_pre";
const D_SAE = 24;
let model: Model;
let tokenizer: Tokenizer;
let sae: Sae;
let windows: ContextWindow[];

beforeAll(() => {
  useBackend("auto");
  model = createRandomQwen2({ config: TINY_QWEN2, seed: 3 });
  tokenizer = loadTokenizer(QWEN_TOKENIZER);
  const rng = new Rng(4);
  const normal = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  sae = new Sae(
    { dIn: 16, dSae: D_SAE, activation: { kind: "topk", k: 4 } },
    { wEnc: normal(D_SAE * 16), bEnc: new Float32Array(D_SAE), wDec: normal(D_SAE * 16), bDec: new Float32Array(16) },
  );
  // Windows of different real lengths, right-padded to 12; position 0 never counts (as a masked special would).
  windows = [12, 7, 3, 10, 5].map((length) => {
    const ids = new Int32Array(12).fill(151643);
    for (let p = 0; p < length; p++) ids[p] = 100 + rng.int(5000);
    const mask = Uint8Array.from({ length: 12 }, (_, p) => (p > 0 && p < length ? 1 : 0));
    return { ids, mask, length };
  });
}, 60_000);

/** Per latent, per window: the max over counting positions, from one unpadded forward pass per window. */
async function reference(latents: readonly number[]) {
  const best = latents.map(() => new Map<number, { value: number; pos: number }>());
  let scanned = 0;
  const active = latents.map(() => 0);
  for (const [wi, w] of windows.entries()) {
    for await (const rows of harvest(model, HOOK, [{ ids: [Array.from(w.ids.subarray(0, w.length))] }])) {
      const codes = sae.encode(rows);
      for (let pos = 0; pos < w.length; pos++) {
        if (!w.mask[pos]) continue;
        scanned++;
        for (let p = codes.indptr[pos]!; p < codes.indptr[pos + 1]!; p++) {
          const s = latents.indexOf(codes.indices[p]!);
          if (s < 0) continue;
          active[s]!++;
          const cur = best[s]!.get(wi);
          if (!cur || codes.values[p]! > cur.value) best[s]!.set(wi, { value: codes.values[p]!, pos });
        }
      }
    }
  }
  return { best, density: active.map((a) => a / scanned) };
}

describe("max-activating contexts", () => {
  it("batched, padded windows give the maxima of single passes, best first, with the span around them", async () => {
    const latents = [0, 5, 11, 23];
    const got = await maxActivatingContexts({
      model,
      sae,
      hook: HOOK,
      tokenizer,
      windows,
      latents,
      contexts: 3,
      radius: 2,
      windowsPerForward: 2,
    });
    const want = await reference(latents);
    expect(got.map((l) => l.latent)).toEqual(latents);
    expect(got.every((l) => l.examples.length > 0)).toBe(true);
    got.forEach((l: LatentExamples, s) => {
      const expected = [...want.best[s]!.entries()].sort((a, b) => b[1].value - a[1].value).slice(0, 3);
      expect(l.examples.map((e) => e.window)).toEqual(expected.map(([wi]) => wi));
      expect(l.density).toBeCloseTo(want.density[s]!, 10);
      for (const [i, e] of l.examples.entries()) {
        const { value, pos } = expected[i]![1];
        expect(e.maxValue).toBeCloseTo(value, 4);
        expect(e.values[e.maxPosition]).toBeCloseTo(value, 3); // second pass, rounded to 1e-4
        expect(e.tokenIds[e.maxPosition]).toBe(windows[e.window]!.ids[pos]);
        expect(e.tokens.length).toBe(e.tokenIds.length);
        expect(e.tokenIds.length).toBeLessThanOrEqual(5);
        if (i > 0) expect(e.maxValue).toBeLessThanOrEqual(l.examples[i - 1]!.maxValue);
      }
      expect(l.maxValue).toBe(l.examples[0]?.maxValue ?? 0);
    });
  });
});

describe("feature page", () => {
  it("renders one column per side, notes, numbers and escaped tokens", () => {
    const examples: LatentExamples = {
      latent: 3,
      density: 0.0123,
      maxValue: 2,
      examples: [
        { window: 4, tokens: ["<b>", "\n", "x"], tokenIds: [1, 2, 3], values: [0, 2, 1], maxValue: 2, maxPosition: 1 },
      ],
    };
    const silent = { ...examples, examples: [] };
    const html = featurePage({
      title: "T & co",
      subtitle: "sub",
      figureSvg: "<svg/>",
      columns: ["base side", "chat side", "third"],
      latents: [{ latent: 3, note: "rank 1", stats: { "cos(a,b)": 0.5, broken: NaN }, examples: [examples, silent] }],
    });
    expect(html).toContain("<title>T &amp; co</title>");
    expect(html).toContain("<h2>Latent 3 <small>rank 1</small></h2>");
    expect(html).toContain("cos(a,b) = 0.500 · broken = NaN");
    expect(html).toContain("grid-template-columns:repeat(3,1fr)");
    expect(html).toContain("&lt;b&gt;");
    const style = "background:rgba(255,120,0,1.000)";
    expect(html).toContain(`<span class="tok max" style="${style}" title="&quot;\\n&quot; 2.000">↵</span>`);
    expect(html).toContain("density 1.23%");
    expect(html).toContain("never active on the scanned windows");
    expect(html).toContain("<h3>third</h3><p><i>not computed</i></p>");
    expect(html).toContain('<div class="scatter"><svg/></div>');
  });
});
