import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli/selfcheck.ts";
import { useBackend } from "../src/index.ts";

/** Runs the selfcheck, capturing its PASS/FAIL/INFO lines (console.log) and its usage messages. */
async function selfcheck(argv: string[]): Promise<{ status: number; lines: string[]; log: string[] }> {
  const lines: string[] = [];
  const log: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((text: unknown) => void lines.push(String(text)));
  try {
    const status = await main(argv, { out: (text) => void log.push(text), log: (text) => void log.push(text) });
    return { status, lines, log };
  } finally {
    spy.mockRestore();
  }
}

describe("selfcheck command line", () => {
  afterEach(() => {
    useBackend("js");
  });

  it("--help exits 0; a typo'd flag exits 2 naming the nearest flag", async () => {
    let out = "";
    const lines: string[] = [];
    const io = {
      out: (text: string) => {
        out += text;
      },
      log: (line: string) => void lines.push(line),
    };
    expect(await main(["--help"], io)).toBe(0);
    expect(out).toContain("usage: selfcheck [flags]");
    expect(out).toContain("--backend");
    expect(await main(["--hepl"], io)).toBe(2);
    expect(lines.join("\n")).toContain('unknown flag --hepl — did you mean "--help"?');
  });

  it("--backend with an unknown name exits 2 naming the choices", async () => {
    const { status, log } = await selfcheck(["--backend", "cuda"]);
    expect(status).toBe(2);
    expect(log.join("\n")).toContain('--backend must be auto, native, js, webgpu, got "cuda"');
  });

  it("--backend js runs every check and passes", async () => {
    const { status, lines } = await selfcheck(["--backend", "js"]);
    expect(lines.filter((l) => l.startsWith("FAIL"))).toEqual([]);
    expect(status).toBe(0);
    expect(lines[0]).toMatch(/^INFO backend: js — /);
    expect(lines.at(-1)).toMatch(/^selfcheck: PASS in /);
  });
});
