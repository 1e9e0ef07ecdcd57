import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli/forward.ts";
import { FIXTURES } from "./helpers.ts";

const MODEL = path.join(FIXTURES, "gqa-tied-bf16");

/** Runs the CLI in-process and keeps what it wrote: `out` (help), `log` (stderr lines), `stdout` (hook list). */
async function run(argv: string[]): Promise<{ code: number; out: string; log: string; stdout: string }> {
  let out = "";
  const lines: string[] = [];
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  const code = await main(argv, { out: (text) => void (out += text), log: (line) => void lines.push(line) });
  const written = stdout.mock.calls.map(([chunk]) => String(chunk)).join("");
  return { code, out, log: lines.join("\n"), stdout: written };
}

afterEach(() => vi.restoreAllMocks());

describe("difflens-forward command line", () => {
  it("--help lists every flag and exits 0", async () => {
    const { code, out } = await run(["--help"]);
    expect(code).toBe(0);
    for (const flag of ["--model", "--tokens", "--text", "--hooks", "--out", "--backend", "--list-hooks"]) {
      expect(out).toContain(flag);
    }
  });

  it("answers a typo'd flag with the nearest one and exit 2", async () => {
    const { code, log } = await run(["--modle", MODEL]);
    expect(code).toBe(2);
    expect(log).toContain('unknown flag --modle — did you mean "--model"?');
  });

  it("--list-hooks prints the model's hook names", async () => {
    const { code, stdout } = await run(["--model", MODEL, "--list-hooks", "--backend", "js"]);
    expect(code).toBe(0);
    const names = stdout.trim().split("\n");
    expect(names).toContain("blocks.0.hook_resid_post");
    expect(names).toContain("blocks.1.attn.hook_pattern");
  });

  it("an unknown hook is a usage error that points at --list-hooks", async () => {
    const out = path.join(FIXTURES, "never-written.safetensors");
    const { code, log } = await run([
      "--model",
      MODEL,
      "--tokens",
      "1,2",
      "--hooks",
      "blocks.0.hook_resid_pots",
      "--out",
      out,
    ]);
    expect(code).toBe(2);
    expect(log).toContain('did you mean "blocks.0.hook_resid_post"');
    expect(log).toContain("--list-hooks");
  });

  it("missing --model is a usage error", async () => {
    expect((await run(["--tokens", "1"])).code).toBe(2);
  });
});
