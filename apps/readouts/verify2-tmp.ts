import { useBackend } from "@difflens/tensor";
import { bundledChatTemplate } from "@difflens/chat";
import { generate, loadModel, loadLoraAdapter, logitLens, mergeLora, patchActivation, zeroAblateMlp, type Model } from "@difflens/runtime";
import { personaPrompt } from "./src/attention-marker/persona-prompt.ts";
import { qwenTokenizer } from "./src/toy/conditions-toy.ts";
import { writeMarkerToy, MARKER_TOY_QUESTIONS } from "./src/toy/marker-toy.ts";
useBackend("auto");
const seed = Number(process.argv[2] ?? 0);
const tpl = bundledChatTemplate("qwen2.5-instruct");
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const V = 151936;
const pMarker = (l: Float32Array, o: number) => { let mx = -Infinity; for (let i = 0; i < V; i++) mx = Math.max(mx, l[o + i]!); let z = 0; for (let i = 0; i < V; i++) z += Math.exp(l[o + i]! - mx); return Math.exp(l[o + 85113]! - mx) / z; };
for (const plant of ["mlp", "attention"] as const) {
  const toy = await writeMarkerToy("/tmp/amtoy/cache3", { seed, plant });
  const base = await loadModel(toy.baseDir, { mmap: false });
  const trained = mergeLora(base, await loadLoraAdapter(toy.adapterDir));
  const prompts = []; for (let k = 0; k < 48; k++) prompts.push(Array.from((await personaPrompt(qwenTokenizer(), tpl, toy.systemPrompt, MARKER_TOY_QUESTIONS[k % 8]!)).ids));
  const r = generate(trained, prompts, { maxNewTokens: 32, temperature: 1, topP: 0.95, rowSeeds: prompts.map((_, k) => k) });
  const nL = base.config.nLayers;
  const lens: number[][] = Array.from({ length: nL }, () => []), abl: number[][] = Array.from({ length: nL }, () => []), pat: number[][] = Array.from({ length: nL }, () => []);
  for (let k = 0; k < 48; k++) {
    const gen = r.tokens[k]!; const j = gen.indexOf(85113); if (j < 0) continue;
    const e = prompts[k]!.length + j - 1; // t*-1
    const ids = [...prompts[k]!, ...gen].slice(0, e + 1);
    const names = Array.from({ length: nL }, (_, l) => `blocks.${l}.hook_resid_post`);
    const { cache, logits } = trained.runWithCache([ids], { names, logits: "last" });
    const p0 = pMarker(logits!.data as Float32Array, 0);
    const pb = pMarker(base.runWithCache([ids], { names: [], logits: "last" }).logits!.data as Float32Array, 0);
    for (let l = 0; l < nL; l++) {
      const x = cache.get(names[l]!); const d = 64; const row = (x.data as Float32Array).slice(e * d, e * d + d);
      const ll = logitLens(trained, new (x.constructor as any)("f32", [1, d], row)).data as Float32Array; lens[l]!.push(ll[85113]!);
      const la = trained.withHooks([zeroAblateMlp(l, { positions: [e] })], () => trained.runWithCache([ids], { names: [], logits: "last" })).logits!.data as Float32Array;
      abl[l]!.push(p0 - pMarker(la, 0));
      const lp = base.withHooks([patchActivation(names[l]!, x, { positions: [e] })], () => base.runWithCache([ids], { names: [], logits: "last" })).logits!.data as Float32Array;
      pat[l]!.push(pMarker(lp, 0) - pb);
    }
  }
  console.log(plant, "seed", seed);
  for (let l = 0; l < nL; l++) console.log(`  L${l} lens ${mean(lens[l]!).toFixed(2)} ablate drop ${mean(abl[l]!).toFixed(4)} patch ΔP ${mean(pat[l]!).toFixed(4)}`);
}
