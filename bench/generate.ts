/**
 * pnpm bench:generate — greedy generation of 64 tokens from a 64-token prompt on the Qwen1.5-0.5B-shaped random
 * model (vocab cut to 32768), with and without the KV cache, alternating. Prints tokens/s for both and, as its last
 * line, generate_kv_speedup=<median without-cache seconds / median with-cache seconds>.
 *
 * Options: --pairs N (default 2), --dtype f32|bf16, --backend auto|native|js|webgpu
 * (else DIFFLENS_BACKEND, else auto).
 */
import { parseArgs } from "node:util";
import { createRandomQwen2, generate } from "@difflens/runtime";
import { selectBackend } from "@difflens/tensor";

const { values } = parseArgs({
  options: { pairs: { type: "string" }, dtype: { type: "string" }, backend: { type: "string" } },
});
const pairs = Number(values.pairs ?? 2);
const backend = await selectBackend(values.backend); // before the model: its weights go to this device
const model = createRandomQwen2({
  config: {
    vocabSize: 32768,
    dModel: 1024,
    nLayers: 24,
    nHeads: 16,
    nKvHeads: 16,
    dMlp: 2816,
    ropeTheta: 1_000_000,
    tieWordEmbeddings: true,
  },
  seed: 1234,
  dtype: (values.dtype ?? "f32") as "f32" | "bf16",
});
const prompt = Array.from({ length: 64 }, (_, i) => (i * 104729 + 17) % 32768);
const NEW = 64;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timed(useKvCache: boolean): Promise<{ seconds: number; tokens: number[] }> {
  const t = performance.now();
  const r = await generate(model, prompt, { maxNewTokens: NEW, stopTokens: [], useKvCache });
  return { seconds: (performance.now() - t) / 1000, tokens: r.tokens[0]! };
}

console.log(`backend=${backend.name} threads=${backend.getThreads()} prompt=64 new=${NEW}`);
const withKv: number[] = [];
const without: number[] = [];
for (let i = 0; i < pairs; i++) {
  const a = await timed(true);
  const b = await timed(false);
  if (a.tokens.join() !== b.tokens.join()) throw new Error("KV-cache and full-recompute generations differ");
  withKv.push(a.seconds);
  without.push(b.seconds);
  console.log(`pair ${i + 1}: kv ${a.seconds.toFixed(2)} s, no-kv ${b.seconds.toFixed(2)} s (same ${NEW} tokens)`);
}
console.log(`generate_tokens_per_s_kv=${(NEW / median(withKv)).toFixed(2)}`);
console.log(`generate_tokens_per_s_no_kv=${(NEW / median(without)).toFixed(2)}`);
console.log(`generate_kv_speedup=${(median(without) / median(withKv)).toFixed(3)}`);
