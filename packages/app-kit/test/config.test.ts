import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DifflensError } from "@difflens/common";
import { afterAll, describe, expect, it } from "vitest";
import { AppKitError, configFields, deepFreeze, loadConfigFile, resolveModelRef } from "../src/index.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "app-kit-config-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

class ToyAppError extends DifflensError<"CONFIG_INVALID" | "CONFIG_UNKNOWN_KEY" | "CONFIG_NOT_FOUND" | "OTHER"> {}

function thrown(fn: () => unknown): DifflensError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DifflensError) return e;
    throw e;
  }
  throw new Error("no error thrown");
}

describe("config fields", () => {
  const f = configFields();
  const unknown = "CONFIG_UNKNOWN_KEY",
    invalid = "CONFIG_INVALID";
  it.each([
    [() => f.objectWithKeys("sae", { dsea: 1 }, ["dSae", "k"]), unknown, 'did you mean "dSae"', "sae.dsea"],
    [() => f.objectWithKeys("sae", [1], ["k"]), invalid, "sae: expected an object, got an array", "sae"],
    [() => f.num("sae", { k: 2.5 }, "k", 1, { int: true, min: 1 }), invalid, "an integer ≥ 1, got 2.5", "sae.k"],
    [() => f.str("data", { column: "" }, "column", "text"), invalid, "expected a non-empty string", "data.column"],
    [() => f.oneOf("data", { format: "alpacca" }, "format", "x", ["alpaca"]), invalid, 'mean "alpaca"', "data.format"],
    [() => f.bool("mask", { first: "yes" }, "first", false), invalid, "expected true or false", "mask.first"],
    [() => f.strList("data", { files: "a" }, "files", []), invalid, "a list of strings", "data.files"],
    [() => f.numList("features", { latents: [1, -2] }, "latents", null), invalid, "non-negative", "features.latents"],
  ])("rejects bad values with code, message and field %#", (fn, code, fragment, field) => {
    const error = thrown(fn);
    expect(error).toBeInstanceOf(AppKitError);
    expect(error.code).toBe(code);
    expect(error.message).toContain(fragment);
    expect(error.facts.field).toBe(field);
  });

  it("reads defaults, nulls and valid values", () => {
    expect(f.num("sae", {}, "k", 32)).toBe(32);
    expect(f.num("sae", { lr: null }, "lr", 1e-3, { nullable: true })).toBeNull();
    expect(f.str("m", {}, "adapter", null)).toBeNull();
    expect(f.numList("f", { latents: [3, 1] }, "latents", null)).toEqual([3, 1]);
    expect(f.objectWithKeys("x", undefined, ["a"])).toEqual({});
  });

  it("throws the app's own error class when bound to it", () => {
    const error = thrown(() => configFields(ToyAppError).objectWithKeys("config", { hok: 1 }, ["hook"]));
    expect(error).toBeInstanceOf(ToyAppError);
    expect(error.code).toBe("CONFIG_UNKNOWN_KEY");
  });

  it("deep-freezes", () => {
    const frozen = deepFreeze({ a: { b: [1] } });
    expect(Object.isFrozen(frozen.a.b)).toBe(true);
  });
});

describe("config files", () => {
  const resolve = (json: unknown, baseDir: string) => {
    const rec = configFields(ToyAppError).objectWithKeys("config", json, ["data", "k"]);
    return { data: path.resolve(baseDir, String(rec.data)), k: configFields(ToyAppError).num("config", rec, "k", 1) };
  };

  it("resolves relative paths from the file's folder, not the cwd", () => {
    const file = path.join(tmp, "nested", "ok.json");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ data: "../data/x.parquet" }));
    expect(loadConfigFile(file, resolve).data).toBe(path.join(tmp, "data", "x.parquet"));
  });

  it("names the file in every error and keeps the resolver's class and code", () => {
    const missing = thrown(() => loadConfigFile(path.join(tmp, "nope.json"), resolve, ToyAppError));
    expect([missing.code, missing instanceof ToyAppError]).toEqual(["CONFIG_NOT_FOUND", true]);
    fs.writeFileSync(path.join(tmp, "bad.json"), "{ nope");
    const bad = thrown(() => loadConfigFile(path.join(tmp, "bad.json"), resolve));
    expect(bad.message).toMatch(/bad\.json: not valid JSON/);
    const file = path.join(tmp, "typo.json");
    fs.writeFileSync(file, JSON.stringify({ data: "x", kk: 2 }));
    const typo = thrown(() => loadConfigFile(file, resolve));
    expect(typo).toBeInstanceOf(ToyAppError);
    expect(typo.message.startsWith(`${file}: unknown key "kk" in config — did you mean "k"?`)).toBe(true);
    expect(typo.facts).toMatchObject({ file, field: "config.kk", suggestion: "k" });
  });
});

describe("model references", () => {
  it.each([
    ["./models/base", { path: path.join(tmp, "models/base"), adapter: null }],
    ["base", { path: path.join(tmp, "base"), adapter: null }],
    ["Qwen/Qwen1.5-0.5B", { path: "Qwen/Qwen1.5-0.5B", adapter: null }],
    ["Qwen/Qwen1.5-0.5B@main", { path: "Qwen/Qwen1.5-0.5B@main", adapter: null }],
    [
      { path: "base", adapter: "lora" },
      { path: path.join(tmp, "base"), adapter: path.join(tmp, "lora") },
    ],
  ])("%j resolves from the config's folder (ORG/NAME stays a Hub id)", (input, want) => {
    expect(resolveModelRef("baseModel", input, tmp)).toEqual(want);
  });

  it("takes an existing folder over a Hub id of the same shape, and requires a path", () => {
    fs.mkdirSync(path.join(tmp, "org", "name"), { recursive: true });
    expect(resolveModelRef("m", "org/name", tmp).path).toBe(path.join(tmp, "org", "name"));
    const error = thrown(() => resolveModelRef("chatModel", { adapter: "x" }, tmp, configFields(ToyAppError)));
    expect(error).toBeInstanceOf(ToyAppError);
    expect([error.code, error.facts.field]).toEqual(["CONFIG_INVALID", "chatModel.path"]);
  });
});
