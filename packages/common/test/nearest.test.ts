import { describe, expect, it } from "vitest";
import { didYouMean, editDistance, nearest, rejectUnknownKeys, unknownKeys } from "../src/index.ts";

describe("nearest names", () => {
  it.each([
    ["kitten", "sitting", 3],
    ["", "abc", 3],
    ["Flag", "flag", 0],
    ["abc", "abc", 0],
  ])("editDistance(%s, %s) = %i", (a, b, d) => expect(editDistance(a, b)).toBe(d));

  it.each([
    ["--seeed", ["--seed", "--config", "--run-dir"], "--seed"],
    ["--resum", ["--seed", "--resume", "--run-dir"], "--resume"],
    ["--config-file", ["--seed", "--config"], "--config"],
    ["colour", ["color", "size"], "color"],
    ["x", ["y", "z"], undefined],
    ["--totally-different", ["--seed", "--help"], undefined],
  ])("nearest(%s) = %s", (name, candidates, want) => expect(nearest(name, candidates)).toBe(want));

  it("didYouMean is empty when nothing is close", () => {
    expect(didYouMean("zzz", ["alpha"])).toBe("");
    expect(didYouMean("alpah", ["alpha"])).toBe(' — did you mean "alpha"?');
  });

  it("unknownKeys lists each unknown key with its suggestion", () => {
    expect(unknownKeys({ dSae: 1, kk: 2, lrr: 3 }, ["dSae", "k", "lr"])).toEqual([
      { key: "kk", suggestion: "k" },
      { key: "lrr", suggestion: "lr" },
    ]);
  });

  it("rejectUnknownKeys hands the facts to the package's own error", () => {
    class MyError extends Error {
      constructor(
        message: string,
        readonly facts: object,
      ) {
        super(message);
      }
    }
    const fail = (message: string, facts: object): never => {
      throw new MyError(message, facts);
    };
    expect(() => rejectUnknownKeys({ dSae: 1 }, ["dSae"], "cfg", fail)).not.toThrow();
    try {
      rejectUnknownKeys({ dsea: 1 }, ["dSae", "k"], "sae config", fail);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MyError);
      expect((error as MyError).message).toBe(
        'unknown key "dsea" in sae config — did you mean "dSae"? (known: dSae, k)',
      );
      expect((error as MyError).facts).toMatchObject({ field: "dsea", suggestion: "dSae" });
    }
  });
});
