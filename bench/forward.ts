/**
 * pnpm bench:forward — Qwen1.5-0.5B-shaped forward pass (24 layers, d_model 1024, 16 heads, d_mlp 2816, vocab cut to
 * 32768 on both sides, random weights from a seed) on 4×256 tokens: ours against torch f32 (`inference_mode`,
 * attention batched over all heads), same thread count, alternating runs. Last line: forward_ratio_vs_torch=<median
 * of per-pair ratios torch_seconds / our_seconds> (> 1 means we are faster).
 *
 * Options: --pairs N (default 5), --dtype f32|bf16 (our weights; torch is always f32), --backend auto|native|js|webgpu
 * (else DIFFLENS_BACKEND, else auto).
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createRandomQwen2 } from "@difflens/runtime";
import { currentBackend, selectBackend } from "@difflens/tensor";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { values } = parseArgs({
  options: { pairs: { type: "string" }, dtype: { type: "string" }, backend: { type: "string" } },
});
const pairs = Number(values.pairs ?? 5);
const dtype = (values.dtype ?? "f32") as "f32" | "bf16";
const backend = await selectBackend(values.backend);
const threads = backend.getThreads();

const config = {
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
};
const BATCH = 4;
const SEQ = 256;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A line-oriented child process: send a line, await the answer line. */
function startTorch() {
  const child = spawn("/usr/bin/python3", [path.join(root, "tools/reference/qwen2/torch_forward_peer.py")], {
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
  const model = createRandomQwen2({ config, seed: 1234, dtype });
  let weightBytes = 0;
  for (const t of [
    model.weights.embedTokens,
    model.weights.finalNorm,
    ...model.weights.layers.flatMap((l) => Object.values(l)),
  ])
    weightBytes += t.byteLength;
  console.log(
    `model: Qwen1.5-0.5B-shaped, vocab ${config.vocabSize}, ${dtype} weights ${(weightBytes / 2 ** 30).toFixed(2)} GiB, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const ids = Array.from({ length: BATCH }, (_, b) =>
    Array.from({ length: SEQ }, (_, s) => (b * 7919 + s * 104729) % config.vocabSize),
  );

  const torch = startTorch();
  torch.child.stdin!.write(
    `${JSON.stringify({ vocab: config.vocabSize, d_model: 1024, n_layers: 24, n_heads: 16, n_kv_heads: 16, d_mlp: 2816, theta: config.ropeTheta, eps: config.rmsNormEps, threads, seed: 1234, batch: BATCH, seq: SEQ })}\n`,
  );
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
