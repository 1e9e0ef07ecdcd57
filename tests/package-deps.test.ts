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
// Imports, requires, resolves and `/// <reference types="…" />` (a types package the published .d.ts needs).
const SPECIFIER =
  /(?:\bfrom\s+|\bimport\s*\(?\s*|\brequire\s*\(\s*|\.resolve\s*\(\s*|<reference\s+types\s*=\s*)["']([^"'./][^"']*)["']/g;

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
    const declared = new Set(
      Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies }),
    );
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

/** DESIGN §2: dependencies point one way. The allowed @difflens dependencies of each microlibrary. */
const ALLOWED: Record<string, readonly string[]> = {
  "@difflens/common": [],
  "@difflens/stats": [],
  "@difflens/tensor": ["@difflens/common"],
  "@difflens/tokenizer": ["@difflens/common"],
  "@difflens/chat": ["@difflens/common", "@difflens/tokenizer"],
  "@difflens/runtime": ["@difflens/common", "@difflens/tensor", "@difflens/tokenizer", "@difflens/chat"],
  "@difflens/data": ["@difflens/common", "@difflens/tokenizer", "@difflens/chat", "@difflens/tensor"],
  "@difflens/sae": ["@difflens/common", "@difflens/tensor"],
  "@difflens/plot": ["@difflens/common"],
  "@difflens/wandb": ["@difflens/common"],
};

describe("dependencies point one way (DESIGN §2)", () => {
  const packages = workspaces.filter((dir) => dir.includes(`${join(REPO, "packages")}/`));
  it.each(packages.map((dir) => [dir.slice(REPO.length + 1), dir]))("%s", (_, dir) => {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const ours = Object.keys(manifest.dependencies ?? {}).filter((name) => name.startsWith("@difflens/"));
    if (manifest.name === "@difflens/app-kit") {
      expect(ours).not.toContain("@difflens/app-kit");
      return;
    }
    const allowed = ALLOWED[manifest.name];
    expect(allowed, `${manifest.name} has no entry in ALLOWED: add one, following DESIGN §2`).toBeDefined();
    expect(ours.filter((name) => !allowed!.includes(name))).toEqual([]);
  });

  it("no source imports another package's files by path", () => {
    const offenders: string[] = [];
    for (const dir of [...workspaces, join(REPO, "bench"), join(REPO, "tests")]) {
      for (const file of sourceFiles(dir)) {
        if (
          /["'](?:\.\.\/)+(?:packages|apps)\/|["']\.\.\/\.\.\/(?:\.\.\/)?[a-z-]+\/src\//.test(
            readFileSync(file, "utf8"),
          )
        ) {
          offenders.push(file.slice(REPO.length + 1));
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
