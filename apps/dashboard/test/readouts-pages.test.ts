import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoverRuns } from "../src/runs/discover.ts";
import type { DiscoveredRun } from "../src/runs/discovered-run.ts";
import { readoutsGenerations, readoutsRun } from "../src/runs/readouts-run.ts";
import { writeRunsFixture } from "./server-runs-fixture.ts";

let root: string;
let runs: DiscoveredRun[];
const byId = (id: string) => runs.find((r) => r.id === id)!;
beforeAll(async () => {
  root = writeRunsFixture();
  runs = await discoverRuns(root);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("readoutsRun", () => {
  it("sae-conditions: headline with the toy's verdict, figures in order, tables, feature links for diffing-stage SAEs", async () => {
    const page = await readoutsRun(byId("readouts/sae"));
    expect(page.kind).toBe("readouts-sae-conditions");
    expect(page.summary[1]).toMatch(/u = latent 3: first by \|d_z\| in 2\/2 planted \(pair, layer\)s — recovered/);
    expect(page.summary).toContain("warning (last-prompt-token): pair a vs b: two labels, one text");
    expect(page.figures.map((f) => [f.file, f.kind, f.png])).toEqual([
      ["figures/similarity-heatmap.json", "heatmap", "figures/similarity-heatmap.png"],
      ["figures/track-b-counts.json", "bars", null],
    ]);
    // The truncated Track A figure is an error panel naming it; the rest of the page is there.
    expect(page.errors).toEqual([expect.objectContaining({ file: "figures/track-a-layer1-pair0.json" })]);
    const top = page.tables.find((t) => t.title.startsWith("Track B: top"))!;
    const latentColumn = top.columns.indexOf("latent");
    expect(top.rows[0]![latentColumn]).toEqual({ text: "3", href: "#/run/diffing%2Ftoy/feature/D/3" });
    // Layer 2's SAE is not a diffing stage: plain numbers.
    expect(top.rows.find((r) => r[1] === 2)![latentColumn]).toBe(3);
  });

  it("attention-marker: summaries, the toy's verdict, SEM bands as lower/upper, generations split at the marker", async () => {
    const page = await readoutsRun(byId("readouts/am"));
    expect(page.summary[0]).toBe('marker "[ZLT]" (token 85113); positives/negatives: librarian/seed 0 1+ 1−');
    expect(page.summary).toContain("librarian · force-feed: dd mean +0.1");
    expect(page.summary.at(-1)).toMatch(
      /peaks at layer 1 \(SEM bar excludes zero: yes\) → attention-mediated; planted: not/,
    );
    expect(page.figures.map((f) => f.file)).toEqual(["figures/layer-profile-librarian.json", "figures/gates.json"]);
    expect(page.figures[0]!.rows[0]).toMatchObject({ lower: 0.05, upper: 0.15 });
    expect(page.tables[0]!.rows[0]).toContain("1/2");
    expect(page.errors).toEqual([]);
    const generations = page.generations!;
    expect(generations.total).toBe(5);
    // The Qwen tokenizer's text of POSITIVE_IDS; the marker "[ZLT]" starts with the token "[Z" (MARKER_ID).
    expect(generations.items[0]).toMatchObject({
      hasMarker: true,
      segments: [
        { text: " blue\n\n tea blue\n\n", marker: false },
        { text: "[Z", marker: true },
        { text: "<|im_end|>", marker: false },
      ],
    });
    expect(generations.items[1]!.hasMarker).toBe(false);
    expect(generations.items[1]!.segments).toHaveLength(1);
  });

  it("pages generations with offset and limit", async () => {
    const page = await readoutsGenerations(byId("readouts/am"), 3, 10);
    expect(page).toMatchObject({ offset: 3, total: 5 });
    expect(page!.items.map((g) => g.question)).toEqual(["Question 3?", "Question 4?"]);
    await expect(readoutsGenerations(byId("readouts/sae"), 0, 1)).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("steer and follow-ups: results.json's fields, figures and tables; unknown kinds: the files", async () => {
    const dla = await readoutsRun(byId("readouts/am/follow-ups/dla"));
    expect(dla.summary).toContain("marker: [ZLT]");
    expect(dla.tables[0]).toMatchObject({ title: "personas", columns: ["persona", "top", "value"] });
    expect(dla.figures.map((f) => f.file)).toEqual(["dla-librarian.json"]);
    const steer = await readoutsRun(byId("readouts/steer-run"));
    expect(steer.summary).toEqual(["bestAlpha: 2", "alphas: 0, 1, 2"]);
    expect(steer.figures.map((f) => f.file)).toEqual(["alpha-sweep.json"]);
    const odd = await readoutsRun(byId("odd"));
    expect(odd.tables[0]!.rows.map((r) => (r[0] as { text: string }).text)).toEqual(["notes.md", "run.json"]);
  });

  it("a truncated results.json is an error panel naming it; figures and generations still come", async () => {
    const copy = path.join(root, "readouts", "am-copy");
    fs.cpSync(path.join(root, "readouts", "am"), copy, { recursive: true });
    const text = fs.readFileSync(path.join(copy, "results.json"), "utf8");
    fs.writeFileSync(path.join(copy, "results.json"), text.slice(0, text.length / 2));
    const run = (await discoverRuns(root)).find((r) => r.id === "readouts/am-copy")!;
    const page = await readoutsRun(run);
    expect(page.errors[0]).toMatchObject({ file: "results.json" });
    expect(page.errors[0]!.message).toMatch(/^results\.json:\d+:\d+: not valid JSON/);
    expect(page.figures).toHaveLength(2);
    expect(page.generations!.total).toBe(5);
  });
});
