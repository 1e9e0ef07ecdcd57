// The arm64 NEON GEMM path (native/gemm-neon.c) and the NEON build of the vector tanh (native/activations.h), checked
// for correctness only: C harnesses are cross-compiled with the real sources for aarch64 and run under qemu-user,
// which says nothing about speed on real arm64 hardware.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const CC = "aarch64-linux-gnu-gcc";
const QEMU = "qemu-aarch64";
const nativeDir = fileURLToPath(new URL("../native/", import.meta.url));
// The sources the add-on's GEMM is built from (binding.gyp), minus the Node binding and the non-GEMM kernels.
const sources = [
  "test/gemm-harness.c",
  "gemm.c",
  "gemm-neon.c",
  "gemm-baseline.c",
  "isa.c",
  "threadpool.c",
  "convert.c",
];

function onPath(tool: string): boolean {
  return spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0;
}
const missing = [CC, QEMU].filter((tool) => !onPath(tool));
const skipReason = missing.length
  ? `${missing.join(" and ")} not on the PATH (Debian: apt-get install gcc-aarch64-linux-gnu qemu-user)`
  : "";
// The default reporter prints only "skipped" for a wholly skipped file; say why on stderr.
if (skipReason) process.stderr.write(`arm64-qemu.test.ts: skipped: ${skipReason}\n`);

// "M,K,N,transA,transB,bDtype,alpha,beta", as gemm-harness.c reads them.
const cases = [
  "1,1,1,0,0,f32,1,0",
  "3,5,7,0,0,f32,0.5,0.25",
  "3,5,7,1,0,f32,0.5,0.25",
  "3,5,7,0,1,f32,0.5,0.25",
  "3,5,7,1,1,f32,0.5,0.25",
  "7,13,17,0,0,f32,1,0", // every dimension below one micro-tile
  "17,33,65,0,0,f32,1,0",
  "13,31,47,0,0,bf16,1,0",
  "13,31,47,1,1,f16,1,0",
  "1,257,129,0,1,bf16,1,0",
  "3,257,129,0,1,f16,1,1",
  "96,64,200,0,1,f32,1,0", // attention scores: K = head dim, transposed B
  "97,700,100,0,0,f32,1,0.5", // K > KC with a narrow B: every K slice packed at once
  "50,600,40,1,1,bf16,1,0",
  "97,257,4113,0,0,f32,1,0.5", // crosses MC, KC and NC
];

describe.skipIf(skipReason !== "")(
  `arm64 NEON GEMM under qemu-user${skipReason ? ` (skipped: ${skipReason})` : ""}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), "difflens-arm64-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("matches a float64 loop within 1e-6·√K on the neon and baseline paths", () => {
      const binary = join(dir, "gemm-harness");
      const flags = ["-O3", "-std=gnu11", "-fno-math-errno", "-pthread", "-Wall", "-Wno-unused-parameter"];
      // -Wno-unused-function: gemm.c built without a BLAS leaves its BLAS-only helpers unused.
      const cc = spawnSync(CC, [...flags, "-Wno-unused-function", "-static", "-o", binary, ...sources, "-lm", "-ldl"], {
        cwd: nativeDir,
        encoding: "utf8",
      });
      expect(cc.status, `${CC} failed:\n${cc.stderr}`).toBe(0);
      const run = spawnSync(QEMU, [binary, ...cases], {
        encoding: "utf8",
        env: { ...process.env, DIFFLENS_ISA: "", DIFFLENS_THREADS: "2" },
        timeout: 60_000,
      });
      const lines = run.stdout.trim().split("\n");
      expect(lines[0], "the default path on arm64").toBe("default neon");
      const runs = lines.slice(1).map((line) => {
        const [path, name, err, tol] = line.split(" ");
        return { path, name, err: Number(err), tol: Number(tol) };
      });
      for (const r of runs)
        expect(r.err, `${r.path} ${r.name}: relative error ${r.err} > ${r.tol}`).toBeLessThanOrEqual(r.tol);
      expect(runs.map((r) => `${r.path} ${r.name}`)).toEqual(cases.flatMap((c) => [`neon ${c}`, `baseline ${c}`]));
      expect(run.status, run.stderr).toBe(0);
    }, 90_000); // ~6 s alone; emulation slows ~3× when the shared machine is busy (the run itself stops at 60 s)

    it("runs the vector tanh (tanhSoftcap, geluTanhGate) on NEON within 2e-6 of float64, saturating exactly", () => {
      const binary = join(dir, "activations-harness");
      const flags = ["-O3", "-std=gnu11", "-fno-math-errno", "-pthread", "-Wall", "-Wno-unused-parameter"];
      const activationSources = [
        "test/activations-harness.c",
        "activations.c",
        "activations-baseline.c",
        "activations-avx2.c",
        "activations-avx512.c",
        "isa.c",
        "threadpool.c",
      ];
      const cc = spawnSync(CC, [...flags, "-static", "-o", binary, ...activationSources, "-lm"], {
        cwd: nativeDir,
        encoding: "utf8",
      });
      expect(cc.status, `${CC} failed:\n${cc.stderr}`).toBe(0);
      const run = spawnSync(QEMU, [binary], {
        encoding: "utf8",
        env: { ...process.env, DIFFLENS_ISA: "", DIFFLENS_THREADS: "2" },
        timeout: 60_000,
      });
      expect(run.stdout).toMatch(/^tanh [\d.e+-]+\ngelu [\d.e+-]+\nsaturation ok\n$/);
      expect(run.status, run.stdout + run.stderr).toBe(0);
    }, 60_000); // ~1.2 s alone (compile, then 0.5 s under qemu)
  },
);
