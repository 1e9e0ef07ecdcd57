/**
 * The synthetic Qwen2.5-7B-shaped bf16 checkpoint the 7B benches share (one home): a real sharded HF folder with the
 * real Qwen tokenizer and Qwen2.5's chat template, weights tiled from random bf16 blocks (memcpy speed, not a JS loop
 * per value), written once under bench/.cache/ (the folder bench:sae-conditions-7b has always used, so an existing
 * fixture is reused). DIFFLENS_BENCH_SHAPE=small: d_model 512, 8 heads / 2 kv heads, d_mlp 1536 (28 layers and the
 * full vocabulary kept), for developing a bench. Also the machine-rate helpers the benches divide by: the GEMM rate at
 * a shape and the memory bandwidth.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { qwenTokenizerFile } from "@difflens/app-kit";
import { bundledChatTemplate } from "@difflens/chat";
import { type Qwen2Config, qwen2ConfigToHf, qwen2WeightShapes, resolveQwen2Config } from "@difflens/runtime";
import { gemm, Rng, Tensor, writeSafetensors } from "@difflens/tensor";

export const SMALL = process.env.DIFFLENS_BENCH_SHAPE === "small";
export const BENCH_ROOT = path.dirname(fileURLToPath(import.meta.url));
export const SYNTHETIC_QWEN2_DIR = path.join(
  BENCH_ROOT,
  ".cache",
  `sae-conditions-7b-v2${SMALL ? "-small" : ""}`,
  "model",
);
export const SYNTHETIC_QWEN2: Qwen2Config = resolveQwen2Config({
  vocabSize: 152064,
  dModel: SMALL ? 512 : 3584,
  nLayers: 28,
  nHeads: SMALL ? 8 : 28,
  nKvHeads: SMALL ? 2 : 4,
  dMlp: SMALL ? 1536 : 18944,
  maxPositions: 32768,
  ropeTheta: 1_000_000,
  rmsNormEps: 1e-6,
  tieWordEmbeddings: false,
  eosTokenIds: [151645, 151643],
});

/** Random block length: coprime with every row width, so tiled rows (latents, weight rows) never repeat. */
export const BLOCK = (1 << 22) + 7;

/** `n` values cycled from a random block, from a per-tensor offset (memcpy speed, no JS loop per value). */
export function tiled<T extends Float32Array | Uint16Array>(n: number, block: T, start: number): T {
  const out = new (block.constructor as new (length: number) => T)(n);
  let at = 0;
  let from = start % block.length;
  while (at < n) {
    const len = Math.min(block.length - from, n - at);
    out.set(block.subarray(from, from + len) as T & ArrayLike<number>, at);
    at += len;
    from = 0;
  }
  return out;
}
/** Uniform values with mean 0 and the given std. */
export function randomBlock(n: number, std: number, rng: Rng): Float32Array {
  const scale = (std * Math.sqrt(12)) / 4294967296;
  const out = new Float32Array(n); // a loop, not Float32Array.from: that runs out of heap at 7B weight sizes
  for (let i = 0; i < n; i++) out[i] = (rng.nextU32() - 2147483648) * scale;
  return out;
}
export function toBf16(values: Float32Array, mean = 0): Uint16Array {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i]! + mean;
    out[i] = (u[0]! + 0x7fff + ((u[0]! >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** Writes the checkpoint to SYNTHETIC_QWEN2_DIR unless it is there. */
export async function writeSyntheticQwen2(): Promise<void> {
  const dir = SYNTHETIC_QWEN2_DIR;
  const config = SYNTHETIC_QWEN2;
  if (fs.existsSync(path.join(dir, "model.safetensors.index.json"))) return;
  fs.mkdirSync(dir, { recursive: true });
  const rng = new Rng(7);
  const std = (name: string, shape: readonly number[]) =>
    name.endsWith("norm.weight")
      ? 0.05
      : name.endsWith(".bias")
        ? 0.3
        : name.includes("embed") || name === "lm_head.weight"
          ? 3 / Math.sqrt(config.dModel)
          : name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight")
            ? Math.sqrt(2 / config.nLayers) / Math.sqrt(shape[shape.length - 1]!)
            : 1 / Math.sqrt(shape[shape.length - 1]!);
  const blocks = new Map<string, Uint16Array>(); // one random block per (std, mean), tiled into every such tensor
  const bf16Block = (s: number, mean: number) => {
    const key = `${s}|${mean}`;
    if (!blocks.has(key)) blocks.set(key, toBf16(randomBlock(BLOCK, s, rng), mean));
    return blocks.get(key)!;
  };
  const groups = new Map<string, Array<[string, number[]]>>();
  for (const [name, shape] of qwen2WeightShapes(config)) {
    const layer = /^model\.layers\.(\d+)\./.exec(name);
    const key = layer ? `layer-${layer[1]!.padStart(2, "0")}` : name.includes("embed") ? "embed" : "head";
    groups.set(key, [...(groups.get(key) ?? []), [name, [...shape]]]);
  }
  const files = [...groups.keys()].sort();
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (const [g, key] of files.entries()) {
    const file = `model-${String(g + 1).padStart(5, "0")}-of-${String(files.length).padStart(5, "0")}.safetensors`;
    const tensors: Record<string, Tensor> = {};
    for (const [name, shape] of groups.get(key)!) {
      const n = shape.reduce((a, b) => a * b, 1);
      const s = std(name, shape);
      const mean = name.endsWith("norm.weight") ? 1 : 0;
      tensors[name] = new Tensor("bf16", shape, tiled(n, bf16Block(s, mean), rng.int(BLOCK)));
      weightMap[name] = file;
      total += n * 2;
    }
    await writeSafetensors(path.join(dir, file), tensors, { format: "pt" });
    process.stdout.write(`\rmodel: wrote shard ${g + 1}/${files.length}`);
  }
  process.stdout.write("\n");
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(qwen2ConfigToHf(config, "bfloat16"), null, 2));
  fs.writeFileSync(
    path.join(dir, "generation_config.json"),
    JSON.stringify({ eos_token_id: [151645, 151643], pad_token_id: 151643 }),
  );
  const tokenizerJson = qwenTokenizerFile();
  fs.copyFileSync(tokenizerJson, path.join(dir, "tokenizer.json"));
  const tokCfg = JSON.parse(fs.readFileSync(path.join(path.dirname(tokenizerJson), "tokenizer_config.json"), "utf8"));
  tokCfg.chat_template = bundledChatTemplate("qwen2.5-instruct").source;
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(tokCfg, null, 2));
  fs.writeFileSync(
    path.join(dir, "model.safetensors.index.json"),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2),
  );
}

/** GFLOP/s of one GEMM shape: the best of 3 after a warm-up (what this machine reaches when nothing else runs). */
export function gemmRate(m: number, k: number, n: number, dtype: "bf16" | "f32"): number {
  const rng = new Rng(3);
  const a = new Tensor("f32", [m, k], randomBlock(m * k, 1, rng));
  const bValues = randomBlock(n * k, 1, rng);
  const b = dtype === "f32" ? new Tensor("f32", [n, k], bValues) : new Tensor("bf16", [n, k], toBf16(bValues));
  gemm(a, b, { transB: true });
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    gemm(a, b, { transB: true });
    times.push((performance.now() - t0) / 1000);
  }
  return (2 * m * k * n) / Math.min(...times) / 1e9;
}

/**
 * Memory bandwidth in GB/s, the better of two measures (best of 3 each, 512 MiB, far beyond any cache): a memcpy
 * (bytes read + bytes written) and a one-row GEMM over bf16 weights (weight bytes read: how a decode step reads them).
 */
export function memoryBandwidth(): number {
  const bytes = 512 * 2 ** 20;
  const src = new Uint8Array(bytes).fill(0x3f);
  const dst = new Uint8Array(bytes);
  const k = 4096;
  const n = bytes / 2 / k;
  const weights = new Tensor("bf16", [n, k], new Uint16Array(src.buffer));
  const row = new Tensor("f32", [1, k], new Float32Array(k).fill(1));
  const best = (run: () => void): number => {
    run();
    let min = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      run();
      min = Math.min(min, (performance.now() - t0) / 1000);
    }
    return min;
  };
  const copy = (2 * bytes) / best(() => dst.set(src)) / 1e9;
  const gemv = bytes / best(() => gemm(row, weights, { transB: true })) / 1e9;
  return Math.max(copy, gemv);
}
