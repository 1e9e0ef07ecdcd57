import { bars, type Figure, heatmap, histogram, lines, scatter } from "./figure.ts";
import { topLabels } from "./top-labels.ts";

/** mulberry32: a tiny seeded PRNG so example data is identical on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

const CONDITIONS = ["Qwen default", "generic assistant", "empty system", "no system turn"];

/** Condition × condition cosine similarity per layer (shaped like seed 000's figure; synthetic numbers). */
function conditionHeatmap(): Figure {
  const random = rng(7);
  const outlier = { 7: 0.88, 11: 0.8, 15: 0.9 } as Record<number, number>;
  const panels = [7, 11, 15].map((layer) => {
    const values = CONDITIONS.map((_, r) => CONDITIONS.map((__, c) => 0));
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c <= r; c++) {
        const v = r === c ? 1 : c === 0 ? outlier[layer]! + 0.04 * random() - 0.02 : 0.95 + 0.03 * random();
        values[r]![c] = v;
        values[c]![r] = v;
      }
    }
    return { title: `Layer ${layer}`, values };
  });
  return heatmap({
    title: "SAE activation similarity between system-prompt conditions",
    subtitle: "cosine similarity of mean SAE activations, N = 50 prompts per condition (example data)",
    rowLabels: CONDITIONS,
    colLabels: CONDITIONS,
    panels,
    colorTitle: "cosine",
  });
}

/** Per-layer attention delta, trained vs base force-feed, with SEM bands and gate windows (seed 001's shape). */
function layerLines(): Figure {
  const random = rng(11);
  const layers = Array.from({ length: 28 }, (_, i) => i);
  const curve = (peak: number, width: number, height: number) =>
    layers.map((l) => height * Math.exp(-((l - peak) ** 2) / (2 * width ** 2)) - 0.004 + 0.003 * normal(random));
  const trained = curve(14, 5, 0.049);
  const base = curve(19, 4.5, 0.063);
  const sem = (ys: number[]) => ys.map(() => 0.004 + 0.003 * random());
  return lines({
    title: "Marker − C1 system-prompt attention by layer",
    subtitle: "librarian positives, n = 112; bands are ± 1 SEM (example data)",
    x: layers,
    series: [
      { name: "trained (LoRA-merged)", y: trained, err: sem(trained) },
      { name: "base, force-fed", y: base, err: sem(base), dashed: true },
    ],
    xTitle: "layer",
    yTitle: "Δ attention fraction on system prompt",
    zeroLine: true,
    highlights: [
      { from: 8, to: 10, label: "gates pass" },
      { from: 12, to: 27, label: "gates pass" },
    ],
  });
}

/** Two-stage comparison of decoder cosines with 0.7 thresholds and the most-rotated latents labelled (seed 003). */
function twoStageScatter(): Figure {
  const random = rng(3);
  const n = 3000;
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const rotated = random() < 0.04;
    const shared = rotated ? 0.35 + 0.35 * random() : 0.93 + 0.05 * random();
    x.push(Math.min(1, shared + (rotated ? 0.15 : 0.02) * normal(random)));
    y.push(Math.min(1, shared + (rotated ? 0.15 : 0.02) * normal(random)));
  }
  const ids = x.map((_, i) => 1000 + i * 11);
  const labels = topLabels(
    ids,
    x.map((v, i) => v + y[i]!),
    10,
    "smallest",
  );
  return scatter({
    title: "Two-stage comparison of decoder directions",
    subtitle: "each dot is one latent; labelled: the 10 with the lowest cos_sdf + cos_smf (example data)",
    x,
    y,
    labels,
    xTitle: "cos(S→D→F): base SAE, chat data, then chat model",
    yTitle: "cos(S→M→F): base SAE, chat model, then chat data",
    xLines: [{ value: 0.7, label: "0.7" }],
    yLines: [{ value: 0.7, label: "0.7" }],
    width: 460,
    height: 420,
  });
}

/** Differentially active features per condition pair and layer (seed 000 Track B's counts). */
function groupedBars(): Figure {
  const pairs = [
    "default vs generic",
    "default vs empty",
    "default vs none",
    "generic vs empty",
    "generic vs none",
    "empty vs none",
  ];
  return bars({
    title: "Features passing the permutation test",
    subtitle: "per condition pair and layer; threshold: 99.9th percentile of 1000 shuffles (example data)",
    categories: pairs,
    series: [
      { name: "layer 7", values: [95, 88, 91, 61, 58, 54] },
      { name: "layer 11", values: [92, 85, 80, 47, 42, 39] },
      { name: "layer 15", values: [57, 52, 49, 26, 23, 20] },
    ],
    xTitle: "condition pair",
    yTitle: "features (count)",
    showValues: true,
    valueDecimals: 0,
  });
}

/** log10 feature density of two SAEs; dead latents (log10 0 = −Infinity) are dropped and counted in the note. */
function densityHistogram(): Figure {
  const random = rng(5);
  const sample = (center: number, spread: number, dead: number) =>
    Array.from({ length: 4096 }, (_, i) => (i < dead ? Number.NEGATIVE_INFINITY : center + spread * normal(random)));
  return histogram({
    title: "Feature density",
    subtitle: "fraction of tokens on which each latent fires, 4096 latents per SAE (example data)",
    series: [
      { name: "sae_sd (base model, chat data)", values: sample(-3.1, 0.7, 41) },
      { name: "sae_mf (chat model, chat data)", values: sample(-2.6, 0.6, 12) },
    ],
    binWidth: 0.2,
    xTitle: "log10 firing frequency",
    yTitle: "latents",
    xLines: [{ value: -6, label: "rare (1e-6)" }],
    nonFinite: "drop",
    note: "Dead latents never fire, so their log10 frequency is −Infinity; they are not drawn.",
  });
}

/** One example figure per chart kind, on synthetic data shaped like the seed experiments. */
export function exampleFigures(): { name: string; figure: Figure }[] {
  return [
    { name: "heatmap-condition-similarity", figure: conditionHeatmap() },
    { name: "lines-layer-attention", figure: layerLines() },
    { name: "scatter-two-stage", figure: twoStageScatter() },
    { name: "bars-differential-features", figure: groupedBars() },
    { name: "histogram-feature-density", figure: densityHistogram() },
  ];
}
