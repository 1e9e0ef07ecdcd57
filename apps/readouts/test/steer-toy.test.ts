/**
 * The steer command on the embedded conditions toy: clamping the u latent to 0 in the planted model lowers
 * KL(unplanted ‖ planted) by ≥ 50% over several seeds; the CLI writes its run folder (run.json, results, figure),
 * checks inputs alone with --dry-run, refuses to overwrite without --force and answers bad input with exit 2 and no
 * folder.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { useBackend } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.ts";
import { runSteer } from "../src/steer/run-steer.ts";
import { toySteer } from "../src/steer/toy-steer.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "steer-toy-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const cache = path.join(tmp, "toy");

describe("steer on the conditions toy", () => {
  useBackend("auto");

  it.each([0, 1, 2])(
    "seed %i: clamping the u latent to 0 lowers the KL to the unplanted model by ≥ 50%",
    async (seed) => {
      const { config } = await toySteer(cache, seed, { maxNewTokens: 1 });
      const runDir = path.join(tmp, `run-${seed}`);
      fs.mkdirSync(runDir);
      const r = await runSteer({ ...config, prompts: config.prompts.slice(0, 1) } as typeof config, {
        runDir,
        figures: false,
      });
      expect(r.unsteered.klToReference!).toBeGreaterThan(0.5); // the plant is visible
      expect(r.best!.klDrop!).toBeGreaterThanOrEqual(0.5);
      expect(r.check).toEqual({ minKlDrop: 0.5, passed: true });
    },
    30_000,
  );

  it("the CLI: run folder with run.json, results and the α-sweep figure; no overwrite; bad input exits 2", async () => {
    const { toy, sae } = await toySteer(cache, 0);
    const u = path.join(tmp, "u.json");
    fs.writeFileSync(u, JSON.stringify(Array.from(toy.u)));
    const write = (name: string, interventions: unknown[]) => {
      const file = path.join(tmp, `${name}.json`);
      const config = {
        model: { path: toy.modelDir, adapter: toy.adapterDir },
        reference: toy.modelDir,
        condition: toy.plantedCondition,
        prompts: ["What is the difference between weather and climate?"],
        interventions,
        positions: "generated",
        generate: { maxNewTokens: 3 },
      };
      fs.writeFileSync(file, JSON.stringify(config));
      return file;
    };
    const clamp = { kind: "clamp", sae: sae.folder, hook: sae.hook, latent: sae.uLatent, value: 0 };
    const sweep = { kind: "add", hook: sae.hook, directionFile: u, alphas: [-4, -2] };
    const good = write("good", [clamp, sweep]);
    const runDir = path.join(tmp, "cli-run");
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    expect(await main(["steer", "--config", good, "--run-dir", runDir, "--dry-run"], log)).toBe(0);
    expect(fs.existsSync(runDir)).toBe(false);
    expect(await main(["steer", "--config", good, "--run-dir", runDir], log)).toBe(0);
    for (const f of [
      "run.json",
      "results.json",
      "prompts.jsonl",
      "alpha-sweep.png",
      "alpha-sweep.pdf",
      "alpha-sweep.svg",
    ]) {
      expect(fs.existsSync(path.join(runDir, f)), f).toBe(true);
    }
    const results = JSON.parse(fs.readFileSync(path.join(runDir, "results.json"), "utf8"));
    expect(results.settings.map((s: { alpha: number }) => s.alpha)).toEqual([-4, -2]);
    expect(results.unsteered.nextTokenKl).toBe(0);
    // generated-only steering cannot change the first new token's distribution
    for (const s of results.settings) expect(s.nextTokenKl).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, "run.json"), "utf8")).events[0].command).toBe("steer");
    expect(await main(["steer", "--config", good, "--run-dir", runDir], log)).toBe(2);
    expect(lines.join("\n")).toMatch(/already exists and is not empty/);

    fs.writeFileSync(path.join(tmp, "short.json"), JSON.stringify([1, 2, 3]));
    const shortDirection = write("bad", [{ ...sweep, directionFile: path.join(tmp, "short.json") }]);
    const badRun = path.join(tmp, "bad-run");
    lines.length = 0;
    expect(await main(["steer", "--config", shortDirection, "--run-dir", badRun], log)).toBe(2);
    expect(lines.join("\n")).toMatch(
      /interventions\[0\]\.directionFile: .*short\.json holds 3 values; the hook .* has width 64/,
    );
    expect(fs.existsSync(badRun)).toBe(false);
  }, 30_000);
});
