// Writes every chart kind on example data to docs/gallery/ (SVG, PNG, PDF): `pnpm --filter @difflens/plot gallery`.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type CliOptions, type Command, isMainModule, runCommand } from "@difflens/common";
import { exampleFigures } from "../examples.ts";
import { saveFigure } from "../save-figure.ts";

const GALLERY: Command = {
  summary: "Write every chart kind on example data as SVG, PNG and PDF.",
  flags: [
    { name: "out", kind: "string", value: "DIR", help: "where to write (default docs/gallery/ of the repository)" },
  ],
  run: async ({ flags, log }) => {
    const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
    const out = flags["out"] as string | undefined;
    const outDir = out !== undefined ? resolve(out) : join(repoRoot, "docs", "gallery");
    for (const { name, figure } of exampleFigures()) {
      const started = performance.now();
      const written = await saveFigure(figure, join(outDir, name), { formats: ["svg", "png", "pdf"], data: false });
      const files = written.map((p) => p.slice(outDir.length + 1)).join(", ");
      log(`${name}: ${files} (${Math.round(performance.now() - started)} ms)`);
    }
    log(`gallery written to ${outDir}`);
    return 0;
  },
};

/** Runs the CLI on `argv` (without the program name); resolves to the exit status. */
export async function main(argv: readonly string[], io: Pick<CliOptions, "out" | "log"> = {}): Promise<number> {
  return runCommand(GALLERY, { program: "gallery", argv, ...io });
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
