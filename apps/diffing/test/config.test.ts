import * as path from "node:path";
import { parseCommandLine, UsageError } from "@difflens/common";
import { describe, expect, it } from "vitest";
import { DiffingError, resolveDiffingConfig, resolveTrainConfig } from "../src/index.ts";

const minimal = {
  toy: { seed: 1 },
  textData: { files: ["../../datasets/pile-tiny/train.parquet"] },
  chatData: { files: ["data/chat.parquet"] },
  sae: { dSae: 64 },
  stages: { S: { tokens: 10 }, D: { tokens: 10 }, M: { tokens: 10 }, DF: { tokens: 10 }, MF: { tokens: 10 } },
};

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof DiffingError || e instanceof UsageError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("no error thrown");
}

describe("pipeline config", () => {
  it("resolves relative paths from the config file's folder, not the cwd", () => {
    const c = resolveDiffingConfig(minimal, "/repo/configs/diffing");
    expect(c.textData.files[0]).toBe(path.resolve("/repo/datasets/pile-tiny/train.parquet"));
    expect(c.chatData.files[0]).toBe("/repo/configs/diffing/data/chat.parquet");
    expect(c.runDir).toBe("/repo/configs/diffing/runs/diffing/default");
    expect(c.toy).toMatchObject({ seed: 1, plantScale: 0.75, plant: true });
    expect(Object.isFrozen(c.sae)).toBe(true);
  });

  it.each([
    [{ ...minimal, hok: "x" }, "CONFIG_UNKNOWN_KEY", 'did you mean "hook"'],
    [{ ...minimal, sae: { dSae: 64, batchsize: 5 } }, "CONFIG_UNKNOWN_KEY", 'did you mean "batchSize"'],
    [{ ...minimal, stages: { ...minimal.stages, DF: { tokns: 3 } } }, "CONFIG_UNKNOWN_KEY", 'did you mean "tokens"'],
    [{ ...minimal, sae: { dSae: 64, k: 65 } }, "CONFIG_INVALID", "≤ 64"],
    [{ ...minimal, toy: null }, "CONFIG_INVALID", "baseModel and chatModel are required"],
    [{ ...minimal, chatData: { files: ["x"], format: "alpacca" } }, "CONFIG_INVALID", 'did you mean "alpaca"'],
  ])("rejects bad input %#", (input, code, fragment) => {
    const err = codeOf(() => resolveDiffingConfig(input, "/repo/configs/diffing"));
    expect(err.code).toBe(code);
    expect(err.message).toContain(fragment);
  });

  it("never mutates the caller's config", () => {
    const input = structuredClone(minimal);
    resolveDiffingConfig(input, "/x");
    expect(input).toEqual(minimal);
  });
});

describe("train config", () => {
  it("needs exactly one dataset and suggests keys", () => {
    const base = { model: "m", tokens: 100, sae: { dSae: 32 } };
    expect(codeOf(() => resolveTrainConfig(base, "/r")).message).toContain("exactly one of textData and chatData");
    expect(
      codeOf(() => resolveTrainConfig({ ...base, textData: { files: ["a"] }, outdir: "x" }, "/r")).message,
    ).toContain('did you mean "outDir"');
    const ok = resolveTrainConfig({ ...base, textData: { files: ["a.parquet"] } }, "/r");
    expect(ok.textData?.files).toEqual(["/r/a.parquet"]);
  });
});

describe("flags", () => {
  const specs = [
    { name: "seed", kind: "number", help: "" },
    { name: "no-plant", kind: "boolean", help: "" },
    { name: "config", kind: "string", help: "" },
  ] as const;
  it("parses --flag value, --flag=value and booleans", () => {
    expect(parseCommandLine("demo", ["--seed", "3", "--no-plant", "--config=a.json"], specs).flags).toEqual({
      seed: 3,
      "no-plant": true,
      config: "a.json",
    });
  });
  it.each([
    [["--sed", "3"], "USAGE", 'did you mean "--seed"'],
    [["--seed", "x"], "USAGE", "must be a number"],
    [["--seed"], "USAGE", "needs a value"],
    [["stray"], "USAGE", "unexpected argument"],
  ])("rejects %j", (argv, code, fragment) => {
    const err = codeOf(() => parseCommandLine("demo", argv, specs));
    expect(err.code).toBe(code);
    expect(err.message).toContain(fragment);
  });
});
