/**
 * pnpm bench:sae-conditions-7b (opt-in: writes ~27 GB to bench/.cache/) — seed 000's full shape through the app's
 * own `runSaeConditions`, on synthetic weights: a Qwen2.5-7B config (d_model 3584, 28 heads / 4 kv heads, d_mlp
 * 18944, vocab 152064, 28 layers, untied) as a real sharded bf16 HF folder with the real Qwen tokenizer and Qwen2.5's
 * template; three dictionary_learning BatchTopK SAEs (ae.pt, 131072 latents, k 64) at layers 7, 11, 15; 50 prompts ×
 * the seed's 4 conditions (≥ 10k tokens). One sae-conditions run with two readouts, last-prompt-token and
 * all:user:content, from one forward pass per (condition, prompt) (Track A on two latents per layer, Track B over all
 * six pairs with 1000 permutations per readout, figures, W&B offline). The forward stops after layer 15; bf16 weights
 * stay memory-mapped (the mixed GEMM widens them per tile) and are collected (--expose-gc) before the first SAE is
 * loaded; each SAE is read entry by entry, held in float32 while its layer is encoded for both readouts, then dropped.
 *
 * Fixtures are written once (weights tiled from random bf16/f32 blocks: memcpy speed, not a JS loop per value); the
 * measured part runs in a fresh process, so peak RSS counts only the runs. The same process measures the GEMM rate
 * (bf16-B at the forward's shape, f32 at the SAE encoder's) and reports achieved / GEMM-bound throughput, where the
 * GEMM-bound time is the runs' matmul FLOPs (projections up to layer 15 per real token, encoder per readout token) at
 * those rates. Prints wall_s=, peak_rss_gb=, gemm_bound_ratio=. --fixtures-only: write the fixtures and stop.
 * DIFFLENS_BENCH_SHAPE=small: a scaled-down shape (d_model 512, d_mlp 1536, 8192 latents) for developing the bench.
 *
 * Measured here (2-core AMD EPYC Zen 4, native backend, 2 threads, 2026-12-07; fixtures 115 s, 27 GB): GEMM 194.7
 * GFLOP/s bf16-B, 183.2 f32; 10142 tokens, 6692 all:user:content readout tokens; one run with both readouts:
 * wall_s=818.8, peak_rss_gb=13.94, gemm_bound_ratio=0.604 (before the readouts shared one forward pass: two runs,
 * 729 s + 824 s, 17.3 GB).
 * Per-line output now: forward (tokens, its GEMM bound), readout{position=…} (readout tokens, encode bound), wall_s=,
 * peak_rss_gb=, gemm_bound_ratio=.
 * Options: --backend auto|native|js (else DIFFLENS_BACKEND, else auto); the bound measures CPU GEMM rates.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { type TorchSaveTensor, writeTorchStateDict } from "@difflens/sae";
import { normalQuantile } from "@difflens/stats";
import { Rng, selectBackend } from "@difflens/tensor";

import {
  BUILTIN_PROMPTS_FILE,
  prepareSaeConditions,
  readPrompts,
  resolveSaeConditionsConfig,
  runSaeConditions,
} from "readouts";
import {
  BLOCK,
  SYNTHETIC_QWEN2 as config,
  gemmRate,
  SYNTHETIC_QWEN2_DIR as modelDir,
  randomBlock,
  SMALL,
  tiled,
  writeSyntheticQwen2,
} from "./synthetic-qwen2.ts";

const SHAPE = {
  dModel: config.dModel,
  nHeads: config.nHeads,
  nKvHeads: config.nKvHeads,
  dMlp: config.dMlp,
  dSae: SMALL ? 8192 : 131072,
  k: 64,
};
const LAYERS = [7, 11, 15];
const POSITIONS = ["last-prompt-token", "all:user:content"];
const cache = path.dirname(modelDir);
const saeDir = (layer: number) => path.join(cache, "saes", `resid_post_layer_${layer}`, "trainer_0");
const promptsFile = path.join(cache, "prompts.jsonl");

/**
 * BatchTopK SAEs with random unit-scale directions; each layer's threshold puts k of dSae latents above it for a
 * typical token (pre-activations ~ N(0, ‖x‖²/d): the 1 − k/dSae quantile of that normal, ‖x‖ the layer's median norm
 * measured by a short forward pass), as dictionary_learning's training threshold would.
 */
async function writeSaes(): Promise<void> {
  if (LAYERS.every((l) => fs.existsSync(path.join(saeDir(l), "config.json")))) return;
  const norms = await medianResidualNorms();
  const { dModel: d, dSae, k } = SHAPE;
  const rng = new Rng(11);
  const block = randomBlock(BLOCK, 1 / Math.sqrt(d), rng);
  const z = normalQuantile(1 - k / dSae);
  for (const layer of LAYERS) {
    const threshold = (z * norms.get(layer)!) / Math.sqrt(d);
    const f32 = (shape: number[], data: Float32Array): TorchSaveTensor => ({ dtype: "f32", shape, data });
    fs.mkdirSync(saeDir(layer), { recursive: true });
    writeTorchStateDict(path.join(saeDir(layer), "ae.pt"), [
      ["encoder.weight", f32([dSae, d], tiled(dSae * d, block, rng.int(BLOCK)))],
      ["encoder.bias", f32([dSae], new Float32Array(dSae))],
      ["decoder.weight", f32([d, dSae], tiled(dSae * d, block, rng.int(BLOCK)))],
      ["b_dec", f32([d], new Float32Array(d))],
      ["k", { dtype: "i64", shape: [], data: BigInt64Array.of(BigInt(k)) }],
      ["threshold", f32([], Float32Array.of(threshold))],
    ]);
    const trainer = { dict_class: "BatchTopKSAE", activation_dim: d, dict_size: dSae, k, layer };
    fs.writeFileSync(path.join(saeDir(layer), "config.json"), JSON.stringify({ trainer }, null, 2));
    console.log(`sae: layer ${layer} written (threshold ${threshold.toFixed(4)}, median ‖x‖ ${norms.get(layer)})`);
  }
}

async function medianResidualNorms(): Promise<Map<number, number>> {
  const { loadModel } = await import("@difflens/runtime");
  const model = await loadModel(modelDir);
  const ids = Array.from({ length: 48 }, (_, i) => 1000 + ((i * 7919) % 50000));
  const names = LAYERS.map((l) => `blocks.${l}.hook_resid_post`);
  const { cache: acts } = await model.runWithCache([ids], { names, logits: "none" });
  const out = new Map<number, number>();
  for (const l of LAYERS) {
    const x = acts.get(`blocks.${l}.hook_resid_post`).data as Float32Array;
    const d = config.dModel;
    const norms = Array.from({ length: x.length / d }, (_, r) => Math.hypot(...x.subarray(r * d, (r + 1) * d)));
    norms.sort((a, b) => a - b);
    out.set(l, norms[norms.length >> 1]!);
  }
  model.close();
  return out;
}

/** 50 prompts: the app's built-in ones, each with the same request for detail, so the 200 chats hold ≥ 10k tokens. */
function writePrompts(): void {
  const detail =
    " Please answer in detail: the main idea first, then one example from everyday life, and a short summary.";
  const rows = readPrompts(BUILTIN_PROMPTS_FILE).map((p) => JSON.stringify({ id: p.id, text: p.text + detail }));
  fs.writeFileSync(promptsFile, `${rows.join("\n")}\n`);
}

function benchConfig() {
  return resolveSaeConditionsConfig(
    {
      name: "bench-7b",
      model: modelDir,
      saeTemplate: path.join(cache, "saes", "resid_post_layer_{layer}", "trainer_0"),
      layers: LAYERS,
      prompts: promptsFile,
      position: POSITIONS,
      trackA: { latents: Object.fromEntries(LAYERS.map((l) => [String(l), [16, 31]])) },
      batchSize: 50,
      runDir: path.join(cache, "runs", "both-positions"),
    },
    cache,
  );
}

async function measure(): Promise<void> {
  const backend = await selectBackend(backendFlag);
  const { dModel: d, dMlp, dSae } = SHAPE;
  const kv = (d / SHAPE.nHeads) * SHAPE.nKvHeads;
  const flopPerTokenLayer = 2 * (d * d + 2 * d * kv + d * d + 3 * d * dMlp);
  // GEMM rates at the runs' shapes, before and after the runs (the better of the two: a shared machine can slow
  // either): projections (bf16 weights, a batch of 50 chats ≈ 2500 rows; gate/up, the largest) and the SAE encoder
  // (f32, 256-row chunks as Sae.encode runs it).
  const rates = () => ({
    forward: gemmRate(2048, d, dMlp, "bf16"),
    encode: gemmRate(256, d, Math.min(dSae, 32768), "f32"),
  });
  const before = rates();
  const cfg = benchConfig();
  const prepared = await prepareSaeConditions(cfg);
  const tokens = prepared.chats.reduce((s, c) => s + c.chats.reduce((t, chat) => t + chat.ids.length, 0), 0);
  if (tokens < 10_000) throw new Error(`bench: the chats hold ${tokens} tokens; the seed's shape needs ≥ 10k`);
  const readoutTokens = POSITIONS.map((_, r) =>
    prepared.chats.reduce((s, c) => s + c.readouts[r]!.positions.reduce((t, p) => t + p.length, 0), 0),
  );
  const t0 = performance.now();
  // One run, both readouts: one forward pass per (condition, prompt), each SAE loaded once for both.
  await runSaeConditions(cfg, { runDir: cfg.runDir, force: true, log: (line) => console.log(`  ${line}`) });
  const wall = (performance.now() - t0) / 1000;
  const peakRss = (process.resourceUsage().maxRSS * 1024) / 1e9;
  const after = rates();
  const forwardRate = Math.max(before.forward, after.forward);
  const encodeRate = Math.max(before.encode, after.encode);
  const forwardFlop = tokens * (LAYERS[LAYERS.length - 1]! + 1) * flopPerTokenLayer;
  let bound = forwardFlop / 1e9 / forwardRate;
  console.log(
    `forward tokens=${tokens} forward_tflop=${(forwardFlop / 1e12).toFixed(1)} gemm_bound_s=${bound.toFixed(1)}`,
  );
  for (const [r, position] of POSITIONS.entries()) {
    const encodeFlop = LAYERS.length * readoutTokens[r]! * 2 * d * dSae;
    const encodeBound = encodeFlop / 1e9 / encodeRate;
    bound += encodeBound;
    console.log(
      `readout{position=${position}} readout_tokens=${readoutTokens[r]} encode_tflop=${(encodeFlop / 1e12).toFixed(2)} ` +
        `gemm_bound_s=${encodeBound.toFixed(1)}`,
    );
  }
  console.log(`backend=${backend.name} threads=${backend.getThreads()} shape=${SMALL ? "small" : "qwen2.5-7b"}`);
  console.log(
    `gemm_gflops{bf16,forward}=${forwardRate.toFixed(1)} gemm_gflops{f32,sae_encode}=${encodeRate.toFixed(1)}`,
  );
  console.log(`wall_s=${wall.toFixed(1)}`);
  console.log(`peak_rss_gb=${peakRss.toFixed(2)}`);
  console.log(`gemm_bound_s=${bound.toFixed(1)}`);
  console.log(`gemm_bound_ratio=${(bound / wall).toFixed(3)}`);
}

/** `--backend NAME` as given: this process and the measuring one use it. */
const backendFlag = ((at) => (at < 0 ? undefined : process.argv[at + 1]))(process.argv.indexOf("--backend"));

function backendArgs(): string[] {
  const at = process.argv.indexOf("--backend");
  return at < 0 ? [] : ["--backend", process.argv[at + 1] ?? ""];
}

if (process.argv.includes("--measure")) {
  await measure();
} else {
  const t0 = performance.now();
  fs.mkdirSync(cache, { recursive: true });
  await selectBackend(backendFlag);
  await writeSyntheticQwen2();
  await writeSaes();
  writePrompts();
  console.log(`fixtures_s=${((performance.now() - t0) / 1000).toFixed(1)} (${cache})`);
  if (process.argv.includes("--fixtures-only")) process.exit(0);
  // --expose-gc: the run frees the model's weight mappings and the last SAE before loading the next (peak RSS).
  const args = [...process.execArgv, "--expose-gc", fileURLToPath(import.meta.url), "--measure", ...backendArgs()];
  const r = spawnSync(process.execPath, args, {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}
