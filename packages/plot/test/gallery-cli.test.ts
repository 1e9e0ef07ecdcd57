import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/gallery.ts";

function capture() {
  const state = { out: "", lines: [] as string[] };
  const io = {
    out: (text: string) => {
      state.out += text;
    },
    log: (line: string) => void state.lines.push(line),
  };
  return { state, io };
}

describe("gallery command line", () => {
  it("--help exits 0; a typo'd flag exits 2 naming the nearest flag", async () => {
    const { state, io } = capture();
    expect(await main(["--help"], io)).toBe(0);
    expect(state.out).toContain("--out DIR");
    expect(await main(["--otu", "x"], io)).toBe(2);
    expect(state.lines.join("\n")).toContain('unknown flag --otu — did you mean "--out"?');
  });

  it("writes the gallery into --out", async () => {
    const dir = mkdtempSync(join(tmpdir(), "difflens-gallery-"));
    try {
      const { state, io } = capture();
      expect(await main(["--out", dir], io)).toBe(0);
      expect(readdirSync(dir).some((f) => f.endsWith(".svg"))).toBe(true);
      expect(state.lines.at(-1)).toBe(`gallery written to ${dir}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
