/**
 * pnpm bench:gemm — our native f32 GEMM against numpy (Debian python3-numpy → OpenBLAS) on the same
 * shapes and thread count, alternating single timed runs (order flipped every pair), ≥ 5 pairs per
 * shape. numpy runs in one long-lived /usr/bin/python3 fed over stdin, so its start-up is never timed.
 * Shapes (M×K×N): 4096×2048×16384 first (the headline), then the SAE-shaped 4096×1024×32768, then a
 * bf16-B run of ours (per-tile widening). When the add-on has a BLAS, each pair also times the GEMM
 * implementation that is not the default (blas or our portable one), so the default choice can be
 * checked against it in the same run. Last line: gemm_ratio_vs_numpy=<median per-pair ratio, first shape>.
 * Environment: DIFFLENS_BENCH_PAIRS (default 5), DIFFLENS_BENCH_THREADS (default 2).
 */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { createInterface } from "node:readline";
import {
  currentBackend,
  f32ArrayToBf16,
  gemm,
  loadNativeAddon,
  nativeAvailable,
  Rng,
  Tensor,
  useBackend,
  zeros,
} from "@difflens/tensor";

const PEAK_GFLOPS = 320; // 2 cores × 2.5 GHz × 64 f32 FLOP/cycle (AVX-512, 2 FMA units)
const NUMPY_FLOOR_GFLOPS = 150;
const PAIRS = Math.max(5, Number(process.env.DIFFLENS_BENCH_PAIRS ?? 5));
const THREADS = Number(process.env.DIFFLENS_BENCH_THREADS ?? 2);
const SHAPES: [number, number, number][] = [
  [4096, 2048, 16384],
  [4096, 1024, 32768],
];

const PYTHON_PEER = String.raw`
import sys, time, json, os
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
print(json.dumps({"numpy": np.__version__, "blas": blas_libs()}), flush=True)
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

/** One timed GEMM of ours, into a preallocated C (numpy also writes into out=). */
function timeOurs(a: Tensor, b: Tensor, c: Tensor): number {
  const t0 = performance.now();
  gemm(a, b, { out: c });
  return (performance.now() - t0) / 1000;
}

function spotCheck(
  a: Float32Array,
  bValue: (p: number, j: number) => number,
  c: Float32Array,
  m: number,
  k: number,
  n: number,
): void {
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

async function main(): Promise<number> {
  const native = nativeAvailable();
  if (!native.ok) {
    console.log(`native backend unavailable: ${native.reason}`);
    return 1;
  }
  useBackend("native");
  currentBackend().setThreads(THREADS);
  console.log(
    `threads=${THREADS} (ours: setThreads(${THREADS}); numpy: OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=${THREADS})`,
  );
  const addon = loadNativeAddon().addon!;
  const defaultImpl: "blas" | "portable" =
    native.gemm?.startsWith("portable") || native.blas!.startsWith("portable") ? "portable" : "blas";
  const otherImpl = native.blas!.startsWith("portable") ? null : defaultImpl === "blas" ? "portable" : "blas";
  console.log(`ours: difflens native add-on, GEMM ${native.gemm ?? defaultImpl}; BLAS built in: ${native.blas}`);
  if (otherImpl) console.log(`each pair also times ours with the other implementation (${otherImpl}) for comparison`);
  const peer = new NumpyPeer(THREADS);
  const info = JSON.parse(await peer.next()) as { numpy: string; blas: string[] };
  console.log(`numpy ${info.numpy}, BLAS libraries mapped: ${info.blas.join(", ") || "none found"}`);
  console.log(
    `load average at start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")} (other processes on this 2-core machine add noise)`,
  );

  const rng = new Rng(2024);
  let firstOurs = 0,
    firstNumpy = 0,
    firstRatio = 0;
  for (const [si, [m, k, n]] of SHAPES.entries()) {
    const a = new Tensor("f32", [m, k], randomF32(m * k, rng));
    const b = new Tensor("f32", [k, n], randomF32(k * n, rng));
    const c = zeros([m, n]);
    timeOurs(a, b, c); // warm-up
    spotCheck(a.data, (p, j) => b.data[p * n + j]!, c.data, m, k, n);
    const ours: number[] = [],
      numpy: number[] = [],
      ratios: number[] = [],
      other: number[] = [],
      vsOther: number[] = [];
    const timeOther = (): number => {
      addon.setGemmImpl(otherImpl!);
      try {
        return timeOurs(a, b, c);
      } finally {
        addon.setGemmImpl(defaultImpl);
      }
    };
    if (otherImpl) timeOther(); // warm-up of the other implementation too
    for (let p = 0; p < PAIRS; p++) {
      let o: number,
        q: number,
        x = NaN;
      if (p % 2 === 0) {
        o = timeOurs(a, b, c);
        if (otherImpl) x = timeOther();
        q = await peer.time(m, k, n);
      } else {
        q = await peer.time(m, k, n);
        if (otherImpl) x = timeOther();
        o = timeOurs(a, b, c);
      }
      const go = gflops(m, k, n, o),
        gq = gflops(m, k, n, q),
        gx = gflops(m, k, n, x);
      ours.push(go);
      numpy.push(gq);
      ratios.push(go / gq);
      if (otherImpl) {
        other.push(gx);
        vsOther.push(go / gx);
      }
      const otherText = otherImpl ? `, ours/${otherImpl} ${gx.toFixed(1)} GFLOP/s` : "";
      console.log(
        `  ${m}x${k}x${n} pair ${p + 1}: ours/${defaultImpl} ${go.toFixed(1)} GFLOP/s${otherText}, numpy ${gq.toFixed(1)} GFLOP/s, ratio ${(go / gq).toFixed(3)}`,
      );
    }
    console.log(
      `${m}x${k}x${n}: ours median ${median(ours).toFixed(1)} GFLOP/s, numpy median ${median(numpy).toFixed(1)} GFLOP/s, median ratio ${median(ratios).toFixed(3)}`,
    );
    if (otherImpl)
      console.log(
        `${m}x${k}x${n}: ours/${otherImpl} median ${median(other).toFixed(1)} GFLOP/s; default (${defaultImpl}) / ${otherImpl} median per-pair ratio ${median(vsOther).toFixed(3)}`,
      );
    if (si === 0) {
      firstOurs = median(ours);
      firstNumpy = median(numpy);
      firstRatio = median(ratios);
    }
  }
  peer.close();

  // bf16 B (ours only; numpy has no bf16): same first shape, B widened per tile.
  {
    const [m, k, n] = SHAPES[0]!;
    const a = new Tensor("f32", [m, k], randomF32(m * k, rng));
    const b16 = new Tensor("bf16", [k, n], f32ArrayToBf16(randomF32(k * n, rng)));
    const c = zeros([m, n]);
    timeOurs(a, b16, c);
    const bits = b16.data;
    const f32 = new Float32Array(1),
      u32 = new Uint32Array(f32.buffer);
    spotCheck(
      a.data,
      (p, j) => {
        u32[0] = bits[p * n + j]! << 16;
        return f32[0]!;
      },
      c.data,
      m,
      k,
      n,
    );
    const runs: number[] = [];
    for (let p = 0; p < PAIRS; p++) runs.push(gflops(m, k, n, timeOurs(a, b16, c)));
    console.log(
      `${m}x${k}x${n} with B in bf16 (ours, widened per tile): median ${median(runs).toFixed(1)} GFLOP/s (${runs.map((g) => g.toFixed(1)).join(", ")})`,
    );
  }

  if (firstNumpy < NUMPY_FLOOR_GFLOPS) {
    const openblas = info.blas.some((p) => /openblas|mkl|blis/i.test(p));
    const why = openblas
      ? `numpy is linked to an optimized BLAS (${info.blas.filter((p) => /openblas|mkl|blis/i.test(p)).join(", ")}), so the machine was busy ` +
        `(load average now ${loadavg()[0]!.toFixed(2)}); rerun when it is quiet`
      : `numpy is not using an optimized BLAS (mapped: ${info.blas.join(", ") || "none"}); install libopenblas0-pthread (Debian) and rerun`;
    console.log(`numpy ran at ${firstNumpy.toFixed(1)} GFLOP/s (< ${NUMPY_FLOOR_GFLOPS}): ${why}. No ratio reported.`);
    return 1;
  }
  console.log(`gemm_gflops=${firstOurs.toFixed(1)}`);
  console.log(
    `gemm_peak_pct=${((100 * firstOurs) / PEAK_GFLOPS).toFixed(1)} (of ${PEAK_GFLOPS} GFLOP/s = 2 cores × 2.5 GHz × 64 FLOP/cycle)`,
  );
  console.log(`gemm_ratio_vs_numpy=${firstRatio.toFixed(3)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
