/**
 * pnpm bench:webgpu — the webgpu backend on the current adapter: GEMM (f32 B and bf16 B), the TopK SAE training step,
 * and a Qwen1.5-0.5B-shaped forward pass. On a software adapter (Mesa's lavapipe) the shapes are small and the numbers
 * mean little (correctness device, not a speed one); `--size gpu` forces the real shapes, `--size small` the small.
 *
 * With `--peer torch` it also runs tools/reference/webgpu/torch_peers.py on the same machine (PyTorch fp32 matmul,
 * a SAELens-style dense autograd SAE step, Hugging Face transformers' Qwen2 on our random weights, eager attention,
 * fp32) and checks our forward's logits against transformers' (max |Δ| / max |logit| ≤ 1e-4).
 *
 * Lines (name{labels}=value): webgpu_gemm_gflops{dtype,shape}, webgpu_sae_step_tokens_per_s{shape},
 * webgpu_crosscoder_step_tokens_per_s{shape,models}, webgpu_crosscoder_step_ratio_vs_sae_step,
 * webgpu_forward_tokens_per_s{model,tokens}; with the peer: torch_*, webgpu_gemm_ratio_vs_torch{dtype,shape},
 * webgpu_sae_step_ratio_vs_torch_dense, webgpu_forward_ratio_vs_transformers,
 * webgpu_forward_max_rel_error_vs_transformers; last, webgpu_gemm_ratio_vs_torch (f32, first shape). Each headline
 * ratio is followed by "goal NAME >= G: met | not met" (the issue's goals: GEMM 0.4, SAE step 1.0, forward 0.3).
 * Exit status 1 when a check fails (logits beyond 1e-4) or no adapter opens.
 *
 * Options: --peer torch, --size auto|gpu|small, --only gemm,sae,forward, --reps N (forward calls timed, default 5).
 * Bundled for a GPU machine by tools/gpu/prepare.sh (esbuild; one file), run there by tools/gpu/run-on-gpu.sh.
 */
import { parseArgs } from "node:util";
import {
  adapterLines,
  deviceZeros,
  f32ArrayToBf16,
  gemm,
  isSoftwareAdapter,
  Rng,
  randn,
  release,
  sync,
  Tensor,
  toDevice,
  useBackend,
  webgpuReport,
} from "@difflens/tensor";
import {
  compareLogits,
  type ForwardShape,
  type PreparedForward,
  prepareForward,
  QWEN_TINY,
  QWEN15_05B,
  timeForward,
} from "./webgpu-forward.ts";
import { type PeerJob, type PeerResult, runTorchPeers } from "./webgpu-peer.ts";
import { SAE_GPU, SAE_SMALL, type SaeShape, timeCrosscoderStep, timeSaeStep } from "./webgpu-sae.ts";

type Shape = readonly [number, number, number];
const FORWARD_TOLERANCE = 1e-4;
const SAE_STEPS = 5;
/** Issue 20's speed goals on a real GPU (ours / PyTorch's time ratios; > 1 means we are faster). */
const GOALS = {
  webgpu_gemm_ratio_vs_torch: 0.4,
  webgpu_sae_step_ratio_vs_torch_dense: 1.0,
  webgpu_forward_ratio_vs_transformers: 0.3,
};

/** A ratio line and whether it meets its goal (said, not failed: lavapipe never will). */
function printRatio(name: keyof typeof GOALS, value: number): void {
  print(name, {}, value);
  console.log(`goal ${name} >= ${GOALS[name]}: ${value >= GOALS[name] ? "met" : "not met"}`);
}

const { values } = parseArgs({
  options: {
    peer: { type: "string" },
    size: { type: "string", default: "auto" },
    only: { type: "string", default: "gemm,sae,forward" },
    reps: { type: "string" },
  },
});
if (values.peer !== undefined && values.peer !== "torch") throw new Error(`--peer: expected torch, got ${values.peer}`);
if (!["auto", "gpu", "small"].includes(values.size!)) throw new Error(`--size: expected auto|gpu|small`);
const parts = new Set(values.only!.split(","));

const print = (name: string, labels: Record<string, string | number>, value: number | string): void => {
  const l = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  const shown = typeof value === "number" ? Number(value.toPrecision(4)) : value;
  console.log(`${name}${l.length > 0 ? `{${l.join(",")}}` : ""}=${shown}`);
};
const shapeLabel = ([m, k, n]: Shape): string => `${m}x${k}x${n}`;

/** One part of the bench; a failure is its FAIL line and the other parts still run (a GPU run is one shot). */
async function part(name: string, body: () => Promise<boolean | undefined>): Promise<boolean> {
  try {
    return (await body()) !== false;
  } catch (error) {
    console.log(`FAIL ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return false;
  }
}

/** GFLOP/s of gemm(a, b) on the device (a [M,K] f32, b f32 [K,N] or bf16 [N,K] transposed), `out` reused. */
async function timeGemm([m, k, n]: Shape, dtype: "f32" | "bf16", rng: Rng): Promise<number> {
  const a = toDevice(randn([m, k], rng));
  const bHost = dtype === "f32" ? randn([k, n], rng) : randn([n, k], rng);
  const b = toDevice(dtype === "f32" ? bHost : new Tensor("bf16", [n, k], f32ArrayToBf16(bHost.data as Float32Array)));
  const out = deviceZeros([m, n]);
  const opts = { out, transB: dtype === "bf16" };
  const timeCalls = async (calls: number): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) gemm(a, b, opts);
    await sync();
    return (performance.now() - t0) / 1000 / calls;
  };
  await timeCalls(1); // compiles the pipeline
  const once = await timeCalls(1);
  const calls = Math.max(3, Math.min(50, Math.floor(0.5 / once)));
  const seconds = await timeCalls(calls);
  for (const t of [a, b, out]) release(t);
  return (2 * m * k * n) / seconds / 1e9;
}

/** Our GEMMs (f32 B, then bf16 B transposed), each against torch's fp32 matmul at the shape when the peer ran. */
async function gemmPart(f32Shapes: Shape[], bf16Shapes: Shape[], peer: PeerResult | null): Promise<number | null> {
  const rng = new Rng(7);
  let headline: number | null = null;
  for (const [dtype, shapes] of [
    ["f32", f32Shapes],
    ["bf16", bf16Shapes],
  ] as const) {
    for (const shape of shapes) {
      const gflops = await timeGemm(shape, dtype, rng);
      const labels = { dtype: dtype === "f32" ? "f32" : "bf16_b_transposed", shape: shapeLabel(shape) };
      print("webgpu_gemm_gflops", labels, gflops);
      const theirs = peer?.gemm?.find((g) => shapeLabel(g.shape) === labels.shape);
      if (theirs) {
        if (dtype === "f32") print("torch_fp32_gemm_gflops", { shape: labels.shape }, theirs.gflops);
        print("webgpu_gemm_ratio_vs_torch", labels, gflops / theirs.gflops);
        if (dtype === "f32" && headline === null) headline = gflops / theirs.gflops;
      }
    }
  }
  return headline;
}

async function saePart(sae: SaeShape, peer: PeerResult | null): Promise<undefined> {
  const timing = await timeSaeStep(sae, SAE_STEPS);
  print("webgpu_sae_step_tokens_per_s", { shape: sae.label }, timing.tokensPerS);
  if (peer?.sae) {
    print("torch_dense_sae_step_tokens_per_s", { shape: sae.label }, peer.sae.tokens_per_s);
    printRatio("webgpu_sae_step_ratio_vs_torch_dense", peer.sae.seconds / timing.seconds);
  }
  const cc = await timeCrosscoderStep(sae, SAE_STEPS);
  print("webgpu_crosscoder_step_tokens_per_s", { shape: sae.label, models: 2 }, cc.tokensPerS);
  // A crosscoder step does about twice an SAE step's work (issue 21 aims at ≥ 0.45× on the CPU).
  print("webgpu_crosscoder_step_ratio_vs_sae_step", {}, timing.seconds / cc.seconds);
  return undefined;
}

/** Our forward's speed; with the peer, transformers' speed and the logits check (false when beyond tolerance). */
async function forwardPart(
  fwd: ForwardShape,
  prepared: PreparedForward,
  reps: number,
  peer: PeerResult | null,
): Promise<boolean> {
  const timing = await timeForward(prepared, reps);
  const tokens = prepared.ids.length * prepared.ids[0]!.length;
  print("webgpu_forward_tokens_per_s", { model: fwd.label, tokens, logits: "all_read_back" }, timing.tokensPerS);
  const theirs = peer?.forward;
  if (!theirs) return true;
  if ("error" in theirs) {
    console.log(`transformers forward: not run — ${theirs.error}`);
    return true;
  }
  print("transformers_forward_tokens_per_s", { model: fwd.label, version: theirs.transformers }, theirs.tokens_per_s);
  printRatio("webgpu_forward_ratio_vs_transformers", theirs.seconds / timing.seconds);
  const { maxRelError, maxAbsError } = compareLogits(timing.logits, prepared.logitsOut);
  print("webgpu_forward_max_abs_error_vs_transformers", {}, maxAbsError);
  print("webgpu_forward_max_rel_error_vs_transformers", { tolerance: FORWARD_TOLERANCE }, maxRelError);
  const ok = maxRelError <= FORWARD_TOLERANCE;
  console.log(
    `${ok ? "PASS" : "FAIL"} our forward vs transformers: max |Δ|/max|logit| ${maxRelError.toExponential(2)}`,
  );
  return ok;
}

async function main(): Promise<number> {
  const report = await webgpuReport();
  if (!report.ok) {
    console.error(`bench:webgpu: no WebGPU adapter — ${report.reason}`);
    return 1;
  }
  for (const text of adapterLines(report.adapter)) console.log(text);
  const software = isSoftwareAdapter(report.adapter);
  const real = values.size === "gpu" || (values.size === "auto" && !software);
  console.log(
    `shapes: ${real ? "the real-GPU shapes" : "small shapes"}${software ? " (a software adapter: the numbers mean little)" : ""}`,
  );
  const f32Shapes: Shape[] = real
    ? [
        [4096, 4096, 4096],
        [4096, 1024, 32768],
        [1024, 1024, 2816],
      ]
    : [
        [256, 256, 256],
        [256, 64, 1024],
      ];
  const bf16Shapes = f32Shapes.slice(0, real ? 3 : 1);
  const sae = real ? SAE_GPU : SAE_SMALL;
  const fwd = real ? QWEN15_05B : QWEN_TINY;
  const reps = Number(values.reps ?? (real ? 5 : 2));

  // The model folder first (host work, js backend), so the peer and we read the same weights.
  const t0 = performance.now();
  const prepared = parts.has("forward") ? await prepareForward(fwd) : null;
  if (prepared)
    console.log(`model folder (${fwd.label}, f32) written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  try {
    let peer: PeerResult | null = null;
    const passed: boolean[] = [];
    if (values.peer === "torch") {
      const job: PeerJob = {
        ...(parts.has("gemm") ? { gemm: f32Shapes } : {}),
        ...(parts.has("sae")
          ? { sae: { d_in: sae.dIn, d_sae: sae.dSae, k: sae.k, batch: sae.batch, steps: SAE_STEPS } }
          : {}),
        ...(prepared
          ? { forward: { folder: prepared.folder, ids: prepared.ids, reps, logits_out: prepared.logitsOut } }
          : {}),
      };
      passed.push(
        await part("torch peers", async () => {
          const result = await runTorchPeers(job);
          console.log(`peer: torch ${result.torch} on ${result.device}`);
          peer = result;
          return undefined;
        }),
      );
    }
    await useBackend("webgpu");
    const headline: { ratio: number | null } = { ratio: null };
    if (parts.has("gemm"))
      passed.push(
        await part("gemm", async () => {
          headline.ratio = await gemmPart(f32Shapes, bf16Shapes, peer);
          return undefined;
        }),
      );
    if (parts.has("sae")) passed.push(await part("sae step", () => saePart(sae, peer)));
    if (prepared) passed.push(await part("forward", () => forwardPart(fwd, prepared, reps, peer)));
    if (headline.ratio !== null) printRatio("webgpu_gemm_ratio_vs_torch", headline.ratio);
    return passed.every(Boolean) ? 0 : 1;
  } finally {
    prepared?.dispose();
  }
}

process.exitCode = await main();
