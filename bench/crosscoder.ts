// pnpm bench:crosscoder — one BatchTopK crosscoder training step (two models, d_in 1024 each, d_sae 32768, k 32,
// batch 4096, random activations) against (a) the TopK SAE step of bench:sae at the same d_in / d_sae / k / batch,
// run in the same pairs (a crosscoder step does about twice an SAE step's work: aim ≥ 0.45×), and (b) torch 1.13
// doing the crosscoder step with dense autograd (tools/reference/crosscoder/bench_torch_step.py; aim ≥ 3×). Same
// thread count everywhere, alternating order per pair. Prints crosscoder_step_tokens_per_s, sae_step_tokens_per_s,
// crosscoder_ratio_vs_sae_step and crosscoder_ratio_vs_torch (medians of per-pair values). --no-torch skips the peer.
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { createInterface } from "node:readline";
import {
  batchTopKCrosscoderStep,
  CrosscoderScratch,
  initCrosscoderParams,
  initParams,
  newCrosscoderTrainState,
  newTrainState,
  resolveCrosscoderTrainConfig,
  resolveSaeTrainConfig,
  StepScratch,
  trainStep,
} from "@difflens/sae";
import { nativeAvailable, Rng, useBackend } from "@difflens/tensor";

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const dIn = Number(args.get("d-in") ?? 1024),
  dSae = Number(args.get("d-sae") ?? 32768),
  k = Number(args.get("k") ?? 32);
const batch = Number(args.get("batch") ?? 4096),
  pairs = Number(args.get("pairs") ?? 2),
  stepsPerRun = Number(args.get("steps") ?? 1);
const threads = Number(args.get("threads") ?? 2);
const withTorch = !args.has("no-torch");

const native = nativeAvailable();
if (!native.ok) {
  console.error(`bench:crosscoder needs the native backend (the js gemm would take hours per step): ${native.reason}`);
  process.exit(2);
}
const backend = useBackend("native");
backend.setThreads(threads);

const rng = new Rng(0);
const ccCfg = resolveCrosscoderTrainConfig({ dIn, dSae, k, lr: 1e-4, lrWarmupSteps: 0 });
const cc = newCrosscoderTrainState(initCrosscoderParams(ccCfg, rng, new Float32Array(2 * dIn)), ccCfg, rng);
const saeCfg = resolveSaeTrainConfig({ dIn, dSae, k, lr: 1e-4, lrWarmupSteps: 0 });
const sae = newTrainState(initParams(dIn, dSae, rng, new Float32Array(dIn)), saeCfg, rng);
const base = new Float32Array(batch * dIn),
  chat = new Float32Array(batch * dIn);
for (let i = 0; i < base.length; i++) {
  base[i] = rng.normal();
  chat[i] = rng.normal();
}
const ccScratch = new CrosscoderScratch(),
  saeScratch = new StepScratch();

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const timed = (n: number, f: () => void): number[] =>
  Array.from({ length: n }, () => {
    const t0 = performance.now();
    f();
    return (performance.now() - t0) / 1000;
  });
const crosscoderRun = (n: number) => timed(n, () => batchTopKCrosscoderStep(cc, ccCfg, base, chat, batch, ccScratch));
const saeRun = (n: number) => timed(n, () => trainStep(sae, saeCfg, base, batch, saeScratch));

const torch = withTorch
  ? spawn(
      "/usr/bin/python3",
      [
        "tools/reference/crosscoder/bench_torch_step.py",
        String(dIn),
        String(dSae),
        String(k),
        String(batch),
        String(threads),
      ],
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

// Warm-up (first touches of the big buffers, JIT, torch allocator).
crosscoderRun(1);
saeRun(1);
await torchRun(1);

const ccTps: number[] = [],
  saeTps: number[] = [],
  torchTps: number[] = [],
  vsSae: number[] = [],
  vsTorch: number[] = [];
for (let p = 0; p < pairs; p++) {
  const saeFirst = p % 2 === 1 ? median(saeRun(stepsPerRun)) : Number.NaN;
  const ours = median(crosscoderRun(stepsPerRun));
  const saeS = p % 2 === 1 ? saeFirst : median(saeRun(stepsPerRun));
  const theirs = median(await torchRun(stepsPerRun));
  ccTps.push(batch / ours);
  saeTps.push(batch / saeS);
  torchTps.push(batch / theirs);
  vsSae.push(saeS / ours);
  vsTorch.push(theirs / ours);
  console.log(
    `pair ${p + 1}: crosscoder ${ours.toFixed(3)} s/step (${(batch / ours).toFixed(0)} tok/s), SAE ${saeS.toFixed(3)} s/step, ratio ${(saeS / ours).toFixed(3)}` +
      (torch ? `, torch ${theirs.toFixed(3)} s/step, ratio ${(theirs / ours).toFixed(2)}` : ""),
  );
}
torch?.stdin?.write("quit\n");
console.log(
  `backend=${backend.name} threads=${threads} d_in=${dIn} (per model) d_sae=${dSae} k=${k} batch=${batch} gemm=${native.gemm ?? native.blas ?? "-"} isa=${native.isa?.path ?? "-"}`,
);
console.log(
  `load_average=${loadavg()
    .map((v) => v.toFixed(2))
    .join(" ")} (2-core machine shared with other jobs: timings are noisy)`,
);
if (torch) console.log(`torch_crosscoder_step_tokens_per_s=${median(torchTps).toFixed(1)}`);
console.log(`sae_step_tokens_per_s=${median(saeTps).toFixed(1)}`);
console.log(`crosscoder_step_tokens_per_s=${median(ccTps).toFixed(1)}`);
console.log(`crosscoder_ratio_vs_sae_step=${median(vsSae).toFixed(3)}`);
if (torch) console.log(`crosscoder_ratio_vs_torch=${median(vsTorch).toFixed(3)}`);
