import { describe, expect, it } from "vitest";
import { main } from "../src/cli/selfcheck.ts";

describe("selfcheck command line", () => {
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
    expect(await main(["--hepl"], io)).toBe(2);
    expect(lines.join("\n")).toContain('unknown flag --hepl — did you mean "--help"?');
  });
});
