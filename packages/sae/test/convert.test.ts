import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Tensor } from "@difflens/tensor";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli/convert.ts";
import { convertSae } from "../src/formats/convert.ts";
import { loadSae } from "../src/formats/formats.ts";

const root = mkdtempSync(path.join(tmpdir(), "difflens-sae-convert-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("convertSae", () => {
  it("converts dictionary_learning ae.pt once to sparsify and SAELens folders with the same top-k function", async () => {
    const src = new URL("./fixtures/dictionary-learning", import.meta.url).pathname;
    const orig = await loadSae(src, { batchTopKUseThreshold: false });
    const x = new Tensor(
      "f32",
      [5, 16],
      Float32Array.from({ length: 80 }, (_, i) => Math.cos(i * 0.37) * 2),
    );
    for (const to of ["sparsify", "saelens"] as const) {
      const info = await convertSae(src, path.join(root, to), to);
      expect(info).toMatchObject({ from: "dictionary_learning", to, dIn: 16, dSae: 64, k: 4 });
      const back = await loadSae(path.join(root, to));
      expect(Array.from(back.forward(x).data as Float32Array)).toEqual(
        Array.from(orig.forward(x).data as Float32Array),
      );
    }
  });
});

describe("difflens-convert command line", () => {
  const io = () => {
    const lines: string[] = [];
    let out = "";
    return {
      lines,
      text: () => out,
      io: { out: (t: string) => void (out += t), log: (l: string) => void lines.push(l) },
    };
  };

  it("--help exits 0 and names the arguments", async () => {
    const { io: streams, text } = io();
    expect(await main(["--help"], streams)).toBe(0);
    expect(text()).toContain("usage: difflens-convert SRC DST [flags]");
    expect(text()).toContain("--to FORMAT");
  });

  it("a typo'd flag, a bad --to or a missing argument exits 2 with the reason", async () => {
    const { io: streams, lines } = io();
    expect(await main(["a", "b", "--too", "saelens"], streams)).toBe(2);
    expect(lines.join("\n")).toContain('unknown flag --too — did you mean "--to"?');
    expect(await main(["a", "b", "--to", "gguf"], streams)).toBe(2);
    expect(await main(["a"], streams)).toBe(2);
    expect(lines.join("\n")).toContain("missing DST");
  });

  it("converts like convertSae and exits 0", async () => {
    const src = new URL("./fixtures/dictionary-learning", import.meta.url).pathname;
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    expect(await main([src, path.join(root, "cli-saelens"), "--to", "saelens"])).toBe(0);
    expect(JSON.parse(String(log.mock.calls[0]![0]))).toMatchObject({ from: "dictionary_learning", to: "saelens" });
    log.mockRestore();
  });
});
