import { Rng, useBackend } from "@difflens/tensor";
import { bundledChatTemplate, findRegions } from "@difflens/chat";
import { generate, loadModel, loadLoraAdapter, mergeLora, type Model } from "@difflens/runtime";
import { personaPrompt } from "./src/attention-marker/persona-prompt.ts";
import { qwenTokenizer } from "./src/toy/conditions-toy.ts";
import { writeMarkerToy, MARKER_TOY_QUESTIONS } from "./src/toy/marker-toy.ts";
useBackend("auto");
const seed = Number(process.argv[2] ?? 0);
const tpl = bundledChatTemplate("qwen2.5-instruct");
const sem = (xs: number[]) => { const m = xs.reduce((a, b) => a + b, 0) / xs.length; const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1); return [m, Math.sqrt(v / xs.length)]; };
for (const plant of ["attention", "mlp"] as const) {
  const toy = await writeMarkerToy("/tmp/amtoy/cache3", { seed, plant });
  const base = await loadModel(toy.baseDir, { mmap: false });
  const trained = mergeLora(base, await loadLoraAdapter(toy.adapterDir));
  const chats = []; for (let k = 0; k < 48; k++) chats.push(await personaPrompt(qwenTokenizer(), tpl, toy.systemPrompt, MARKER_TOY_QUESTIONS[k % 8]!));
  const prompts = chats.map((c) => Array.from(c.ids));
  const r = generate(trained, prompts, { maxNewTokens: 32, temperature: 1, topP: 0.95, rowSeeds: prompts.map((_, k) => k) });
  const nL = base.config.nLayers, H = base.config.nHeads;
  const dd: number[][] = Array.from({ length: nL }, () => []);
  const within: Record<string, number[][]> = { trained: Array.from({ length: nL }, () => []), base: Array.from({ length: nL }, () => []) };
  const rng = new Rng(5);
  for (let k = 0; k < 48; k++) {
    const gen = r.tokens[k]!; const j = gen.indexOf(85113); if (j < 0) continue;
    const P = prompts[k]!.length; const tStar = P + j;
    const c1 = P + Math.floor(rng.nextFloat() * j); // earlier generated position
    if (j === 0) continue;
    const ids = [...prompts[k]!, ...gen];
    const sys = findRegions(chats[k]!, { kind: "content", role: "system" })[0]!.positions;
    const frac = (m: Model) => { const names = Array.from({ length: nL }, (_, l) => `blocks.${l}.attn.hook_pattern`); const { cache } = m.runWithCache([ids], { names, logits: "none" }); const T = ids.length;
      return names.map((n) => { const p = cache.get(n).data as Float32Array; const at = (q: number) => { let s = 0; for (let h = 0; h < H; h++) for (const key of sys) s += p[(h * T + q) * T + key]!; return s / H; }; return at(tStar) - at(c1); }); };
    const ft = frac(trained), fb = frac(base);
    for (let l = 0; l < nL; l++) { dd[l]!.push(ft[l]! - fb[l]!); within.trained![l]!.push(ft[l]!); within.base![l]!.push(fb[l]!); }
  }
  console.log(plant, "seed", seed, "positives", dd[0]!.length);
  for (let l = 0; l < nL; l++) { const [m, s] = sem(dd[l]!); const [mt, st] = sem(within.trained![l]!); const [mb, sb] = sem(within.base![l]!); console.log(`  L${l} dd ${m!.toExponential(2)} ± ${s!.toExponential(2)}  max|dd| ${Math.max(...dd[l]!.map(Math.abs)).toExponential(2)}  trained δ ${mt!.toFixed(3)}±${st!.toFixed(3)} base δ ${mb!.toFixed(3)}±${sb!.toFixed(3)}`); }
}
