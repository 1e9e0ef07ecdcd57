/**
 * Each package's `dependencies` are exactly what its src/ imports: an undeclared import works in the workspace
 * (pnpm links everything the root has) but breaks a plain `npm install` of the tarball; an unused one makes every
 * user download it. Imports count in every form: static, type-only, dynamic `import()`, `require`/`require.resolve`.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = resolve(import.meta.dirname, "..");
const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(?\s*|\brequire\s*\(\s*|\.resolve\s*\(\s*)["']([^"'./][^"']*)["']/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** "@scope/name/sub/path" → "@scope/name"; "name/sub" → "name". */
function packageOf(specifier: string): string {
  return specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");
}

const workspaces = ["packages", "apps"].flatMap((root) =>
  readdirSync(join(REPO, root))
    .map((name) => join(REPO, root, name))
    .filter((dir) => existsSync(join(dir, "package.json")) && existsSync(join(dir, "src"))),
);

describe("package dependencies match the imports of src/", () => {
  it.each(workspaces.map((dir) => [dir.slice(REPO.length + 1), dir]))("%s", (_, dir) => {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }));
    const imported = new Set<string>();
    for (const file of sourceFiles(join(dir, "src"))) {
      for (const [, specifier] of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
        if (!isBuiltin(specifier!)) imported.add(packageOf(specifier!));
      }
    }
    imported.delete(manifest.name);
    expect(
      [...imported].filter((name) => !declared.has(name)),
      "imported but not in dependencies",
    ).toEqual([]);
    expect(
      [...declared].filter((name) => !imported.has(name)),
      "in dependencies but never imported",
    ).toEqual([]);
  });
});
