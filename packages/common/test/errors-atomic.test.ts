import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DifflensError, isDifflensError, writeFileAtomic, writeJsonAtomic } from "../src/index.ts";

type ToyCode = "A" | "B";
class ToyError extends DifflensError<ToyCode> {}

describe("DifflensError", () => {
  it("carries a typed code, frozen facts, the subclass name and a cause", () => {
    const cause = new Error("low level");
    const error = new ToyError("A", "it broke", { file: "x.json", field: "k", expected: 1, got: 2 }, { cause });
    expect(error.code).toBe("A");
    expect(error.name).toBe("ToyError");
    expect(error.facts).toEqual({ file: "x.json", field: "k", expected: 1, got: 2 });
    expect(Object.isFrozen(error.facts)).toBe(true);
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(DifflensError);
    expect(isDifflensError(error)).toBe(true);
    expect(isDifflensError(new Error("plain"))).toBe(false);
  });
});

describe("atomic writes", () => {
  it("writes, replaces and leaves no temp file behind", () => {
    const dir = mkdtempSync(join(tmpdir(), "difflens-common-"));
    const file = join(dir, "nested", "out.json");
    writeJsonAtomic(file, { a: 1 });
    expect(readFileSync(file, "utf8")).toBe('{\n  "a": 1\n}\n');
    writeFileAtomic(file, new Uint8Array([104, 105]));
    expect(readFileSync(file, "utf8")).toBe("hi");
    expect(readdirSync(join(dir, "nested"))).toEqual(["out.json"]);
  });

  it("keeps the old content and removes the temp file when the rename fails", () => {
    const dir = mkdtempSync(join(tmpdir(), "difflens-common-"));
    const target = join(dir, "is-a-dir");
    writeFileSync(join(dir, "keep.txt"), "old");
    // Renaming a file over a non-empty folder fails: the target must stay as it was.
    writeFileAtomic(join(target, "inner.txt"), "x");
    expect(() => writeFileAtomic(target, "new")).toThrow();
    expect(readdirSync(dir).sort()).toEqual(["is-a-dir", "keep.txt"]);
    expect(readFileSync(join(target, "inner.txt"), "utf8")).toBe("x");
  });
});
