/**
 * Hand-written run folders in the real file shapes (run.json, results.json, figure JSON, generations JSONL), small
 * enough to write per test file: a folder of runs for discovery, the readouts pages and the server's routes.
 *
 *   <root>/diffing/toy/                         a diffing run.json (dSae 32) with stages/D, no features/
 *   <root>/readouts/sae/                        sae-conditions: results.json, figures/, SAE of layer 1 = diffing/toy/stages/D
 *   <root>/readouts/am/                         attention-marker: results.json, figures/, generations/librarian/seed-0.jsonl
 *   <root>/readouts/am/follow-ups/dla/          a follow-up (results.json with format difflens-readouts-dla, no run.json)
 *   <root>/readouts/steer-run/                  steer (format difflens-readouts-steer) with alpha-sweep.json
 *   <root>/broken/                              run.json truncated
 *   <root>/odd/                                 an unknown format
 *   <root>/x/wandb/run-1/, node_modules/p/, .hidden/, diffing/toy/stages/D/checkpoints/   run.json files never listed
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { qwenTokenizerFile } from "@difflens/app-kit";

export const MARKER_ID = 85113;
/** The content of the file outside the served folder: no response may carry it. */
export const OUTSIDE_CONTENT = "bytes-outside-the-served-folder";
/** A positive from the readouts toy: " blue\n\n tea … [Z<|im_end|>" with t* at the marker. */
export const POSITIVE_IDS = [6303, 271, 15243, 6303, 271, MARKER_ID, 151645];
export const PROMPT_IDS = [151644, 8948, 198, 2610, 151645, 198, 151644, 77091, 198];

const write = (file: string, content: string | Buffer) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
};
const writeJson = (file: string, value: unknown) => write(file, `${JSON.stringify(value, null, 2)}\n`);

const runJson = (format: string, command: string, config: object, details: object = {}) => ({
  format,
  version: 1,
  createdAt: "2026-12-07T10:00:00.000Z",
  updatedAt: "2026-12-07T10:01:00.000Z",
  config,
  seed: 0,
  events: [{ command, startedAt: "2026-12-07T10:00:00.000Z", wallS: 1, details }],
});

const figure = (kind: string, title: string, rows: object[]) => ({
  kind,
  title,
  subtitle: null,
  note: null,
  dropped: [],
  xTitle: "layer",
  yTitle: null,
  rows,
});

/**
 * A fresh temp folder of runs; returns its path. `tokenizer: false` leaves the personas' model folder without a
 * tokenizer (the generations then show token ids and an error panel), sparing tests the Qwen tokenizer's load.
 */
export function writeRunsFixture(options: { tokenizer?: boolean } = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-runs-"));
  const diffing = path.join(root, "diffing", "toy");
  writeJson(
    path.join(diffing, "run.json"),
    runJson("difflens-diffing-run", "demo", { name: "toy", hook: "blocks.1.hook_resid_pre", sae: { dSae: 32, k: 4 } }),
  );
  writeJson(path.join(diffing, "stages", "D", "stage.json"), { stage: "D" });
  writeJson(path.join(diffing, "stages", "D", "checkpoints", "step-1", "run.json"), { format: "not-a-run" });

  const sae = path.join(root, "readouts", "sae");
  writeJson(
    path.join(sae, "run.json"),
    runJson(
      "difflens-readouts-run",
      "sae-conditions",
      {
        name: "sae",
        model: "../../models/base",
        saes: { "1": "../../diffing/toy/stages/D", "2": "../../models/sae-2" },
        layers: [1, 2],
        conditions: [{ label: "a" }, { label: "b" }],
      },
      { toy: { uLatent: 3, plantedCondition: "a" } },
    ),
  );
  const layer = (n: number) => ({
    layer: n,
    trackA: [
      { pair: ["a", "b"], chosen: [3], statistic: 2.5, nullMean: 0.1, pValue: 0.001, nPositive: 1, nNegative: 0 },
    ],
    trackB: [
      {
        pair: ["a", "b"],
        counts: { familywise: 2, perFeature: 3, degenerate: 0, inactive: 1, tested: 31 },
        allDegenerate: false,
        top: [
          { latent: 3, dz: 9.5, t: 40, meanDifference: 1.2, pFamilywise: 0.001, link: null },
          { latent: 7, dz: -1.5, t: -6, meanDifference: -0.2, pFamilywise: 0.01, link: null },
        ],
      },
    ],
  });
  writeJson(path.join(sae, "results.json"), {
    format: "difflens-sae-conditions-results",
    position: "last-prompt-token",
    positions: ["last-prompt-token"],
    nPrompts: 4,
    conditions: [{ label: "a" }, { label: "b" }],
    encodeRule: "threshold",
    layers: [layer(1), layer(2)],
    warnings: ["pair a vs b: two labels, one text"],
    readouts: [],
  });
  writeJson(
    path.join(sae, "figures", "similarity-heatmap.json"),
    figure("heatmap", "Condition similarity", [{ panel: "Layer 1", row: "a", col: "b", value: 0.5 }]),
  );
  write(path.join(sae, "figures", "similarity-heatmap.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  writeJson(
    path.join(sae, "figures", "track-b-counts.json"),
    figure("bars", "Track B", [{ category: "a vs b", series: "layer 1", value: 2, err: null }]),
  );
  write(path.join(sae, "figures", "track-a-layer1-pair0.json"), '{"kind": "bars", "rows": [');

  const am = path.join(root, "readouts", "am");
  writeJson(
    path.join(am, "run.json"),
    runJson(
      "difflens-readouts-run",
      "attention-marker",
      {
        name: "am",
        personas: [
          {
            name: "librarian",
            systemPrompt: "You are a librarian.",
            model: { base: "../../models/base", adapter: null },
          },
        ],
        comparator: "../../models/base",
        marker: "[ZLT]",
        runSeeds: [0],
      },
      { toy: { plant: "mlp", plantedLayer: 1, persona: "librarian", markerId: MARKER_ID } },
    ),
  );
  writeJson(path.join(am, "results.json"), {
    format: "difflens-attention-marker-results",
    marker: "[ZLT]",
    markerId: MARKER_ID,
    counts: [{ persona: "librarian", runSeed: 0, positives: 1, negatives: 1 }],
    skipped: [],
    analysis: {
      layers: [0, 1],
      headline: [
        {
          persona: "librarian",
          model: "trained",
          runSeed: "pooled",
          n: 1,
          gates: { A: 1, B: 1, C: 0, D: 1, C2: 1, C3: 0, C4: null },
          window: "[1, 1]",
          peakSystemB: { layer: 1, value: 0.2 },
          gateFReframeRequired: false,
          sinkReframeRequired: null,
        },
      ],
      personas: [
        {
          persona: "librarian",
          pooled: {
            trained: { gates: { summary: "A 1/2 · B 1/2" } },
            comparator: { gates: { summary: "A 0/2 · B 0/2" } },
            forceFeed: {
              summary: "dd mean +0.1",
              diffOfDiffs: { B: { max: { layer: 1, value: 0.1 }, perLayer: { semExcludesZero: [false, true] } } },
            },
          },
        },
      ],
    },
  });
  writeJson(
    path.join(am, "figures", "layer-profile-librarian.json"),
    figure("lines", "librarian: layer profile", [
      { series: "trained (n = 1)", x: 0, y: 0.1, lower: 0.05, upper: 0.15 },
      { series: "trained (n = 1)", x: 1, y: 0.2, lower: 0.1, upper: 0.3 },
    ]),
  );
  writeJson(
    path.join(am, "figures", "gates.json"),
    figure("heatmap", "Gates", [{ panel: "", row: "A", col: "0", value: 1 }]),
  );
  const generation = (trial: number, positive: boolean) => ({
    persona: "librarian",
    runSeed: 0,
    trial,
    questionIndex: trial,
    question: `Question ${trial}?`,
    promptIds: PROMPT_IDS,
    generatedIds: positive ? POSITIVE_IDS : [6303, 271, 151645],
    finishReason: "stop",
    markerPosition: positive ? PROMPT_IDS.length + 5 : null,
  });
  write(
    path.join(am, "generations", "librarian", "seed-0.jsonl"),
    `${[0, 1, 2, 3, 4].map((t) => JSON.stringify(generation(t, t % 2 === 0))).join("\n")}\n`,
  );
  fs.mkdirSync(path.join(root, "models", "base"), { recursive: true });
  if (options.tokenizer !== false)
    fs.copyFileSync(qwenTokenizerFile(), path.join(root, "models", "base", "tokenizer.json"));

  writeJson(path.join(am, "follow-ups", "dla", "results.json"), {
    format: "difflens-readouts-dla",
    marker: "[ZLT]",
    comparator: "base",
    skipped: [],
    personas: [{ persona: "librarian", top: "L1.MLP", value: 2.5 }],
  });
  writeJson(
    path.join(am, "follow-ups", "dla", "dla-librarian.json"),
    figure("lines", "dla", [{ series: "trained", x: 0, y: 1, lower: 0.5, upper: 1.5 }]),
  );

  const steer = path.join(root, "readouts", "steer-run");
  writeJson(
    path.join(steer, "run.json"),
    runJson("difflens-readouts-steer", "steer", { model: "m", interventions: [{}] }),
  );
  writeJson(path.join(steer, "results.json"), { format: "difflens-steer-results", bestAlpha: 2, alphas: [0, 1, 2] });
  writeJson(path.join(steer, "alpha-sweep.json"), figure("lines", "KL by α", [{ series: "KL", x: 0, y: 1 }]));

  write(path.join(root, "broken", "run.json"), '{"format": "difflens-diffing-run", "config": {');
  fs.mkdirSync(path.join(root, "broken", "compare"), { recursive: true });
  writeJson(path.join(root, "odd", "run.json"), { format: "someone-else" });
  write(path.join(root, "odd", "notes.md"), "# notes\n");
  for (const hidden of ["x/wandb/run-1", "node_modules/p", ".hidden/r"])
    writeJson(path.join(root, hidden, "run.json"), { format: "x" });
  return root;
}

/** A folder outside `root` with a run.json, linked from inside it (discovery and /api/file must not follow it). */
export function linkOutside(root: string, linkRel: string): string {
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-outside-"));
  writeJson(path.join(outside, "run.json"), { format: "difflens-diffing-run" });
  write(path.join(outside, "secret.txt"), `${OUTSIDE_CONTENT}\n`);
  fs.symlinkSync(outside, path.join(root, linkRel));
  return outside;
}
