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
import { useBackend } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { loadDiffingConfig, runDemo } from "../apps/diffing/src/index.ts";

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
  }, 120_000);

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
