/**
 * The main job end to end, as `pnpm --filter diffing demo` runs it (default config, seed 0, plant scale 0.75,
 * without the features page): the toy pair, all five stages, the two-stage comparison and the recovery check —
 * which must pass with the plant and fail (|cos| < 0.5) for the control (chat model = base model). The control
 * copies S and D from the planted run (both read only the base model, so they are the same SAEs) and trains M,
 * DF and MF. Budget ≤ 120 s on the 2-core machine (≈ 45 s + 30 s measured, idle).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadSae } from "@difflens/sae";
import { useBackend } from "@difflens/tensor";
import { leadingRightSingularVector, loadDiffingConfig, runDemo, TOY_HOOK } from "diffing";
import { openSteerModels, resolveSteerConfig, runSteer, type SteerResults } from "readouts";
import { afterAll, describe, expect, it } from "vitest";

const REPO = path.resolve(__dirname, "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "diffing-e2e-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The default config with the toy cached in the temp folder and W&B off. */
function smallConfig() {
  const file = path.join(tmp, "small.json");
  const raw = JSON.parse(fs.readFileSync(path.join(REPO, "configs/diffing/default.json"), "utf8"));
  const abs = (p: string) => path.resolve(REPO, "configs/diffing", p);
  fs.writeFileSync(
    file,
    JSON.stringify({
      ...raw,
      runDir: path.join(tmp, "run"),
      toy: { ...raw.toy, cacheDir: path.join(tmp, "toy-models") },
      textData: { ...raw.textData, files: raw.textData.files.map(abs) },
      chatData: { ...raw.chatData, files: raw.chatData.files.map(abs) },
      wandb: { mode: "disabled" },
    }),
  );
  return loadDiffingConfig(file);
}

describe("diffing demo (toy pair)", () => {
  useBackend("auto");
  const config = smallConfig();
  const log = () => {};

  it("recovers the planted direction (leading change |cos| ≥ 0.9)", async () => {
    const r = await runDemo({
      config,
      seed: 0,
      plantScale: 0.75,
      plant: true,
      threshold: 0.9,
      features: false,
      log,
      runDir: path.join(tmp, "plant"),
    });
    expect(r.report.leadingCos).toBeGreaterThanOrEqual(0.9);
    expect(r.passed).toBe(true);
    expect(fs.existsSync(path.join(tmp, "plant/compare/two-stage-decoder.png"))).toBe(true);
    expect(fs.existsSync(path.join(tmp, "plant/run.json"))).toBe(true);
  }, 240_000); // ≈ 60 s alone; room for a loaded 2-core machine (a timeout here would fail the steps that follow)

  // Seed 003's hypothesis 2 on this demo run (no second demo run): steer the base model towards the chat model.
  let asStated: SteerResults | undefined;
  it("hypothesis 2: the base + α × the run's recovered direction halves KL(chat ‖ base) and raises p(<|im_end|>)", async () => {
    const run = path.join(tmp, "plant");
    const cache = path.join(tmp, "toy-models");
    const toyDir = path.join(cache, fs.readdirSync(cache).find((v) => /^v\d+$/.test(v))!, "seed-0");
    const stage = (s: string) => path.join(run, "stages", s);
    const checkpoint = async (s: string) =>
      loadSae(path.join(run, JSON.parse(fs.readFileSync(path.join(stage(s), "stage.json"), "utf8")).checkpoint));
    // the run's own estimate of the change: the leading direction of the top latents' decoder changes (recovery.ts)
    const saes = {
      D: await checkpoint("D"),
      DF: await checkpoint("DF"),
      M: await checkpoint("M"),
      MF: await checkpoint("MF"),
    };
    const top: number[] = JSON.parse(fs.readFileSync(path.join(run, "compare/ranking.json"), "utf8")).top;
    const d = saes.D.dIn;
    const row = (sae: typeof saes.D, i: number) => sae.weights.wDec.subarray(i * d, (i + 1) * d);
    const stack = top.flatMap((i) => [
      Float64Array.from(row(saes.DF, i), (v, j) => v - row(saes.D, i)[j]!),
      Float64Array.from(row(saes.MF, i), (v, j) => v - row(saes.M, i)[j]!),
    ]);
    const directionFile = path.join(tmp, "recovered-direction.json");
    fs.writeFileSync(
      directionFile,
      JSON.stringify({ direction: Array.from(leadingRightSingularVector(stack, d).direction) }),
    );
    const common = {
      model: path.join(toyDir, "base"),
      reference: { path: path.join(toyDir, "base"), adapter: path.join(toyDir, "plant-0.75") },
      condition: "model-default",
      prompts: ["Give three tips for staying healthy.", "Describe the water cycle in one paragraph."],
      positions: "all",
      targets: ["<|im_end|>"],
      generate: { maxNewTokens: 4, greedy: true, seed: 0 },
    };
    const alphas = [-3, -1.5, 1.5, 3]; // the direction's sign is arbitrary: both ways
    const recovered = resolveSteerConfig(
      { ...common, interventions: [{ kind: "add", hook: TOY_HOOK, directionFile, alphas }] },
      tmp,
    );
    // the hypothesis as the issue states it: the decoder row of the latent at the top of the compare ranking
    const stated = resolveSteerConfig(
      { ...common, interventions: [{ kind: "add", sae: stage("MF"), latent: { compareRank: 1 }, alphas }] },
      tmp,
    );
    const models = await openSteerModels(recovered);
    const steer = async (config: typeof recovered, name: string) => {
      fs.mkdirSync(path.join(tmp, name));
      return runSteer(config, { runDir: path.join(tmp, name), models, figures: false });
    };
    const r = await steer(recovered, "steer-recovered");
    asStated = await steer(stated, "steer-stated");
    models.close();
    expect(r.best!.klDrop).toBeGreaterThanOrEqual(0.5);
    // where the chat model puts <|im_end|>: the positions whose next token is <|im_end|> in the chat text
    const p = (s: { targets: readonly { whereNext: number | null }[] }) => s.targets[0]!.whereNext!;
    expect(p(r.best!)).toBeGreaterThan(p(r.unsteered));
    expect(Number.isFinite(asStated.best!.klDrop)).toBe(true);
  }, 60_000);

  // Measured (seed 0): the top-ranked latent's MF decoder row has |cos| ≈ 0.29 with u and raises the KL at every α
  // of the sweep (least bad: α 1.5, drop −0.18). Kept as the hypothesis states it: this test turns red once it holds.
  it.fails("hypothesis 2 as stated (the top-ranked latent's decoder row) does not hold on the toy", () => {
    if (asStated === undefined) return; // no measurement: returning fails this expected-failure test
    expect(asStated.best!.klDrop).toBeGreaterThanOrEqual(0.5);
    expect(asStated.best!.targets[0]!.whereNext!).toBeGreaterThan(asStated.unsteered.targets[0]!.whereNext!);
  });

  it("fails the check for the control without a plant (|cos| < 0.5)", async () => {
    const r = await runDemo({
      config,
      seed: 0,
      plantScale: 0.75,
      plant: false,
      threshold: 0.9,
      features: false,
      log,
      runDir: path.join(tmp, "control"),
      reuseBaseStagesFrom: path.join(tmp, "plant"),
    });
    expect(r.report.leadingCos).toBeLessThan(0.5);
    expect(r.passed).toBe(false);
  }, 120_000);
});
