/** The `methods` config section: defaults, readable errors, and how it names the pair. */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/main.ts";
import { METHODS_CONFIG } from "../src/cli/methods-commands.ts";
import { loadDiffingConfig, resolveDiffingConfig } from "../src/config/diffing-config.ts";
import { DEFAULT_METHODS, METHOD_NAMES } from "../src/config/methods-config.ts";
import { DiffingError } from "../src/errors.ts";

const pipeline = {
  textData: { files: ["text.parquet"] },
  chatData: { files: ["chat.parquet"] },
  sae: { dSae: 64 },
  stages: { S: { tokens: 10 }, D: { tokens: 10 }, M: { tokens: 10 }, DF: { tokens: 10 }, MF: { tokens: 10 } },
};
const resolve = (methods: unknown, rest: object = {}) =>
  resolveDiffingConfig({ ...pipeline, ...rest, methods }, "/repo/configs/diffing");

function errorOf(fn: () => unknown): DiffingError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DiffingError) return e;
    throw e;
  }
  throw new Error("no error thrown");
}

describe("methods config section", () => {
  it("the default config is the three-plant toy with every method, and needs no model of the pipeline", () => {
    const c = loadDiffingConfig(METHODS_CONFIG);
    expect(c.methods!.toy).toMatchObject({ variant: "three-plant", seed: 0 });
    expect(c.methods!.run).toEqual(METHOD_NAMES);
    expect(c.baseModel).toBeNull();
    expect(c.methods!.toy!.cacheDir).toBe(
      path.resolve(path.dirname(METHODS_CONFIG), "../../runs/diffing/methods-toy-models"),
    );
  });

  it("fills defaults, resolves model paths from the config's folder and never names the pair twice", () => {
    const m = resolve({ base: "../../models/base", chat: { path: "../../models/base", adapter: "lora" } }).methods!;
    expect(m.base).toEqual({ path: "/repo/models/base", adapter: null });
    expect(m.chat!.adapter).toBe("/repo/configs/diffing/lora");
    expect(m.batchTopK).toEqual(DEFAULT_METHODS.batchTopK);
    expect(m.toy).toBeNull();
    expect(resolve(undefined, { toy: {} }).methods).toBeNull();
    expect(resolve({ run: ["adl", "crosscoderL1"] }, { toy: {} }).methods!.run).toEqual(["crosscoderL1", "adl"]);
  });

  it.each([
    [{ batchTopk: {} }, "CONFIG_UNKNOWN_KEY", 'did you mean "batchTopK"'],
    [{ l1: { l1Coeff: 1 } }, "CONFIG_UNKNOWN_KEY", 'did you mean "l1Coef"'],
    [{ harvest: { windows: "10" } }, "CONFIG_INVALID", 'methods.harvest.windows: expected an integer ≥ 1, got "10"'],
    [{ diffSae: { dSae: 8, k: 9 } }, "CONFIG_INVALID", "methods.diffSae.k: expected an integer ≥ 1 ≤ 8"],
    [{ toy: { variant: "controll" } }, "CONFIG_INVALID", 'did you mean "control"'],
    [{ run: ["stagewse"] }, "CONFIG_INVALID", 'unknown method "stagewse" — did you mean "stagewise"'],
    [{ base: "a" }, "CONFIG_INVALID", "base and chat name the pair together"],
    [{ toy: {}, base: "a", chat: "b" }, "CONFIG_INVALID", "toy and base/chat both name the pair"],
    [{}, "CONFIG_INVALID", "baseModel and chatModel are required"],
  ])("refuses bad input %#", (methods, code, fragment) => {
    const e = errorOf(() => resolve(methods));
    expect(e.code).toBe(code);
    expect(e.message).toContain(fragment);
  });

  it("a resolved config resolves to itself (commands re-resolve with overrides)", () => {
    const c = loadDiffingConfig(METHODS_CONFIG);
    const { file, ...rest } = c;
    expect(resolveDiffingConfig(rest, "/elsewhere", file).methods).toEqual(c.methods);
  });

  it("methods-report refuses --from a folder without a finished run, and --from with --config (exit 2)", async () => {
    const lines: string[] = [];
    const log = (l: string) => void lines.push(l);
    expect(await main(["methods-report", "--from", "/nonexistent-run"], log)).toBe(2);
    expect(lines.join("\n")).toContain("no methods.json there");
    expect(await main(["methods-report", "--from", "/x", "--config", METHODS_CONFIG], log)).toBe(2);
    expect(lines.join("\n")).toContain("--from writes the report of a finished run");
  });
});
