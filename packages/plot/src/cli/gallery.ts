// Writes every chart kind on example data to docs/gallery/ (SVG, PNG, PDF): `pnpm --filter @difflens/plot gallery`.
// Optional: `--out <dir>` to write elsewhere.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { exampleFigures } from "../examples.ts";
import { saveFigure } from "../save-figure.ts";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf("--out");
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
  const outDir = outIndex >= 0 && args[outIndex + 1] ? resolve(args[outIndex + 1]!) : join(repoRoot, "docs", "gallery");
  for (const { name, figure } of exampleFigures()) {
    const started = performance.now();
    const written = await saveFigure(figure, join(outDir, name), { formats: ["svg", "png", "pdf"], data: false });
    console.log(`${name}: ${written.map((p) => p.slice(outDir.length + 1)).join(", ")} (${Math.round(performance.now() - started)} ms)`);
  }
  console.log(`gallery written to ${outDir}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
