/**
 * A synthetic methods run folder per the run-folder contract (no models, no training): a three-plant toy with
 * known unit plants u, v, f in dIn 16 and every method's files written from hand-made directions whose cosines to the
 * plants are known — so the report's numbers can be checked exactly. The crosscoder checkpoints are real
 * (saveCrosscoderCheckpoint) with hand-set decoders: latent 5 chat-only along u, 6 chat-only along v, 8 shared along f
 * (‖d chat‖ = 1.4‖d base‖ → relative norm 0.583), the rest shared random.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeJsonAtomic } from "@difflens/common";
import { newCrosscoderTrainState, resolveCrosscoderTrainConfig, saveCrosscoderCheckpoint } from "@difflens/sae";
import { Rng, Tensor, writeSafetensors } from "@difflens/tensor";

export const D_IN = 16;
export const D_SAE = 12;

export interface FixtureOptions {
  /** Method keys to leave out of methods.json (and their folders). */
  readonly omit?: readonly string[];
}

export interface Fixture {
  readonly dir: string;
  readonly plants: Record<string, Float32Array>;
  /** Headline directions by name, as written. */
  readonly directions: Record<string, Float32Array>;
}

const FOLDERS: Record<string, string> = {
  stagewise: "stagewise",
  crosscoderBatchTopK: "crosscoder-batchtopk",
  crosscoderL1: "crosscoder-l1",
  diffSae: "diff-sae",
  adl: "adl",
};

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** a·x + b·y, normalised. */
function mix(a: number, x: Float32Array, b: number, y: Float32Array): Float32Array {
  return unit(x.map((xi, i) => a * xi + b * y[i]!));
}

/** Orthonormal random directions (Gram–Schmidt), deterministic. */
function orthonormal(n: number, rng: Rng): Float32Array[] {
  const out: Float32Array[] = [];
  while (out.length < n) {
    const v = Float32Array.from({ length: D_IN }, () => rng.normal());
    for (const q of out) {
      const dot = v.reduce((s, x, i) => s + x * q[i]!, 0);
      for (let i = 0; i < D_IN; i++) v[i]! -= dot * q[i]!;
    }
    out.push(unit(v));
  }
  return out;
}

const f32 = (v: Float32Array) => new Tensor("f32", [v.length], v.slice());
const stack = (rows: Float32Array[]) => {
  const m = new Float32Array(rows.length * D_IN);
  rows.forEach((r, i) => m.set(r, i * D_IN));
  return new Tensor("f32", [rows.length, D_IN], m);
};

/** Writes a crosscoder checkpoint whose latent j has decoders base = bases[j], chat = chats[j]. */
async function crosscoderCheckpoint(
  dir: string,
  kind: "batchtopk" | "l1",
  bases: Float32Array[],
  chats: Float32Array[],
) {
  const cfg = resolveCrosscoderTrainConfig({ dIn: D_IN, dSae: D_SAE, kind, k: 2, hookName: "blocks.1.hook_resid_pre" });
  const wDec = new Float32Array(D_SAE * 2 * D_IN);
  for (let j = 0; j < D_SAE; j++) {
    wDec.set(bases[j]!, j * 2 * D_IN);
    wDec.set(chats[j]!, j * 2 * D_IN + D_IN);
  }
  const params = { wEnc: wDec.slice(), bEnc: new Float32Array(D_SAE), wDec, bDec: new Float32Array(2 * D_IN) };
  const state = newCrosscoderTrainState(params, cfg, new Rng(0));
  state.threshold = 0.1;
  return saveCrosscoderCheckpoint(dir, state, cfg, [], 1);
}

export async function writeMethodsRunFixture(dir: string, options: FixtureOptions = {}): Promise<Fixture> {
  const omit = new Set(options.omit ?? []);
  const rng = new Rng(7);
  const [u, v, f, ...others] = orthonormal(D_IN, rng) as [Float32Array, Float32Array, Float32Array, ...Float32Array[]];
  const plants = { u, v, f };
  const hook = "blocks.1.hook_resid_pre";
  const methods = Object.fromEntries(Object.entries(FOLDERS).filter(([k]) => !omit.has(k)));
  fs.mkdirSync(dir, { recursive: true });
  writeJsonAtomic(path.join(dir, "methods.json"), {
    format: "difflens-methods-run",
    version: 1,
    config: { note: "synthetic fixture" },
    toy: { variant: "three-plant", hook, plants: ["u", "v", "f"] },
    base: "toy-base",
    chat: "toy-chat",
    hook,
    store: "store",
    timings: { harvest: 1.5, crosscoderBatchTopK: 10, crosscoderL1: 9, diffSae: 4, adl: 0.2, stagewise: 30 },
    methods,
  });
  await writeSafetensors(path.join(dir, "plants.safetensors"), { u: f32(u), v: f32(v), f: f32(f) });
  writeJsonAtomic(path.join(dir, "store", "manifest.json"), {
    format: "difflens-paired-activation-store",
    version: 1,
    hook,
    dIn: D_IN,
    base: "toy-base",
    chat: "toy-chat",
    dataset: "synthetic",
    tokenCount: 4096,
    shards: [{ file: "shard-00000.safetensors", rows: 4096 }],
    createdAt: "2026-01-01T00:00:00.000Z",
  });

  // Headline directions with known cosines: cos(mix(a, x, b, y), x) = a / √(a² + b²) for orthonormal x, y.
  const directions: Record<string, Float32Array> = {};
  const list: { name: string; method: string; label: string; detail: unknown }[] = [];
  const add = (method: string, label: string, vec: Float32Array, detail: unknown = null) => {
    if (omit.has(Object.keys(FOLDERS).find((k) => FOLDERS[k] === method)!)) return;
    directions[`${method}/${label}`] = vec;
    list.push({ name: `${method}/${label}`, method, label, detail });
  };
  const uAdl = mix(0.99, u, Math.sqrt(1 - 0.99 ** 2), others[0]!); // cos 0.99 to u
  add("stagewise", "latent-1", mix(0.8, u, 0.6, others[1]!)); // cos 0.8 to u
  add("crosscoder-batchtopk", "latent-5", u);
  add("crosscoder-batchtopk", "latent-6", v);
  add("crosscoder-l1", "latent-2", mix(1, u, 1, v)); // cos 0.7071 to u and v
  add("diff-sae", "latent-3", mix(0.95, u, Math.sqrt(1 - 0.95 ** 2), others[2]!)); // cos 0.95 to u
  add("diff-sae", "latent-7", mix(0.85, v, Math.sqrt(1 - 0.85 ** 2), others[3]!)); // cos 0.85 to v: fails
  add("adl", "leading", uAdl);
  await writeSafetensors(
    path.join(dir, "directions.safetensors"),
    Object.fromEntries(Object.entries(directions).map(([n, d]) => [n, f32(d)])),
  );
  writeJsonAtomic(path.join(dir, "directions.json"), { dIn: D_IN, directions: list });

  if (!omit.has("stagewise")) {
    const sw = path.join(dir, "stagewise");
    writeJsonAtomic(path.join(sw, "top-latents.json"), {
      stages: ["S", "D", "M", "DF", "MF"],
      latents: [
        { latent: 1, score: 0.4, cosD_DF: 0.2 },
        { latent: 9, score: 1.6, cosD_DF: 0.8 },
      ],
    });
    await writeSafetensors(path.join(sw, "top-latents.safetensors"), {
      directions: stack([directions["stagewise/latent-1"]!, others[4]!]),
    });
  }
  for (const kind of ["batchtopk", "l1"] as const) {
    const key = kind === "batchtopk" ? "crosscoderBatchTopK" : "crosscoderL1";
    if (omit.has(key)) continue;
    const cdir = path.join(dir, FOLDERS[key]!);
    const zero = new Float32Array(D_IN);
    const bases: Float32Array[] = Array.from({ length: D_SAE }, (_, j) => others[(j % 8) + 4]!);
    const chats: Float32Array[] = bases.map((b) => b.slice());
    if (kind === "batchtopk") {
      [bases[5], chats[5]] = [zero, u];
      [bases[6], chats[6]] = [zero, v];
      [bases[8], chats[8]] = [f, f.map((x) => 1.4 * x)];
    } else {
      [bases[2], chats[2]] = [zero, directions["crosscoder-l1/latent-2"]!];
    }
    const ck = await crosscoderCheckpoint(cdir, kind, bases, chats);
    const rel = bases.map((b, j) => Math.hypot(...chats[j]!) / (Math.hypot(...b) + Math.hypot(...chats[j]!)));
    const scored =
      kind === "batchtopk"
        ? [
            { latent: 5, nuReconstruction: 0.02, nuError: 0.05, chatSpecific: true, dir: u },
            { latent: 6, nuReconstruction: 0.1, nuError: 0.2, chatSpecific: true, dir: v },
            { latent: 8, nuReconstruction: 0.7, nuError: 0.8, chatSpecific: false, dir: f },
          ]
        : [{ latent: 2, nuReconstruction: 0.9, nuError: 0.85, chatSpecific: false, dir: chats[2]! }];
    writeJsonAtomic(path.join(cdir, "analysis.json"), {
      kind,
      crosscoder: path.relative(cdir, ck),
      histogram: { edges: [0, 0.5, 1], counts: [0, D_SAE] },
      bandCounts: {},
      latents: scored.map(({ dir: _d, ...s }) => ({
        ...s,
        relativeNorm: rel[s.latent]!,
        band: rel[s.latent]! >= 0.9 ? "chat-only" : rel[s.latent]! >= 0.4 && rel[s.latent]! <= 0.6 ? "shared" : "other",
        count: 100,
      })),
    });
    await writeSafetensors(path.join(cdir, "latents.safetensors"), {
      chat_directions: stack(scored.map((s) => s.dir)),
    });
    writeJsonAtomic(path.join(cdir, "relative-norms.json"), { relativeNorms: rel });
  }
  if (!omit.has("diffSae")) {
    const dd = path.join(dir, "diff-sae");
    writeJsonAtomic(path.join(dd, "top-latents.json"), {
      sae: "checkpoints/step-00000010",
      rankedBy: "mass",
      bias: { norm: 0.5, cosineToAdl: 0.3 },
      latents: [
        { latent: 3, frequency: 0.5, meanActivation: 2, mass: 1, cosineToAdl: 0.94 },
        { latent: 7, frequency: 0.1, meanActivation: 3, mass: 0.3, cosineToAdl: 0.01 },
      ],
    });
    await writeSafetensors(path.join(dd, "top-latents.safetensors"), {
      directions: stack([directions["diff-sae/latent-3"]!, directions["diff-sae/latent-7"]!]),
      bias: f32(others[5]!),
    });
  }
  if (!omit.has("adl")) {
    const ad = path.join(dir, "adl");
    const lens = [
      { id: 5, logit: 3.5, token: "<script>" },
      { id: 9, logit: 2.1, token: "ĠhelloĊ" }, // byte-level BPE for " hello\n"
    ];
    writeJsonAtomic(path.join(ad, "adl.json"), {
      hook,
      store: path.join(dir, "store"),
      base: "toy-base",
      chat: "toy-chat",
      buckets: [
        { name: "all", rows: 4096, norm: 1.25, cosineToLeading: 0.99, lens },
        { name: "assistant@0", rows: 0, norm: 0, cosineToLeading: null, lens: [] },
      ],
      leading: { explained: 0.93, lens, file: "leading.safetensors" },
      steeringVectors: ["adl-all.safetensors"],
    });
    await writeSafetensors(path.join(ad, "adl-all.safetensors"), { direction: f32(uAdl.map((x) => 1.25 * x)) });
    await writeSafetensors(path.join(ad, "leading.safetensors"), { direction: f32(uAdl) });
  }
  return { dir, plants, directions };
}
