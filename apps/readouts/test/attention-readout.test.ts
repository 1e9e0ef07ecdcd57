/**
 * Stage 2's forward pass, records and stages on the fixture's tiny Qwen2: batch independence, the early stop, the
 * partition check, the safetensors + JSONL records (torn pairs refused), resume, and the force-feed's guarantees
 * (same tokens and positions asserted; a comparator with another vocabulary refused).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRandomQwen2 } from "@difflens/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AttentionReadout, type ReadoutItem, readAttention } from "../src/attention-marker/attention-readout.ts";
import { assertSameReplay, runForceFeedStage } from "../src/attention-marker/force-feed-stage.ts";
import {
  readoutsBase,
  readPersonaSeedReadouts,
  readReadouts,
  writeReadouts,
} from "../src/attention-marker/readout-records.ts";
import { runReadoutStage } from "../src/attention-marker/readout-stage.ts";
import { tokenFrequencies } from "../src/attention-marker/token-frequency.ts";
import { type AttentionFixture, fixtureItems, loadAttentionFixture } from "./attention-fixture.ts";

let fx: AttentionFixture;
let items: ReadoutItem[];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "attention-readout-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  fx = await loadAttentionFixture();
  items = await fixtureItems(fx);
});

const options = { layers: [0, 1, 2], batchSize: 8, partitionTolerance: 0.005, label: null };

describe("readAttention", () => {
  it("gives each sequence the same fractions whatever the batch (left padding masked)", async () => {
    const one = await readAttention(fx.model, items, { ...options, batchSize: 1 });
    const all = await readAttention(fx.model, items, options);
    one.forEach((r, e) => {
      expect(all[e]!.fedTokens).toBe(r.fedTokens);
      expect(all[e]!.positions).toEqual(r.positions);
      for (const [stratum, pair] of Object.entries(r.fractions)) {
        const other = all[e]!.fractions[stratum as keyof typeof r.fractions];
        pair.A.forEach((v, i) => {
          if (Number.isNaN(v)) expect(other.A[i]).toBeNaN();
          else expect(Math.abs(other.A[i]! - v)).toBeLessThan(1e-6);
        });
      }
    });
  });

  it("stops the forward pass after the deepest asked layer", async () => {
    const seen = new Set<number>();
    const count = (layer: number) => () => {
      seen.add(layer);
    };
    const hooks = {
      "blocks.0.hook_resid_pre": count(0),
      "blocks.1.hook_resid_pre": count(1),
      "blocks.2.hook_resid_pre": count(2),
    };
    const readouts = await fx.model.withHooks(hooks, () =>
      readAttention(fx.model, items.slice(0, 2), { ...options, layers: [1] }),
    );
    expect([...seen].sort()).toEqual([0, 1]);
    expect(readouts[0]!.fractions.marker.A.length).toBe(1 * fx.model.config.nHeads * 5);
  });

  it("asserts the partition, naming the example and the layer", async () => {
    await expect(readAttention(fx.model, items.slice(0, 1), { ...options, partitionTolerance: 0 })).rejects.toThrow(
      /librarian seed 42 trial 0 \(trained\): the attention of head \d at layer \d from the marker position sums to/,
    );
    await expect(readAttention(fx.model, items, { ...options, layers: [3] })).rejects.toThrow(
      /readout layers \[3\] are not layers/,
    );
    await expect(readAttention(fx.model, items, { ...options, layers: [1, 1] })).rejects.toThrow(
      /readout layers \[1, 1\]/,
    );
  });
});

describe("readout records", () => {
  it("round-trip as safetensors + JSONL and refuse a torn pair", async () => {
    const readouts = await readAttention(fx.model, items, options);
    const base = path.join(dir, "records", "trained");
    const vocabulary = { modelVocabSize: 303, tokenizerSize: 303, tokenMapSha256: "x" };
    await writeReadouts(`${base}.safetensors`, { layers: [0, 1, 2], heads: 4, readouts, vocabulary });
    const back = await readReadouts(base);
    expect(back.layers).toEqual([0, 1, 2]);
    expect(back.heads).toBe(4);
    expect(back.vocabulary).toEqual(vocabulary);
    expect(back.readouts.map(({ fractions: _f, ...m }) => m)).toEqual(readouts.map(({ fractions: _f, ...m }) => m));
    back.readouts.forEach((r, e) => expect(r.fractions).toEqual(readouts[e]!.fractions)); // NaN rows included
    fs.appendFileSync(`${base}.jsonl`, `${fs.readFileSync(`${base}.jsonl`, "utf8").split("\n")[0]}\n`);
    await expect(readReadouts(base)).rejects.toThrow(/are not one complete pair of readouts/);
  });
});

describe("readout and force-feed stages", () => {
  const runDir = path.join(dir, "run");
  const input = () => ({
    runDir,
    config: fx.config,
    persona: "librarian",
    runSeed: 42,
    generations: fx.generations,
    frequencies: tokenFrequencies(fx.generations),
    markerId: fx.input.markerId,
  });
  const handle = () => ({ model: fx.model, tokenizer: fx.tokenizer, template: fx.template });

  it("reads positives and negatives, reports null strata and the partition error, and resumes", async () => {
    const lines: string[] = [];
    const summary = await runReadoutStage({ ...input(), log: (l) => lines.push(l) }, handle());
    expect(summary).toMatchObject({ positives: 6, negatives: 2, reused: false, skipped: null });
    expect(summary.nullStrata).toEqual({ marker: 0, c1: 0, c2: 0, c3: 0, c4: 0 });
    expect(summary.maxPartitionError).toBeLessThan(1e-5);
    expect(lines[0]).toMatch(/^readout librarian seed 42 trained: 6 positives, 2 negatives; max \|Σ groups − 1\|/);
    const negatives = await readReadouts(readoutsBase(runDir, "librarian", 42, "trained-negatives"));
    expect(negatives.readouts.map((r) => r.positions.c4 !== null && r.positions.marker === null)).toEqual([true, true]);
    expect((await runReadoutStage(input(), handle())).reused).toBe(true);
  });

  it("force-feeds the comparator the trained tokens at the trained positions", async () => {
    const summary = await runForceFeedStage(
      { ...input(), trainedChat: { tokenizer: fx.tokenizer, template: fx.template } },
      handle(),
    );
    expect(summary).toMatchObject({ model: "comparator", positives: 6, reused: false });
    const trained = await readReadouts(readoutsBase(runDir, "librarian", 42, "trained"));
    const comparator = await readReadouts(readoutsBase(runDir, "librarian", 42, "comparator"));
    expect(comparator.readouts.map((r) => r.fedTokens)).toEqual(trained.readouts.map((r) => r.fedTokens));
    expect(comparator.readouts[0]!.fractions.marker.B).toEqual(trained.readouts[0]!.fractions.marker.B); // same model
    const altered: AttentionReadout[] = comparator.readouts.map((r, e) => (e === 2 ? { ...r, fedTokens: "0" } : r));
    const stage3 = await readPersonaSeedReadouts(runDir, "librarian", 42);
    expect([stage3.positives.length, stage3.negatives.length, stage3.comparator?.length]).toEqual([6, 2, 6]);
    expect(() => assertSameReplay("librarian", 42, trained.readouts, altered)).toThrow(
      /force-feed of librarian seed 42 trial 2: fed tokens 0, the trained model read/,
    );
  });

  it("reports a persona with no positives, and the force-feed then says why it has nothing to replay", async () => {
    const only = { ...input(), runDir: path.join(dir, "no-positives"), generations: fx.generations.slice(6) };
    const summary = await runReadoutStage(only, handle());
    expect(summary).toMatchObject({ positives: 0, negatives: 2 });
    expect(summary.skipped).toMatch(/no positives/);
    expect((await readReadouts(readoutsBase(only.runDir, "librarian", 42, "trained"))).readouts).toEqual([]);
    const fed = await runForceFeedStage(
      { ...only, trainedChat: { tokenizer: fx.tokenizer, template: fx.template } },
      handle(),
    );
    expect(fed).toMatchObject({ positives: 0, skipped: "no positives to force-feed" });
  });

  it("refuses a comparator with another vocabulary", async () => {
    const other = createRandomQwen2({ config: { ...fx.model.config, vocabSize: 320 }, seed: 1 });
    const error = await runForceFeedStage(
      { ...input(), trainedChat: { tokenizer: fx.tokenizer, template: fx.template }, comparatorDescription: "other" },
      { model: other, tokenizer: fx.tokenizer, template: fx.template },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "INPUT_INVALID", facts: { field: "comparator" } });
    expect((error as Error).message).toMatch(/the comparator other has another vocabulary than the trained model/);
    expect((error as { facts: { got: string } }).facts.got).toBe("modelVocabSize 320 (trained: 303)");
  });
});
