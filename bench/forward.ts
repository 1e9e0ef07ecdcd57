/**
 * pnpm bench:forward — a forward pass with random weights from a seed (vocab cut to 32768 on both sides) on 4×256
 * tokens: ours against torch f32 (`inference_mode`, attention batched over all heads), same thread count,
 * alternating runs. Last line: forward_ratio_vs_torch=<median of per-pair ratios torch_seconds / our_seconds>
 * (> 1 means we are faster). Cases (--case):
 *   qwen1.5-0.5b (default)  Qwen2 family: 24 layers, d_model 1024, 16 heads, d_mlp 2816, tied
 *   llama-3.2-1b            Llama family: 16 layers, d_model 2048, 32 heads / 8 kv heads, head_dim 64, d_mlp 8192,
 *                           θ 500000 with llama3 RoPE scaling (factor 32), tied; peer tools/reference/llama/
 *
 * Options: --case (above), --pairs N (default 5), --batch B / --seq S (default 4 / 256), --dtype f32|bf16 (our
 * weights; torch is always f32), --backend auto|native|js|webgpu (else DIFFLENS_BACKEND, else auto).
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createRandomModel } from "@difflens/runtime";
import { currentBackend, selectBackend, type Tensor } from "@difflens/tensor";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { values } = parseArgs({
  options: {
    case: { type: "string" },
    pairs: { type: "string" },
    batch: { type: "string" },
    seq: { type: "string" },
    dtype: { type: "string" },
    backend: { type: "string" },
  },
});
const pairs = Number(values.pairs ?? 5);
const dtype = (values.dtype ?? "f32") as "f32" | "bf16";
const backend = await selectBackend(values.backend);
const threads = backend.getThreads();

/** Each case: our config, the torch peer script and its first line, a label. */
const CASES = {
  "qwen1.5-0.5b": {
    label: "Qwen1.5-0.5B-shaped",
    config: {
      architecture: "qwen2",
      vocabSize: 32768,
      dModel: 1024,
      nLayers: 24,
      nHeads: 16,
      nKvHeads: 16,
      dMlp: 2816,
      maxPositions: 32768,
      ropeTheta: 1_000_000,
      rmsNormEps: 1e-6,
      tieWordEmbeddings: true,
    },
    peer: "tools/reference/qwen2/torch_forward_peer.py",
    peerConfig: {
      vocab: 32768,
      d_model: 1024,
      n_layers: 24,
      n_heads: 16,
      n_kv_heads: 16,
      d_mlp: 2816,
      theta: 1e6,
      eps: 1e-6,
    },
  },
  "llama-3.2-1b": {
    label: "Llama-3.2-1B-shaped",
    config: {
      architecture: "llama",
      vocabSize: 32768,
      dModel: 2048,
      nLayers: 16,
      nHeads: 32,
      nKvHeads: 8,
      dHead: 64,
      dMlp: 8192,
      maxPositions: 131072,
      ropeTheta: 500_000,
      ropeScaling: { type: "llama3", factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 },
      rmsNormEps: 1e-5,
      tieWordEmbeddings: true,
    },
    peer: "tools/reference/llama/torch_forward_peer.py",
    peerConfig: {
      vocab: 32768,
      d_model: 2048,
      n_layers: 16,
      n_heads: 32,
      n_kv_heads: 8,
      head_dim: 64,
      d_mlp: 8192,
      theta: 500_000,
      eps: 1e-5,
      rope_scaling: { factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
    },
  },
} as const;
const caseName = (values.case ?? "qwen1.5-0.5b") as keyof typeof CASES;
const bench = CASES[caseName];
if (!bench) throw new Error(`bench:forward: unknown --case ${values.case}; cases: ${Object.keys(CASES).join(", ")}`);
const config = bench.config;
const BATCH = Number(values.batch ?? 4);
const SEQ = Number(values.seq ?? 256);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A line-oriented child process: send a line, await the answer line. */
function startTorch() {
  const child = spawn("/usr/bin/python3", [path.join(root, bench.peer)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const ask = async (line: string): Promise<string> => {
    child.stdin!.write(`${line}\n`);
    const r = await lines.next();
    if (r.done) throw new Error("torch peer exited");
    return r.value as string;
  };
  return { child, ask, first: async () => (await lines.next()).value as string };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const model = createRandomModel({ config, seed: 1234, dtype });
  let weightBytes = 0;
  for (const t of [
    model.weights.embedTokens,
    model.weights.finalNorm,
    ...model.weights.layers.flatMap((l) => Object.values(l) as Tensor[]),
  ])
    weightBytes += t.byteLength;
  console.log(
    `model: ${bench.label}, vocab ${config.vocabSize}, ${dtype} weights ${(weightBytes / 2 ** 30).toFixed(2)} GiB, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const ids = Array.from({ length: BATCH }, (_, b) =>
    Array.from({ length: SEQ }, (_, s) => (b * 7919 + s * 104729) % config.vocabSize),
  );

  const torch = startTorch();
  torch.child.stdin!.write(`${JSON.stringify({ ...bench.peerConfig, threads, seed: 1234, batch: BATCH, seq: SEQ })}\n`);
  const ready = await torch.first();
  console.log(`backend=${currentBackend().name} threads=${threads} torch: ${ready}`);

  const runOurs = async (): Promise<number> => {
    const t = performance.now();
    await model.forward({ ids }); // logits come back to the host: the timing includes the readback
    return (performance.now() - t) / 1000;
  };
  const runTorch = async (): Promise<number> => Number((await torch.ask("forward")).replace("seconds=", ""));
  await runOurs(); // warm-up (page-in, JIT)
  await runTorch();
  const ours: number[] = [];
  const theirs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    // alternate which side goes first so drift on a shared machine hits both
    let a: number;
    let b: number;
    if (i % 2 === 0) {
      a = await runOurs();
      b = await runTorch();
    } else {
      b = await runTorch();
      a = await runOurs();
    }
    ours.push(a);
    theirs.push(b);
    ratios.push(b / a);
    console.log(`pair ${i + 1}: ours ${a.toFixed(3)} s, torch ${b.toFixed(3)} s, ratio ${(b / a).toFixed(3)}`);
  }
  await torch.ask("quit").catch(() => "");
  torch.child.kill();
  const tokens = BATCH * SEQ;
  const rss = process.resourceUsage().maxRSS * 1024;
  console.log(`peak_rss_bytes=${rss} weight_bytes=${weightBytes} rss_over_weights=${(rss / weightBytes).toFixed(2)}`);
  console.log(`torch_tokens_per_s=${(tokens / median(theirs)).toFixed(1)}`);
  console.log(`forward_tokens_per_s=${(tokens / median(ours)).toFixed(1)}`);
  console.log(`forward_ratio_vs_torch=${median(ratios).toFixed(3)}`);
}

await main();
