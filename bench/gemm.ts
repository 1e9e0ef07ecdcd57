/**
 * pnpm bench:gemm — our blocked GEMM on every ISA path this CPU runs (avx512, avx2, baseline), each against
 * OpenBLAS restricted to the same ISA and against numpy, on the same shapes and thread count.
 *
 * One child process per path: DIFFLENS_ISA picks our path, OPENBLAS_CORETYPE restricts OpenBLAS (read once, when the
 * library loads) to its kernels for that ISA: SkylakeX (AVX-512), Haswell (AVX2+FMA), Nehalem (SSE). OpenBLAS is the
 * add-on's linked BLAS (DIFFLENS_GEMM=blas) and numpy's (Debian python3-numpy), both in the child's environment; each
 * reports the core it chose. In each pair ours, OpenBLAS and numpy run one timed GEMM each, the order flipped every
 * pair; ≥ 5 pairs per shape, more for short shapes (up to ~1.5 s of timed calls, ≤ 101 pairs); medians of per-pair
 * ratios. OpenBLAS's idle workers spin only ~20 µs after a call here (OPENBLAS_THREAD_TIMEOUT, set by the add-on's
 * loader and inherited by numpy), so no timed call shares the cores with the previous call's spinning threads. numpy
 * runs in one long-lived /usr/bin/python3 fed over stdin, so its start-up is never timed. Shapes (M×K×N):
 * 4096×2048×16384 (the headline), 4096×1024×32768 (SAE encoder), and attention-like 2048×64×2048 (Q·Kᵀ, head dim 64
 * as K) and 2048×2048×128 (weights·V, head dim 128 as N); then B in bf16 at the first two (ours widens in packing, OpenBLAS path widens per tile).
 * The peak of each path is threads × clock measured now × the path's FLOP/cycle (packages/tensor/src/peak.ts).
 * Lines: gemm_ratio_vs_openblas_same_isa{isa,dtype,shape}=…, gemm_ratio_vs_numpy{isa,shape}=…,
 * gemm_gflops{isa,dtype,shape}=…, gemm_peak_fraction{isa,shape}=…; last, gemm_ratio_vs_numpy=… for the best path.
 * Environment: DIFFLENS_BENCH_PAIRS (default 5), DIFFLENS_BENCH_THREADS (default 2),
 * DIFFLENS_BENCH_PATHS (comma-separated, default every path the CPU runs).
 */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import {
  f32ArrayToBf16,
  gemm,
  type IsaPath,
  isaPeak,
  loadNativeAddon,
  nativeAvailable,
  Rng,
  Tensor,
  useBackend,
  zeros,
} from "@difflens/tensor";

const NUMPY_FLOOR_GFLOPS = 20;
const PAIRS = Math.max(5, Number(process.env.DIFFLENS_BENCH_PAIRS ?? 5));
/** Short shapes (the attention-like ones run 2–15 ms) get more pairs, up to this many seconds of timed work each. */
const SECONDS_PER_SHAPE = 1.5;
const MAX_PAIRS = 101;
/** Pairs for a shape whose one call takes `seconds`, `calls` timed calls per pair: odd, so the median is a pair. */
const pairsFor = (seconds: number, calls: number): number => {
  const fit = Math.floor(SECONDS_PER_SHAPE / (calls * seconds));
  return Math.min(MAX_PAIRS, Math.max(PAIRS, fit)) | 1;
};
const THREADS = Number(process.env.DIFFLENS_BENCH_THREADS ?? 2);
const SHAPES: [number, number, number][] = [
  [4096, 2048, 16384],
  [4096, 1024, 32768],
  [2048, 64, 2048],
  [2048, 2048, 128],
];
const BF16_SHAPES = SHAPES.slice(0, 2);
const OPENBLAS_CORE: Record<IsaPath, string> = {
  avx512: "SkylakeX",
  avx2: "Haswell",
  neon: "ARMV8",
  baseline: "Nehalem",
};
const CHILD_FLAG = "--isa-child=";

const PYTHON_PEER = `
import sys, time, json, os, ctypes
import numpy as np
def blas_libs():
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path)
            if any(s in name for s in ("blas", "mkl", "lapack", "blis", "atlas")):
                libs.add(os.path.realpath(path))
    return sorted(libs)
def core(libs):
    for path in libs:
        try:
            f = ctypes.CDLL(path).openblas_get_corename
            f.restype = ctypes.c_char_p
            return f().decode()
        except Exception:
            pass
    return "?"
libs = blas_libs()
print(json.dumps({"numpy": np.__version__, "blas": libs, "core": core(libs)}), flush=True)
arrays = {}
for line in sys.stdin:
    m, k, n = map(int, line.split())
    if (m, k, n) not in arrays:
        rng = np.random.default_rng(0)
        a = rng.random((m, k), dtype=np.float32); b = rng.random((k, n), dtype=np.float32); c = np.empty((m, n), np.float32)
        np.matmul(a, b, out=c)  # warm-up: page faults and BLAS thread start-up are not timed
        arrays = {(m, k, n): (a, b, c)}
    a, b, c = arrays[(m, k, n)]
    t0 = time.perf_counter(); np.matmul(a, b, out=c); dt = time.perf_counter() - t0
    print(dt, flush=True)
`;

class NumpyPeer {
  private readonly lines: AsyncIterator<string>;
  private readonly proc;
  constructor(threads: number) {
    const env = {
      ...process.env,
      OPENBLAS_NUM_THREADS: String(threads),
      OMP_NUM_THREADS: String(threads),
      MKL_NUM_THREADS: String(threads),
    };
    this.proc = spawn("/usr/bin/python3", ["-u", "-c", PYTHON_PEER], { env, stdio: ["pipe", "pipe", "inherit"] });
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  async next(): Promise<string> {
    const r = await this.lines.next();
    if (r.done) throw new Error("numpy peer exited (is /usr/bin/python3 with numpy installed?)");
    return r.value;
  }
  async time(m: number, k: number, n: number): Promise<number> {
    this.proc.stdin.write(`${m} ${k} ${n}\n`);
    return Number(await this.next());
  }
  close(): void {
    this.proc.stdin.end();
  }
}

function randomF32(size: number, rng: Rng): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.nextFloat32();
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const gflops = (m: number, k: number, n: number, seconds: number): number => (2 * m * k * n) / seconds / 1e9;

/** One timed GEMM with the given implementation, into a preallocated C (numpy also writes into out=). */
function timeGemm(impl: "portable" | "blas", a: Tensor, b: Tensor, c: Tensor): number {
  loadNativeAddon().addon!.setGemmImpl(impl);
  const t0 = performance.now();
  gemm(a, b, { out: c });
  return (performance.now() - t0) / 1000;
}

function spotCheck(a: Float32Array, bValue: (p: number, j: number) => number, c: Float32Array, shape: number[]): void {
  const [m, k, n] = shape as [number, number, number];
  for (const [i, j] of [
    [0, 0],
    [m - 1, n - 1],
    [m >> 1, n >> 3],
  ] as [number, number][]) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p]! * bValue(p, j);
    const got = c[i * n + j]!;
    if (Math.abs(got - s) > 1e-4 * Math.abs(s) + 1e-3) throw new Error(`wrong result at C[${i},${j}]: ${got} vs ${s}`);
  }
}

const label = (fields: Record<string, string>): string =>
  `{${Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(",")}}`;

/** The child: one ISA path (already forced through DIFFLENS_ISA / OPENBLAS_CORETYPE by the parent). */
async function benchPath(path: IsaPath): Promise<number> {
  const native = nativeAvailable();
  if (!native.ok) {
    console.log(`native backend unavailable: ${native.reason}`);
    return 1;
  }
  if (native.isa?.path !== path) throw new Error(`asked for ISA path ${path}, the add-on runs ${native.isa?.path}`);
  if (native.blas!.startsWith("portable")) throw new Error("the add-on has no BLAS to compare with (libopenblas-dev)");
  useBackend("native").setThreads(THREADS);
  const peak = isaPeak(path, THREADS);
  console.log(`[${path}] ours: blocked GEMM, ISA path ${path} (${native.isa.reason}); vs ${native.blas}`);
  console.log(`[${path}] peak: ${peak ? `${peak.gflops.toFixed(0)} GFLOP/s = ${peak.source}` : "unknown"}`);
  const peer = new NumpyPeer(THREADS);
  const info = JSON.parse(await peer.next()) as { numpy: string; blas: string[]; core: string };
  console.log(`[${path}] numpy ${info.numpy}, OpenBLAS core ${info.core}, mapped: ${info.blas.join(", ") || "none"}`);
  const rng = new Rng(2024);
  let headlineVsNumpy = NaN;
  for (const [m, k, n] of SHAPES) {
    const shape = `${m}x${k}x${n}`;
    const a = new Tensor("f32", [m, k], randomF32(m * k, rng));
    const b = new Tensor("f32", [k, n], randomF32(k * n, rng));
    const c = zeros([m, n]);
    timeGemm("portable", a, b, c); // warm-up, and a check that the forced path computes the right thing
    spotCheck(a.data, (p, j) => b.data[p * n + j]!, c.data, [m, k, n]);
    const pairs = pairsFor(Math.max(timeGemm("blas", a, b, c), timeGemm("portable", a, b, c)), 3);
    const ours: number[] = [],
      blas: number[] = [],
      numpy: number[] = [],
      vsBlas: number[] = [],
      vsNumpy: number[] = [];
    for (let p = 0; p < pairs; p++) {
      let o: number, x: number, q: number;
      if (p % 2 === 0) {
        o = timeGemm("portable", a, b, c);
        x = timeGemm("blas", a, b, c);
        q = await peer.time(m, k, n);
      } else {
        q = await peer.time(m, k, n);
        x = timeGemm("blas", a, b, c);
        o = timeGemm("portable", a, b, c);
      }
      ours.push(gflops(m, k, n, o));
      blas.push(gflops(m, k, n, x));
      numpy.push(gflops(m, k, n, q));
      vsBlas.push(x / o);
      vsNumpy.push(q / o);
    }
    const fmt = (xs: number[]) => (xs.length > 9 ? `${xs.length} pairs` : xs.map((g) => g.toFixed(1)).join(", "));
    console.log(
      `[${path}] ${shape} f32: ours ${median(ours).toFixed(1)} GFLOP/s (${fmt(ours)}), OpenBLAS ${median(blas).toFixed(1)} (${fmt(blas)}), numpy ${median(numpy).toFixed(1)} (${fmt(numpy)})`,
    );
    const f32Label = label({ isa: path, dtype: "f32", shape });
    console.log(`gemm_gflops${f32Label}=${median(ours).toFixed(1)}`);
    console.log(`gemm_ratio_vs_openblas_same_isa${f32Label}=${median(vsBlas).toFixed(3)}`);
    console.log(`gemm_ratio_vs_numpy${label({ isa: path, shape })}=${median(vsNumpy).toFixed(3)}`);
    if (peak)
      console.log(`gemm_peak_fraction${label({ isa: path, shape })}=${(median(ours) / peak.gflops).toFixed(3)}`);
    if (Number.isNaN(headlineVsNumpy)) {
      headlineVsNumpy = median(vsNumpy);
      if (median(numpy) < NUMPY_FLOOR_GFLOPS)
        console.log(`[${path}] numpy ran at ${median(numpy).toFixed(1)} GFLOP/s: busy machine or no optimized BLAS`);
    }
  }
  peer.close();

  for (const [m, k, n] of BF16_SHAPES) {
    const shape = `${m}x${k}x${n}`;
    const a = new Tensor("f32", [m, k], randomF32(m * k, rng));
    const b16 = new Tensor("bf16", [k, n], f32ArrayToBf16(randomF32(k * n, rng)));
    const c = zeros([m, n]);
    timeGemm("portable", a, b16, c);
    const f32 = new Float32Array(1),
      u32 = new Uint32Array(f32.buffer);
    const bf16At = (p: number, j: number): number => {
      u32[0] = b16.data[p * n + j]! << 16;
      return f32[0]!;
    };
    spotCheck(a.data, bf16At, c.data, [m, k, n]);
    const pairs = pairsFor(Math.max(timeGemm("blas", a, b16, c), timeGemm("portable", a, b16, c)), 2);
    const ours: number[] = [],
      blas: number[] = [],
      vsBlas: number[] = [];
    for (let p = 0; p < pairs; p++) {
      const first = p % 2 === 0 ? "portable" : "blas";
      const t1 = timeGemm(first, a, b16, c);
      const t2 = timeGemm(first === "portable" ? "blas" : "portable", a, b16, c);
      const [o, x] = first === "portable" ? [t1, t2] : [t2, t1];
      ours.push(gflops(m, k, n, o));
      blas.push(gflops(m, k, n, x));
      vsBlas.push(x / o);
    }
    console.log(
      `[${path}] ${shape} bf16-B: ours ${median(ours).toFixed(1)} GFLOP/s, OpenBLAS (widened per tile) ${median(blas).toFixed(1)}`,
    );
    const bf16Label = label({ isa: path, dtype: "bf16", shape });
    console.log(`gemm_gflops${bf16Label}=${median(ours).toFixed(1)}`);
    console.log(`gemm_ratio_vs_openblas_same_isa${bf16Label}=${median(vsBlas).toFixed(3)}`);
  }
  console.log(`[${path}] gemm_ratio_vs_numpy_headline=${headlineVsNumpy.toFixed(3)}`);
  return 0;
}

/** The parent: one child per ISA path, in the environment that forces it; the last line from the best path. */
async function main(): Promise<number> {
  const native = nativeAvailable();
  if (!native.ok || !native.isa) {
    console.log(`native backend unavailable or too old for ISA paths: ${native.reason ?? "no isa()"}`);
    return 1;
  }
  const wanted = process.env.DIFFLENS_BENCH_PATHS?.split(",").map((p) => p.trim());
  const paths = native.isa.supported.filter((p) => !wanted || wanted.includes(p));
  console.log(
    `threads=${THREADS}; paths: ${paths.join(", ")} (this CPU runs ${native.isa.supported.join(", ")}); load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  let best: string | undefined;
  for (const path of paths) {
    const env = { ...process.env, DIFFLENS_ISA: path, OPENBLAS_CORETYPE: OPENBLAS_CORE[path] };
    const script = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, [...process.execArgv, script, `${CHILD_FLAG}${path}`], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    for await (const line of createInterface({ input: child.stdout })) {
      console.log(line);
      const headline = /gemm_ratio_vs_numpy_headline=(\S+)/.exec(line);
      if (headline) best ??= headline[1];
    }
    const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
    if (code !== 0) return code;
  }
  if (best) console.log(`gemm_ratio_vs_numpy=${best}`);
  return 0;
}

const childPath = process.argv.find((a) => a.startsWith(CHILD_FLAG))?.slice(CHILD_FLAG.length) as IsaPath | undefined;
(childPath ? benchPath(childPath) : main()).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
