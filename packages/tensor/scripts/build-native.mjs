#!/usr/bin/env node
// Builds the native add-on (build/Release/difflens_tensor.node) with node-gyp. Run by `pnpm install`
// (the package's install script) and by hand. It never fails the install: on any problem it prints
// one line saying why and exits 0, and the package falls back to the js backend at run time.
//
//  1. Node headers offline: honours npm_config_nodedir; else uses /usr/include/node when present
//     (Debian nodejs-dev) via --nodedir; otherwise node-gyp uses its header cache (it downloads only if
//     that cache is empty and no nodedir is known — we never ask it to).
//  2. BLAS: DIFFLENS_BLAS=none|openblas|mkl|accelerate|cblas forces a choice; otherwise the first
//     candidate whose test program compiles and links wins (OpenBLAS, MKL via MKLROOT, Accelerate on
//     macOS, a generic -lcblas). Without one we build our own portable GEMM and say so once.
//  3. Flags: -O3 without -march=native (the .node must run on other machines of the same OS/arch);
//     the hot loops are multiversioned for AVX-512 / AVX2 at load time instead (native/difflens.h).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
const log = (line) => console.log(`[difflens/tensor] ${line}`);

function main() {
  if (process.env.DIFFLENS_SKIP_NATIVE === "1") {
    log("native add-on skipped (DIFFLENS_SKIP_NATIVE=1); the js backend will be used");
    return;
  }
  const cc = process.env.CC || "cc";
  const blas = detectBlas(cc);
  if (blas.name === "none")
    log(
      `no system CBLAS found (${blas.why}); building our own portable blocked GEMM (libopenblas-dev would give a vendor-tuned one)`,
    );
  else log(`BLAS: ${blas.name} (${blas.cflags.join(" ")} ${blas.libs.join(" ")})`.replace(/\s+\)/, ")"));

  const gyp = findNodeGyp();
  if (!gyp) {
    log("native add-on not built: no node-gyp (npm_config_node_gyp unset, none on PATH); the js backend will be used");
    return;
  }
  const args = [
    ...gyp.args,
    "rebuild",
    `--dl_blas=${blas.name}`,
    `--dl_blas_cflags=${blas.cflags.join(" ")}`,
    `--dl_blas_libs=${blas.libs.join(" ")}`,
  ];
  if (!process.env.npm_config_nodedir && existsSync("/usr/include/node/node_api.h")) args.push("--nodedir=/usr");
  const started = Date.now();
  const result = spawnSync(gyp.command, args, { cwd: packageDir, encoding: "utf8", env: { ...process.env } });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ""}\n${result.stderr ?? ""}`;
    const firstError =
      output
        .split("\n")
        .find((l) => /error|not found|ENOENT|EACCES/i.test(l))
        ?.trim() ?? `exit code ${result.status}`;
    log(`native add-on not built (node-gyp failed: ${firstError.slice(0, 200)}); the js backend will be used`);
    if (!quiet && process.env.DIFFLENS_BUILD_VERBOSE === "1") console.log(output);
    return;
  }
  log(`native add-on built in ${((Date.now() - started) / 1000).toFixed(1)} s: build/Release/difflens_tensor.node`);
}

// node-gyp is a devDependency (the workspace pins its version), not a dependency: a user's install gets the one
// the package manager bundles for install scripts (npm names it in npm_config_node_gyp and puts a shim on PATH),
// so no one downloads node-gyp's ~70 dependencies to build a 3-second add-on.
function findNodeGyp() {
  const local = join(packageDir, "node_modules", ".bin", "node-gyp");
  if (existsSync(local)) return { command: local, args: [] };
  const lib = join(packageDir, "node_modules", "node-gyp", "bin", "node-gyp.js");
  if (existsSync(lib)) return { command: process.execPath, args: [lib] };
  const bundled = process.env.npm_config_node_gyp;
  if (bundled && existsSync(bundled)) {
    return /\.[cm]?js$/.test(bundled) ? { command: process.execPath, args: [bundled] } : { command: bundled, args: [] };
  }
  const which = spawnSync("node-gyp", ["--version"], { encoding: "utf8" });
  return which.status === 0 ? { command: "node-gyp", args: [] } : null;
}

/** The first BLAS whose test program compiles, links and calls cblas_sgemm. */
function detectBlas(cc) {
  const forced = process.env.DIFFLENS_BLAS;
  const candidates = blasCandidates().filter((c) => !forced || c.name === forced);
  if (forced === "none") return { name: "none", cflags: [], libs: [], why: "DIFFLENS_BLAS=none" };
  const dir = mkdtempSync(join(tmpdir(), "difflens-blas-"));
  try {
    for (const c of candidates) {
      const src = join(dir, "probe.c");
      writeFileSync(
        src,
        `#include ${c.header}\nint main(void){float a=1,b=2,c=0;cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,1,1,1,1.0f,&a,1,&b,1,0.0f,&c,1);return c==2.0f?0:1;}\n`,
      );
      const exe = join(dir, "probe");
      const built = spawnSync(cc, [src, "-o", exe, ...c.cflags, ...c.libs], { encoding: "utf8" });
      if (built.status === 0 && spawnSync(exe).status === 0) return c;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const why = forced
    ? `DIFFLENS_BLAS=${forced} did not compile and link`
    : `tried ${candidates.map((c) => c.name).join(", ")}`;
  return { name: "none", cflags: [], libs: [], why };
}

function blasCandidates() {
  const list = [];
  if (process.platform === "darwin") {
    list.push({
      name: "accelerate",
      header: "<Accelerate/Accelerate.h>",
      cflags: ["-DACCELERATE_NEW_LAPACK"],
      libs: ["-framework", "Accelerate"],
    });
  }
  if (process.env.MKLROOT) {
    list.push({
      name: "mkl",
      header: "<mkl.h>",
      cflags: [`-I${process.env.MKLROOT}/include`],
      libs: [
        `-L${process.env.MKLROOT}/lib/intel64`,
        `-L${process.env.MKLROOT}/lib`,
        "-lmkl_rt",
        `-Wl,-rpath,${process.env.MKLROOT}/lib/intel64`,
        `-Wl,-rpath,${process.env.MKLROOT}/lib`,
      ],
    });
  }
  // OpenBLAS's own cblas.h first (Debian keeps it per threading flavour), then the generic locations.
  for (const inc of [
    "/usr/include/x86_64-linux-gnu/openblas-pthread",
    "/usr/include/aarch64-linux-gnu/openblas-pthread",
    "/usr/include/openblas",
    "/usr/local/include/openblas",
    "/opt/homebrew/opt/openblas/include",
    "/usr/local/opt/openblas/include",
  ]) {
    if (existsSync(join(inc, "cblas.h"))) {
      const libDir =
        inc.includes("homebrew") || inc.includes("/usr/local/opt") ? [`-L${inc.replace(/include$/, "lib")}`] : [];
      list.push({ name: "openblas", header: "<cblas.h>", cflags: [`-I${inc}`], libs: [...libDir, "-lopenblas"] });
    }
  }
  list.push({ name: "openblas", header: "<cblas.h>", cflags: [], libs: ["-lopenblas"] });
  list.push({ name: "cblas", header: "<cblas.h>", cflags: [], libs: ["-lcblas"] });
  return list;
}

try {
  main();
} catch (error) {
  log(
    `native add-on not built (${error instanceof Error ? error.message : String(error)}); the js backend will be used`,
  );
}
process.exit(0);
