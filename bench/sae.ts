// pnpm bench:sae — one TopK SAE training step (d_in 1024, d_sae 32768, k 32, batch 4096, random
// activations): ours (trainStep, the code path the tests train with) against torch 1.13 doing the
// step the SAELens way (tools/reference/sae/bench_torch_step.py), same thread count, alternating pairs.
// Prints sae_step_tokens_per_s=<ours, median>, the encoder-GEMM-only bound (the same chunked GEMM calls alone, timed in
// every pair), sae_step_fraction_of_gemm_bound=<median of per-pair GEMM time / step time>, and last
// sae_step_ratio_vs_torch=<median of per-pair ratios>. --no-torch times ours alone (no torch on the machine, or to
// compare GEMM paths: DIFFLENS_GEMM=portable DIFFLENS_ISA=avx2 against DIFFLENS_GEMM=blas OPENBLAS_CORETYPE=Haswell).
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { createInterface } from "node:readline";
import {
  encoderChunkRows,
  initParams,
  newTrainState,
  resolveSaeTrainConfig,
  StepScratch,
  trainStep,
} from "@difflens/sae";
import { gemm, largeFloat32Array, nativeAvailable, Rng, Tensor, useBackend } from "@difflens/tensor";

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const dIn = Number(args.get("d-in") ?? 1024),
  dSae = Number(args.get("d-sae") ?? 32768),
  k = Number(args.get("k") ?? 32);
const batch = Number(args.get("batch") ?? 4096),
  pairs = Number(args.get("pairs") ?? 3),
  stepsPerRun = Number(args.get("steps") ?? 2);
const threads = Number(args.get("threads") ?? 2);
const withTorch = !args.has("no-torch");

const native = nativeAvailable();
if (!native.ok && !args.has("allow-js")) {
  console.error(
    `bench:sae needs the native backend (the js reference gemm would take ~20 min per step): ${native.reason}`,
  );
  process.exit(2);
}
const backend = useBackend(native.ok ? "native" : "js");
backend.setThreads(threads);

const cfg = resolveSaeTrainConfig({ dIn, dSae, k, lr: 1e-4, lrWarmupSteps: 0 });
const rng = new Rng(0);
const state = newTrainState(initParams(dIn, dSae, rng, new Float32Array(dIn)), cfg, rng);
const x = new Float32Array(batch * dIn);
for (let i = 0; i < x.length; i++) x[i] = rng.normal();
const scratch = new StepScratch();

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function oursRun(n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    trainStep(state, cfg, x, batch, scratch);
    out.push((performance.now() - t0) / 1000);
  }
  return out;
}

const torch = withTorch
  ? spawn(
      "/usr/bin/python3",
      ["tools/reference/sae/bench_torch_step.py", String(dIn), String(dSae), String(k), String(batch), String(threads)],
      {
        stdio: ["pipe", "pipe", "inherit"],
        env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
      },
    )
  : null;
const lines = torch ? createInterface({ input: torch.stdout! })[Symbol.asyncIterator]() : null;
const readLine = async () => String((await lines!.next()).value ?? "");
if (torch) await readLine(); // ready
async function torchRun(n: number): Promise<number[]> {
  if (!torch) return Array.from({ length: n }, () => Number.NaN);
  torch.stdin!.write(`step ${n}\n`);
  const times = (await readLine()).trim().split(/\s+/).map(Number);
  if (times.length !== n || times.some((t) => !(t > 0))) throw new Error("torch peer failed (see its stderr above)");
  return times;
}

// The encoder GEMM alone, through the same gemm call and chunking as the step: the bound a sparse step can approach.
// Timed in every pair, right after our steps, so the step's fraction of it is a per-pair ratio that slow drifts in
// the machine's load cancel out of.
const wT = new Tensor("f32", [dSae, dIn], state.params.wEnc);
const chunk = Math.min(batch, encoderChunkRows(dSae)),
  zOut = largeFloat32Array(chunk * dSae); // as the step's own buffer (StepScratch)
function encoderGemmRun(): number {
  const t0 = performance.now();
  for (let r0 = 0; r0 < batch; r0 += chunk)
    gemm(new Tensor("f32", [chunk, dIn], x.subarray(r0 * dIn, (r0 + chunk) * dIn)), wT, {
      transB: true,
      out: new Tensor("f32", [chunk, dSae], zOut),
    });
  return (performance.now() - t0) / 1000;
}

// Warm-up both (first touches of the big buffers, JIT, torch allocator).
oursRun(1);
encoderGemmRun();
await torchRun(1);

const ratios: number[] = [],
  oursTps: number[] = [],
  torchTps: number[] = [],
  gemmTimes: number[] = [],
  fractions: number[] = [];
for (let p = 0; p < pairs; p++) {
  // Alternate which of our step and the bare GEMM goes first.
  const gemmFirst = p % 2 === 1 ? encoderGemmRun() : Number.NaN;
  const ours = median(oursRun(stepsPerRun));
  const gemmS = p % 2 === 1 ? gemmFirst : encoderGemmRun();
  const theirs = median(await torchRun(stepsPerRun));
  oursTps.push(batch / ours);
  torchTps.push(batch / theirs);
  ratios.push(theirs / ours);
  gemmTimes.push(gemmS);
  fractions.push(gemmS / ours);
  console.log(
    `pair ${p + 1}: ours ${ours.toFixed(3)} s/step (${(batch / ours).toFixed(0)} tok/s), encoder GEMM ${gemmS.toFixed(3)} s, fraction ${(gemmS / ours).toFixed(3)}` +
      (torch
        ? `, torch ${theirs.toFixed(3)} s/step (${(batch / theirs).toFixed(0)} tok/s), ratio ${(theirs / ours).toFixed(2)}`
        : ""),
  );
}
torch?.stdin?.write("quit\n");
const gemmS = median(gemmTimes);
const gflops = (2 * batch * dIn * dSae) / gemmS / 1e9;
const bound = batch / gemmS;
console.log(
  `backend=${backend.name} threads=${threads} d_in=${dIn} d_sae=${dSae} k=${k} batch=${batch} gemm=${native.gemm ?? native.blas ?? "js"}` +
    ` isa=${native.isa?.path ?? "-"} blas=${native.blas ?? "-"}`,
);
console.log(
  `load_average=${loadavg()
    .map((v) => v.toFixed(2))
    .join(" ")} (2-core machine shared with other jobs: timings are noisy)`,
);
if (torch) console.log(`torch_step_tokens_per_s=${median(torchTps).toFixed(1)}`);
console.log(`encoder_gemm_gflops=${gflops.toFixed(1)} encoder_gemm_bound_tokens_per_s=${bound.toFixed(1)}`);
console.log(`sae_step_fraction_of_gemm_bound=${median(fractions).toFixed(3)}`);
console.log(`sae_step_tokens_per_s=${median(oursTps).toFixed(1)}`);
if (torch) console.log(`sae_step_ratio_vs_torch=${median(ratios).toFixed(3)}`);
