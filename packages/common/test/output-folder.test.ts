import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkOutputOutside, checkOutputPath, OutputPathError, writeFolderAtomic } from "../src/index.ts";

const fresh = (): string => mkdtempSync(join(tmpdir(), "difflens-output-"));

/** A folder holding `files` (name → content). */
function folderWith(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

const contents = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((name) => [name, readFileSync(join(dir, name), "utf8")]),
  );

function caught(run: () => unknown): OutputPathError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OutputPathError);
    return error as OutputPathError;
  }
  throw new Error("expected an OutputPathError");
}

describe("writeFolderAtomic", () => {
  it("writes a new folder (or fills an empty one), returns the writer's result and leaves no temp folder", async () => {
    const root = fresh();
    const dest = join(root, "nested", "out");
    const result = await writeFolderAtomic(dest, (temp) => {
      writeFileSync(join(temp, "a.txt"), "new");
      return 42;
    });
    expect(result).toBe(42);
    expect(contents(dest)).toEqual({ "a.txt": "new" });
    expect(readdirSync(join(root, "nested"))).toEqual(["out"]);
    mkdirSync(join(root, "empty"));
    await writeFolderAtomic(join(root, "empty"), (temp) => writeFileSync(join(temp, "b.txt"), "b"));
    expect(contents(join(root, "empty"))).toEqual({ "b.txt": "b" });
  });

  it("refuses an occupied folder or a file without force, naming it, its entries and --force", async () => {
    const root = fresh();
    const dest = folderWith(join(root, "ck"), { "cfg.json": "old", "state.json": "old state" });
    let called = false;
    const error = await writeFolderAtomic(dest, () => {
      called = true;
    }).catch((e: unknown) => e as OutputPathError);
    expect(error).toBeInstanceOf(OutputPathError);
    expect((error as OutputPathError).code).toBe("OUTPUT_EXISTS");
    expect((error as OutputPathError).message).toContain(dest);
    expect((error as OutputPathError).message).toContain("cfg.json, state.json");
    expect((error as OutputPathError).facts.fix).toContain("--force");
    expect(called).toBe(false);
    expect(contents(dest)).toEqual({ "cfg.json": "old", "state.json": "old state" });
    expect(readdirSync(root)).toEqual(["ck"]);
    writeFileSync(join(root, "file"), "x");
    expect(caught(() => checkOutputPath(join(root, "file"))).message).toContain("a file of 1 bytes");
  });

  it("with force, replaces the folder whole: no file of the old one survives", async () => {
    const root = fresh();
    const old = { "cfg.json": "old", "optimizer.safetensors": "old", "state.json": "old" };
    const dest = folderWith(join(root, "ck"), old);
    await writeFolderAtomic(dest, (temp) => writeFileSync(join(temp, "cfg.json"), "new"), { force: true });
    expect(contents(dest)).toEqual({ "cfg.json": "new" });
    expect(readdirSync(root)).toEqual(["ck"]);
  });

  it("a writer that throws leaves the destination as it was and removes its temp folder", async () => {
    const root = fresh();
    const dest = folderWith(join(root, "ck"), { "cfg.json": "old" });
    const failing = (temp: string): never => {
      writeFileSync(join(temp, "cfg.json"), "half");
      throw new Error("disk full");
    };
    await expect(writeFolderAtomic(dest, failing, { force: true })).rejects.toThrow("disk full");
    expect(contents(dest)).toEqual({ "cfg.json": "old" });
    expect(readdirSync(root)).toEqual(["ck"]);
  });
});

describe("checkOutputOutside", () => {
  it("refuses an output that is, lies inside or contains an input (symbolic links resolved)", () => {
    const root = fresh();
    const src = folderWith(join(root, "src"), { "ae.pt": "w" });
    symlinkSync(src, join(root, "link"));
    expect(caught(() => checkOutputOutside(src, [src])).message).toContain("is the input");
    expect(caught(() => checkOutputOutside(join(root, "link"), [src])).code).toBe("OUTPUT_OVERLAPS_INPUT");
    expect(caught(() => checkOutputOutside(join(src, "out", "deeper"), [src])).message).toContain("lies inside");
    expect(caught(() => checkOutputOutside(root, [src])).message).toContain("contains");
  });

  it("accepts siblings, also those sharing a name prefix", () => {
    const root = fresh();
    const src = folderWith(join(root, "sae"), { "ae.pt": "w" });
    expect(() => checkOutputOutside(join(root, "sae-converted"), [src])).not.toThrow();
    expect(() => checkOutputOutside(join(root, "other", "x"), [src])).not.toThrow();
  });
});
