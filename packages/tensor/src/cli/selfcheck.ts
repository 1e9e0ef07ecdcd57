#!/usr/bin/env node
/**
 * pnpm selfcheck — a short end-to-end check of the compute core: which backend runs and why (`--backend`, else
 * DIFFLENS_BACKEND, else auto), its BLAS and thread count — or, on webgpu, the adapter (vendor, architecture, limits,
 * features) — kernels on the chosen backend against the js reference, a timed GEMM, and a safetensors round trip.
 * Prints PASS/FAIL/INFO lines; exits 1 if anything failed (webgpu asked for and no adapter: one FAIL line saying why
 * and how to get one). Takes a few seconds (longer on a software Vulkan device: first shader compilations).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliOptions, type Command, isMainModule, runCommand, UsageError } from "@difflens/common";
import type { Backend } from "../backend.ts";
import type { WebgpuBackend } from "../backends/webgpu/index.ts";
import * as tensor from "../index.ts";
import type { Tensor } from "../tensor.ts";
import { adapterLines, isSoftwareAdapter, webgpuReport } from "./selfcheck-adapter.ts";

const {
  Rng,
  fromArray,
  geluTanhGate,
  gemm,
  isaPeak,
  nativeAvailable,
  randn,
  rmsNorm,
  selectBackend,
  softmax,
  sync,
  tanhSoftcap,
  toDevice,
  toFloat32Array,
  toHost,
  topK,
  useBackend,
} = tensor;

/** Below this fraction of the ISA path's peak the timed GEMM is reported as a warning (a wrong kernel, not noise). */
const FAR_BELOW_PEAK = 0.4;

const BACKENDS: readonly string[] = ["auto", "native", "js", "webgpu"];

let failures = 0;
const line = (status: "PASS" | "FAIL" | "INFO" | "WARN", what: string): void => {
  if (status === "FAIL") failures++;
  console.log(`${status.padEnd(4)} ${what}`);
};

function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0,
    n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(d / (n || 1));
}

/** Host inputs → the kernel's host result on the current backend (uploaded, run, read back on a device backend). */
async function runOn(inputs: readonly Tensor[], f: (...xs: Tensor[]) => Tensor): Promise<Float32Array> {
  const out = f(...inputs.map((t) => toDevice(t)));
  return toFloat32Array(await toHost(out)).slice();
}

/** Run f on the chosen backend and on js, return the relative error between them. */
async function compare(backend: Backend, inputs: readonly Tensor[], f: (...xs: Tensor[]) => Tensor): Promise<number> {
  const got = await runOn(inputs, f);
  useBackend("js");
  try {
    return relErr(got, toFloat32Array(f(...inputs)));
  } finally {
    await useBackend(backend.name);
  }
}

const SELFCHECK: Command = {
  summary:
    "A short end-to-end check of the compute core: backend, BLAS, kernels against js, a timed GEMM, safetensors.",
  flags: [
    {
      name: "backend",
      kind: "string",
      value: "B",
      help: "auto | native | js | webgpu (default: DIFFLENS_BACKEND, else auto)",
    },
  ],
  notes: ["Prints PASS/FAIL/INFO lines. Exit status: 0 all passed, 1 a check failed, 2 bad usage."],
  run: async ({ flags }) => {
    failures = 0;
    const requested = flags.backend as string | undefined;
    if (requested !== undefined && !BACKENDS.includes(requested))
      throw new UsageError("USAGE", `selfcheck: --backend must be ${BACKENDS.join(", ")}, got "${requested}"`, {
        field: "--backend",
      });
    try {
      await selfcheck(requested);
    } catch (error) {
      line("FAIL", `selfcheck crashed: ${error instanceof Error ? error.stack : String(error)}`);
    }
    return failures === 0 ? 0 : 1;
  },
};

/** Runs the CLI on `argv` (without the program name); resolves to the exit status. */
export async function main(argv: readonly string[], io: Pick<CliOptions, "out" | "log"> = {}): Promise<number> {
  return runCommand(SELFCHECK, { program: "selfcheck", argv, ...io });
}

/** Runs one check; an exception (a kernel missing on this backend, say) is its FAIL line, not the end of the run. */
async function guarded(name: string, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (error) {
    line("FAIL", `${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Independent of both backends: a GEMM against a float64 triple loop. */
async function gemmAgainstLoop(backend: Backend, a: Tensor, b: Tensor): Promise<void> {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const av = toFloat32Array(a),
    bv = toFloat32Array(b);
  const want = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += av[i * k + p]! * bv[p * n + j]!;
      want[i * n + j] = s;
    }
  const err = relErr(await runOn([a, b], (x, y) => gemm(x!, y!)), want);
  line(
    err <= 2e-5 ? "PASS" : "FAIL",
    `gemm f32 ${m}x${k}x${n} on ${backend.name} vs float64 loop: relative error ${err.toExponential(2)} (tolerance 2e-5)`,
  );
}

/** A timed square GEMM on device tensors (the first call, which compiles a webgpu shader, is not timed). */
async function timedGemm(
  backend: Backend,
  size: number,
  rng: InstanceType<typeof Rng>,
  native: ReturnType<typeof nativeAvailable>,
): Promise<void> {
  const x = toDevice(randn([size, size], rng));
  const y = toDevice(randn([size, size], rng));
  gemm(x, y);
  await sync();
  const reps = 3;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) gemm(x, y);
  await sync();
  const seconds = (performance.now() - t0) / 1000 / reps;
  const gflops = (2 * size ** 3) / seconds / 1e9;
  line(
    gflops > 0 ? "PASS" : "FAIL",
    `timed gemm ${size}x${size}x${size}: ${gflops.toFixed(1)} GFLOP/s (${(seconds * 1000).toFixed(1)} ms)`,
  );
  const peak = native.isa && backend.name === "native" ? isaPeak(native.isa.path, backend.getThreads()) : null;
  if (peak) {
    const fraction = gflops / peak.gflops;
    line(
      fraction >= FAR_BELOW_PEAK ? "INFO" : "WARN",
      `gemm at ${fraction.toFixed(2)} of the ${peak.path} peak ${peak.gflops.toFixed(0)} GFLOP/s (${peak.source})` +
        (fraction >= FAR_BELOW_PEAK
          ? ""
          : ` — far below what this ISA path should give; compare DIFFLENS_GEMM=blas|portable and DIFFLENS_ISA`),
    );
  }
}

async function selfcheck(requested: string | undefined): Promise<void> {
  const started = performance.now();
  const native = nativeAvailable();
  const wantsWebgpu = (requested ?? process.env.DIFFLENS_BACKEND) === "webgpu";
  let backend: Backend;
  let software = false;
  if (wantsWebgpu) {
    const report = await webgpuReport();
    if (!report.ok) {
      line("FAIL", `webgpu: ${report.reason}`);
      return;
    }
    for (const text of adapterLines(report.adapter)) line("INFO", text);
    software = isSoftwareAdapter(report.adapter);
    try {
      backend = await selectBackend(requested);
    } catch (error) {
      line("FAIL", `webgpu backend: ${(error as Error).message}`);
      return;
    }
    line("INFO", `backend: webgpu${software ? " (a software adapter: correctness, not speed)" : ""}`);
  } else {
    backend = await selectBackend(requested);
    const why =
      backend.name === "native"
        ? "native add-on loaded"
        : native.ok
          ? "as asked (the native add-on loads too)"
          : `native add-on unavailable: ${native.reason}`;
    line("INFO", `backend: ${backend.name} — ${why}`);
    line(
      "INFO",
      `GEMM: ${backend.name === "native" ? `${native.gemm ?? "blas"}; BLAS built in: ${native.blas}` : "js reference (float64 accumulation)"}; threads: ${backend.getThreads()} (override with DIFFLENS_GEMM=blas|portable)`,
    );
  }

  if (native.isa && backend.name === "native") {
    line(
      "INFO",
      `ISA path of our blocked GEMM: ${native.isa.path} (${native.isa.reason}; this CPU runs ${native.isa.supported.join(", ")}; ` +
        "force one with DIFFLENS_ISA=avx512|avx2|baseline)",
    );
  }

  const rng = new Rng(1);
  const a = randn([67, 129], rng);
  const b = randn([129, 95], rng);
  const bT = randn([95, 129], rng);
  const b16 = fromArray(toFloat32Array(bT), [95, 129], "bf16");
  const checks: [string, Tensor[], (...xs: Tensor[]) => Tensor, number][] = [
    ["gemm f32 67x129x95", [a, b], (x, y) => gemm(x!, y!), 2e-5],
    ["gemm bf16-B transB", [a, b16], (x, y) => gemm(x!, y!, { transB: true }), 2e-5],
    [
      "softmax causal",
      [randn([12, 40], new Rng(2))],
      (x) => softmax(x!, { causal: { queries: 12, offset: 28 } }),
      1e-6,
    ],
    ["rmsNorm", [a, randn([129], new Rng(3))], (x, w) => rmsNorm(x!, w!, 1e-6), 1e-6],
    // Our own vector tanh (native: one copy per ISA path; webgpu: WGSL) against js's Math.tanh.
    ["tanhSoftcap", [randn([67, 129], new Rng(5), 40)], (x) => tanhSoftcap(x!, 30), 1e-6],
    ["geluTanhGate", [randn([67, 129], new Rng(6), 3), a], (g, u) => geluTanhGate(g!, u!), 1e-6],
    ["topK values", [randn([4, 32768], new Rng(4))], (x) => topK(x!, 32).values, 0],
  ];
  await guarded("gemm vs float64 loop", () => gemmAgainstLoop(backend, a, b));
  for (const [name, inputs, f, tol] of backend.name === "js" ? [] : checks) {
    try {
      const err = await compare(backend, inputs, f);
      line(
        err <= tol ? "PASS" : "FAIL",
        `${name} on ${backend.name} vs js: relative error ${err.toExponential(2)} (tolerance ${tol})`,
      );
    } catch (error) {
      line("FAIL", `${name} on ${backend.name}: ${(error as Error).message}`);
    }
  }

  const size = backend.name === "native" || (backend.name === "webgpu" && !software) ? 2048 : 128;
  await guarded("timed gemm", () => timedGemm(backend, size, rng, native));

  const io = tensor as unknown as {
    writeSafetensors?: (
      path: string,
      tensors: Record<string, Tensor>,
      metadata?: Record<string, string>,
    ) => Promise<void> | void;
    readSafetensors?: (path: string) => Promise<{ tensors: Record<string, Tensor>; metadata?: Record<string, string> }>;
  };
  if (typeof io.writeSafetensors === "function" && typeof io.readSafetensors === "function") {
    const dir = mkdtempSync(join(tmpdir(), "difflens-selfcheck-"));
    try {
      const path = join(dir, "check.safetensors");
      await io.writeSafetensors(path, { w: b16, x: a }, { source: "selfcheck" });
      const back = await io.readSafetensors(path);
      const same =
        relErr(toFloat32Array(back.tensors.w!), toFloat32Array(b16)) === 0 &&
        relErr(toFloat32Array(back.tensors.x!), toFloat32Array(a)) === 0 &&
        back.tensors.w!.dtype === "bf16" &&
        back.metadata?.source === "selfcheck";
      line(same ? "PASS" : "FAIL", "safetensors write → read round trip (bf16 + f32 + metadata)");
    } catch (error) {
      line("FAIL", `safetensors round trip: ${(error as Error).message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    line("INFO", "safetensors round trip skipped (no safetensors exports in this build)");
  }

  if (backend.name === "webgpu") {
    // First compilations dominate a short webgpu run (seconds each on a software adapter): say what they cost.
    const compiled = (backend as WebgpuBackend).context.compileMs;
    const ms = compiled.reduce((sum, c) => sum + c.ms, 0);
    const slowest = compiled.reduce((a, c) => (c.ms > a.ms ? c : a), { key: "none", ms: 0 });
    line(
      "INFO",
      `webgpu pipelines compiled: ${compiled.length} in ${ms.toFixed(0)} ms (slowest ${slowest.key}: ${slowest.ms.toFixed(0)} ms)`,
    );
  }

  const total = (performance.now() - started) / 1000;
  console.log(
    failures === 0
      ? `selfcheck: PASS in ${total.toFixed(1)} s`
      : `selfcheck: FAIL (${failures} failed) in ${total.toFixed(1)} s`,
  );
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
