/**
 * pnpm bench:forward-7b (opt-in: writes ~15 GB) — a synthetic Qwen2.5-7B-shaped bf16 checkpoint (28 layers,
 * d_model 3584, 28 heads / 4 kv heads, d_mlp 18944, vocab 152064, untied) written once to bench/.cache/ as a real
 * sharded HF folder, then loaded memory-mapped in a fresh process for one forward pass of 64 tokens.
 * Reports seconds and peak RSS against the weight bytes (target: RSS ≤ weights + 2 GB).
 * Options: --backend auto|native|js|webgpu (else DIFFLENS_BACKEND, else auto).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { loadModel, qwen2ConfigToHf, qwen2WeightShapes, resolveQwen2Config } from "@difflens/runtime";
import { selectBackend, Tensor, writeSafetensors } from "@difflens/tensor";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dir = path.join(root, "bench", ".cache", "qwen2.5-7b-synthetic-bf16");
const config = resolveQwen2Config({
  vocabSize: 152064,
  dModel: 3584,
  nLayers: 28,
  nHeads: 28,
  nKvHeads: 4,
  dMlp: 18944,
  maxPositions: 32768,
  ropeTheta: 1_000_000,
  rmsNormEps: 1e-6,
  tieWordEmbeddings: false,
  eosTokenIds: [151643],
});

/** Uniform values with the given std as bf16 bits, from xorshift32 (fast: 7.6e9 values). */
function fillBf16(n: number, std: number, mean: number, seed: number): Uint16Array {
  const out = new Uint16Array(n);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  let x = seed >>> 0 || 1;
  const a = (std * Math.sqrt(3) * 2) / 4294967296;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    f[0] = mean + (x * a - std * Math.sqrt(3));
    out[i] = (u[0]! + 0x7fff + ((u[0]! >>> 16) & 1)) >>> 16;
  }
  return out;
}

async function writeCheckpoint(): Promise<void> {
  if (fs.existsSync(path.join(dir, "model.safetensors.index.json"))) return;
  fs.mkdirSync(dir, { recursive: true });
  const shapes = [...qwen2WeightShapes(config)];
  const groups: Array<Array<[string, number[]]>> = [[]];
  for (const entry of shapes) {
    const layer = /^model\.layers\.(\d+)\./.exec(entry[0]);
    const g = layer ? Number(layer[1]) + 1 : entry[0] === "model.embed_tokens.weight" ? 0 : config.nLayers + 1;
    groups[g] = [...(groups[g] ?? []), entry];
  }
  const weightMap: Record<string, string> = {};
  let total = 0;
  const n = groups.length;
  for (let g = 0; g < n; g++) {
    const file = `model-${String(g + 1).padStart(5, "0")}-of-${String(n).padStart(5, "0")}.safetensors`;
    const tensors: Record<string, Tensor> = {};
    for (const [name, shape] of groups[g] ?? []) {
      const size = shape.reduce((a, b) => a * b, 1);
      const isNorm = name.endsWith("norm.weight");
      const std = isNorm ? 0.05 : name.endsWith(".bias") ? 0.3 : 1 / Math.sqrt(shape[shape.length - 1]!);
      tensors[name] = new Tensor(
        "bf16",
        shape,
        fillBf16(size, std, isNorm ? 1 : 0, g * 1000 + Object.keys(tensors).length + 1),
      );
      weightMap[name] = file;
      total += size * 2;
    }
    await writeSafetensors(path.join(dir, file), tensors, { format: "pt" });
    process.stdout.write(`\rwrote shard ${g + 1}/${n}`);
  }
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(qwen2ConfigToHf(config, "bfloat16"), null, 2));
  fs.writeFileSync(
    path.join(dir, "model.safetensors.index.json"),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2),
  );
  console.log();
}

async function measure(): Promise<void> {
  const flag = process.argv.indexOf("--backend");
  const backend = await selectBackend(flag < 0 ? undefined : process.argv[flag + 1]);
  const t0 = performance.now();
  const model = await loadModel(dir);
  const loadS = (performance.now() - t0) / 1000;
  const ids = Array.from({ length: 64 }, (_, i) => (i * 7919) % config.vocabSize);
  const t1 = performance.now();
  const logits = await model.forward(ids, { logits: "last" });
  const fwdS = (performance.now() - t1) / 1000;
  let weightBytes = 0;
  for (const f of fs.readdirSync(dir))
    if (f.endsWith(".safetensors")) weightBytes += fs.statSync(path.join(dir, f)).size;
  const rss = process.resourceUsage().maxRSS * 1024;
  console.log(
    `backend=${backend.name} threads=${backend.getThreads()} load_s=${loadS.toFixed(2)} logits ${logits.shape.join("x")}`,
  );
  console.log(`forward_64_tokens_s=${fwdS.toFixed(2)}`);
  console.log(
    `peak_rss_bytes=${rss} weight_bytes=${weightBytes} rss_minus_weights_gb=${((rss - weightBytes) / 1e9).toFixed(2)} target_le_2gb=${rss <= weightBytes + 2e9}`,
  );
}

if (process.argv.includes("--measure")) {
  await measure();
} else {
  await writeCheckpoint();
  // a fresh process, so peak RSS counts only loading + the forward pass
  const args = [...process.execArgv, fileURLToPath(import.meta.url), "--measure", ...process.argv.slice(2)];
  const r = spawnSync(process.execPath, args, {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}
