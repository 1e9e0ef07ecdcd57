/**
 * pnpm bench:generate-7b-batch (opt-in: writes ~15 GB to bench/.cache/, the checkpoint bench:sae-conditions-7b uses;
 * ~12 min on the quiet 2-core machine, estimated) — stage 1 of the attention-marker run at its shape: `generate` on
 * the synthetic Qwen2.5-7B-shaped bf16 model (bench/synthetic-qwen2.ts), batch 32, 100-token prompts, 64 new tokens,
 * temperature 1, top-p 0.95, one seed per row (rowSeeds), no stop tokens, KV cache. The measured part runs in a
 * fresh process (peak RSS counts only it), after one warm-up token that pages the memory-mapped weights in (warm_s:
 * a real run pays it once per model).
 *
 * Prints prefill_s (the 3200-token forward and the first token sampled), decode_s (the other 63 steps), generated
 * tokens/s over decode and overall, sampling_s (everything outside the forward passes: sampling over the 152k
 * vocabulary, batch preparation), and the bounds. A decode step's bound is max(weight bytes read / memory bandwidth,
 * layer FLOPs / GEMM rate at [32, d_model] × [d_mlp, d_model] + lm_head FLOPs / GEMM rate at lm_head's shape);
 * prefill's is its FLOPs at the GEMM rate at [3200, d_model] × [d_mlp, d_model] (lm_head at the last positions
 * only). Rates and bandwidth are measured in this process after the run (bench/synthetic-qwen2.ts). Weight bytes read
 * = every weight but the embedding table (only its rows are gathered); FLOPs = 2 × projection weights per token,
 * plus attention's 4·nHeads·dHead·keys per layer. Last lines: decode_bound_ratio=, prefill_bound_ratio=,
 * peak_rss_gb=. DIFFLENS_BENCH_SHAPE=small: d_model 512, d_mlp 1536, the full vocabulary — there sampling 32 rows of
 * 152k logits outweighs the tiny layers, so its decode ratio is low by construction.
 *
 * Small shape here (2026-12-07, 2 cores shared with five other sessions, load average 8–17: rates scatter 2–5×):
 * sampling went from 137 ms a row (comparator sort of the vocabulary) to 21 ms (radix order, same tokens; ~9 ms on a
 * less loaded moment); decode_s 307 → 86 s for 63 steps, generated_tokens_per_s{overall} 6.3 → 15.0,
 * prefill_bound_ratio 0.42–1.0, decode_bound_ratio 0.16–0.22, peak_rss_gb 0.86.
 * Options: --backend auto|native|js (else DIFFLENS_BACKEND, else auto); the bounds measure CPU GEMM rates.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { generate, loadModel, qwen2WeightShapes } from "@difflens/runtime";
import { Rng, selectBackend } from "@difflens/tensor";
import {
  SYNTHETIC_QWEN2 as config,
  gemmRate,
  memoryBandwidth,
  SMALL,
  SYNTHETIC_QWEN2_DIR,
  writeSyntheticQwen2,
} from "./synthetic-qwen2.ts";

const BATCH = 32;
const PROMPT = 100;
const NEW = 64;

/** FLOPs of one token through every layer (projections, and attention over `keys` positions); lm_head apart. */
function layerFlops(keys: number): number {
  const { dModel: d, dMlp, nHeads, nKvHeads, dHead, nLayers } = config;
  const projections = d * nHeads * dHead * 2 + 2 * d * nKvHeads * dHead + 3 * d * dMlp;
  return nLayers * (2 * projections + 4 * nHeads * dHead * keys);
}
const HEAD_FLOPS = 2 * config.dModel * config.vocabSize;

/** One batch through `generate`, timed per forward pass: → seconds and peak RSS. */
async function timedGeneration() {
  const model = await loadModel(SYNTHETIC_QWEN2_DIR);
  let t0 = performance.now();
  await model.forward([1], { logits: "last" });
  const warmS = (performance.now() - t0) / 1000;
  const rng = new Rng(2026);
  const prompts = Array.from({ length: BATCH }, () => Array.from({ length: PROMPT }, () => rng.int(config.vocabSize)));
  const forwardStarts: number[] = [];
  let forwardS = 0;
  const forwardPrepared = model.forwardPrepared.bind(model);
  model.forwardPrepared = async (...args: Parameters<typeof forwardPrepared>) => {
    const start = performance.now();
    forwardStarts.push(start);
    const out = await forwardPrepared(...args);
    forwardS += (performance.now() - start) / 1000;
    return out;
  };
  t0 = performance.now();
  const rowSeeds = prompts.map((_, b) => 1000 + b);
  const result = await generate(model, prompts, {
    maxNewTokens: NEW,
    temperature: 1,
    topP: 0.95,
    rowSeeds,
    stopTokens: [],
  });
  const totalS = (performance.now() - t0) / 1000;
  const peakRssGb = (process.resourceUsage().maxRSS * 1024) / 1e9;
  model.close();
  if (result.tokens.some((row) => row.length !== NEW)) throw new Error("bench: a row stopped early");
  // prefill = the prompt pass and the first token sampled from it; decode = every later step
  const prefillS = (forwardStarts[1]! - t0) / 1000;
  return { warmS, totalS, prefillS, decodeS: totalS - prefillS, samplingS: totalS - forwardS, peakRssGb };
}

const backendFlag = (() => {
  const at = process.argv.indexOf("--backend");
  return at < 0 ? undefined : process.argv[at + 1];
})();

async function measure(): Promise<void> {
  const backend = await selectBackend(backendFlag);
  const { dModel: d, dMlp, vocabSize: V } = config;
  const run = await timedGeneration();
  // The machine's rates, after the run so their buffers stay out of its peak RSS: memory bandwidth (GB/s) and GEMM
  // rates (GFLOP/s) at the decode and prefill row counts for the layers (gate/up's shape) and for lm_head (its shape,
  // rows cut to 32768: the rate no longer depends on them there).
  const bandwidth = memoryBandwidth();
  const rate = {
    decode: gemmRate(BATCH, d, dMlp, "bf16"),
    head: gemmRate(BATCH, d, Math.min(V, 32768), "bf16"),
    prefill: gemmRate(BATCH * PROMPT, d, dMlp, "bf16"),
  };
  let weightBytes = 0; // read per step: every weight but the embedding table (only its rows are gathered)
  for (const [name, shape] of qwen2WeightShapes(config))
    if (name !== "model.embed_tokens.weight") weightBytes += 2 * shape.reduce((a, b) => a * b, 1);
  const memoryS = weightBytes / 1e9 / bandwidth;
  const headS = (BATCH * HEAD_FLOPS) / 1e9 / rate.head; // lm_head at the last position of each row
  let prefillGemmS = headS;
  for (let s = 1; s <= PROMPT; s++) prefillGemmS += (BATCH * layerFlops(s)) / 1e9 / rate.prefill;
  const prefillBound = Math.max(memoryS, prefillGemmS);
  let decodeBound = 0;
  for (let s = 1; s < NEW; s++)
    decodeBound += Math.max(memoryS, (BATCH * layerFlops(PROMPT + s + 1)) / 1e9 / rate.decode + headS);
  console.log(
    `backend=${backend.name} threads=${backend.getThreads()} shape=${SMALL ? "small" : "qwen2.5-7b"} ` +
      `batch=${BATCH} prompt=${PROMPT} new=${NEW} weight_bytes_per_step=${weightBytes}`,
  );
  console.log(
    `memory_gbps=${bandwidth.toFixed(1)} gemm_gflops{bf16,decode}=${rate.decode.toFixed(1)} ` +
      `gemm_gflops{bf16,lm_head}=${rate.head.toFixed(1)} gemm_gflops{bf16,prefill}=${rate.prefill.toFixed(1)}`,
  );
  console.log(`warm_s=${run.warmS.toFixed(2)}`);
  console.log(`prefill_s=${run.prefillS.toFixed(2)} prefill_bound_s=${prefillBound.toFixed(2)}`);
  console.log(
    `decode_s=${run.decodeS.toFixed(2)} decode_bound_s=${decodeBound.toFixed(2)} ` +
      `decode_memory_bound_s=${((NEW - 1) * memoryS).toFixed(2)}`,
  );
  const perRow = (run.samplingS / (BATCH * NEW)) * 1000;
  console.log(`sampling_s=${run.samplingS.toFixed(2)} (${perRow.toFixed(2)} ms a row, batch preparation included)`);
  console.log(`generated_tokens_per_s{decode}=${((BATCH * (NEW - 1)) / run.decodeS).toFixed(2)}`);
  console.log(`generated_tokens_per_s{overall}=${((BATCH * NEW) / run.totalS).toFixed(2)}`);
  console.log(`decode_bound_ratio=${(decodeBound / run.decodeS).toFixed(3)}`);
  console.log(`prefill_bound_ratio=${(prefillBound / run.prefillS).toFixed(3)}`);
  console.log(`peak_rss_gb=${run.peakRssGb.toFixed(2)}`);
}

if (process.argv.includes("--measure")) {
  await measure();
} else {
  await selectBackend(backendFlag);
  await writeSyntheticQwen2();
  // a fresh process, so peak RSS counts only loading and generation
  const args = [...process.execArgv, fileURLToPath(import.meta.url), "--measure", ...process.argv.slice(2)];
  const r = spawnSync(process.execPath, args, {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}
