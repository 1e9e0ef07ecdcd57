/**
 * Every package as a user gets it: `pnpm pack` (which rewrites workspace:*), `npm install` of the tarballs into a
 * fresh plain npm project, `import` with plain node (no tsx, no source condition) and a consumer typechecked by tsc
 * against the installed .d.ts. Third-party dependencies come from a loopback registry over the workspace's own
 * installed copies, so the install needs no network and no npm cache. The tensor add-on builds from its C sources
 * in the consumer, as on a user's machine. Starts with `pnpm build` (turbo, cached), so dist/ is never stale.
 * ~25 s on an idle 2-core machine: npm install 10 s (with the add-on), tsc 5 s, the consumer 3 s.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { nativeAvailable } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StoreRegistry, startStoreRegistry } from "./pack-install/store-registry.ts";

const REPO = resolve(import.meta.dirname, "..");
const PACKAGES = fs
  .readdirSync(join(REPO, "packages"))
  .filter((name) => fs.existsSync(join(REPO, "packages", name, "package.json")));
const tmp = fs.mkdtempSync(join(tmpdir(), "difflens-pack-install-"));
const tarballs = join(tmp, "tarballs");
const project = join(tmp, "project");
let registry: StoreRegistry | undefined;

/** Runs a command; on failure throws with its output (the part that says why). */
async function sh(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { ...options, maxBuffer: 64 << 20 });
    return stdout + stderr;
  } catch (error) {
    const { message, stdout = "", stderr = "" } = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} (in ${options.cwd}): ${message}\n${stdout}\n${stderr}`.slice(-6000));
  }
}

/** The pnpm that started this test (`pnpm test`), else the workspace's own version through npx, as the README does. */
function pnpm(...args: string[]): [string, string[]] {
  const execPath = process.env["npm_execpath"];
  if (execPath && /pnpm/.test(execPath)) {
    return /\.c?js$/.test(execPath) ? [process.execPath, [execPath, ...args]] : [execPath, args];
  }
  const packageManager = JSON.parse(fs.readFileSync(join(REPO, "package.json"), "utf8")).packageManager as string;
  return ["npx", ["--yes", packageManager.split("+")[0]!, ...args]];
}

/** The environment of a user's shell: none of the npm_config_* a package manager exports, no node flags. */
function plainEnv(): NodeJS.ProcessEnv {
  const unset = /^(npm_.*|node_options|https?_proxy)$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !unset.test(key)));
}

beforeAll(async () => {
  await sh(...pnpm("run", "build"), { cwd: REPO });
  await sh(...pnpm("-r", "--filter", "./packages/*", "pack", "--pack-destination", tarballs), { cwd: REPO });
  const dependencies = Object.fromEntries(
    fs.readdirSync(tarballs).map((file) => {
      const name = /^difflens-(.+)-\d+\.\d+\.\d+\.tgz$/.exec(file)![1];
      return [`@difflens/${name}`, `file:../tarballs/${file}`];
    }),
  );
  const devDependencies = { "@types/node": "^20" };
  const manifest = { name: "consumer", private: true, type: "module", dependencies, devDependencies };
  fs.mkdirSync(project);
  fs.writeFileSync(join(project, "package.json"), JSON.stringify(manifest, null, 2));
  registry = await startStoreRegistry(join(REPO, "node_modules", ".pnpm"));
  // An empty cache and user config: nothing from this machine's npm setup reaches the install.
  const npmrc = join(tmp, "npmrc");
  fs.writeFileSync(npmrc, "");
  const config = [`--registry=${registry.url}`, `--cache=${join(tmp, "npm-cache")}`, `--userconfig=${npmrc}`];
  await sh("npm", ["install", ...config, "--no-audit", "--no-fund", "--update-notifier=false"], {
    cwd: project,
    env: plainEnv(),
  });
});

afterAll(async () => {
  await registry?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("packages installed from their tarballs into a plain npm project", () => {
  it("packs every package with its dist/ and without tests or fixtures", () => {
    expect(fs.readdirSync(tarballs).length).toBe(PACKAGES.length);
    for (const name of PACKAGES) {
      const installed = join(project, "node_modules", "@difflens", name);
      expect(fs.existsSync(join(installed, "dist", "index.js")), name).toBe(true);
      expect(fs.existsSync(join(installed, "dist", "index.d.ts")), name).toBe(true);
      expect(fs.existsSync(join(installed, "test")), name).toBe(false);
    }
  });

  it("keeps @difflens/stats free of dependencies", () => {
    const stats = JSON.parse(fs.readFileSync(join(project, "node_modules/@difflens/stats/package.json"), "utf8"));
    expect(Object.keys(stats.dependencies ?? {})).toEqual([]);
  });

  it("typechecks a consumer against the .d.ts (skipLibCheck off) and runs it with plain node", async () => {
    fs.copyFileSync(join(REPO, "tests/pack-install/consumer.ts"), join(project, "consumer.ts"));
    const compilerOptions = {
      module: "nodenext",
      target: "es2022",
      strict: true,
      types: ["node"],
      skipLibCheck: false,
    };
    fs.writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["consumer.ts"] }));
    await sh(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-p", project], { cwd: project });

    const tokenizer = join(REPO, "packages/tokenizer/test/fixtures/qwen");
    const parquet = join(REPO, "datasets/pile-tiny/train.parquet");
    const args = ["consumer.js", tokenizer, parquet, tmp];
    const output = await sh(process.execPath, args, { cwd: project, env: plainEnv() });
    const facts = JSON.parse(output.trim().split("\n").at(-1)!) as { native: boolean; nativeReason: string | null };
    // The add-on built at install in the consumer exactly when it builds in the workspace (same compiler, headers).
    expect(facts.native, facts.nativeReason ?? "").toBe(nativeAvailable().ok);
    expect(fs.readdirSync(tmp)).toEqual(expect.arrayContaining(["figure.svg", "figure.png", "figure.pdf", "wandb"]));
  });
});
