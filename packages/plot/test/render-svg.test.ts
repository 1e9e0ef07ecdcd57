import { describe, expect, it } from "vitest";
import { exampleFigures } from "../src/examples.ts";
import { measureTextWidth } from "../src/font.ts";
import { bars, compileFigure, heatmap, histogram, lines, renderSvg, scatter } from "../src/index.ts";
import { placeLabels } from "../src/kinds/label-placement.ts";
import { markGroupCount, markItems, noteLines, roleTexts, svgSize, textContent } from "./inspect.ts";

const CONDITIONS = ["Qwen default", "generic", "empty", "none"];

describe("heatmap", () => {
  const fig = heatmap({
    title: "Similarity",
    rowLabels: CONDITIONS,
    colLabels: CONDITIONS,
    panels: [7, 11, 15].map((layer, p) => ({
      title: `Layer ${layer}`,
      values: CONDITIONS.map((_, r) => CONDITIONS.map((__, c) => (r === c ? 1 : 0.9 - 0.01 * (r + c) - 0.05 * p))),
    })),
    xTitle: "condition",
    yTitle: "condition",
    colorTitle: "cosine",
  });

  it("draws one cell and one written value per matrix entry, with panel headers and a colour bar", async () => {
    const svg = await renderSvg(fig);
    expect(markItems(svg, "cells")).toHaveLength(3 * 16);
    const values = markItems(svg, "cell_values").map(textContent);
    expect(values).toHaveLength(48);
    // Layer 11 panel, row "generic" (1), col "empty" (2): 0.9 − 0.03 − 0.05 = 0.82.
    expect(values.filter((v) => v === "0.82").length).toBeGreaterThan(0);
    expect(values.filter((v) => v === "1.00")).toHaveLength(12);
    const headers = svg.match(/Layer (7|11|15)</g) ?? [];
    expect(headers).toEqual(["Layer 7<", "Layer 11<", "Layer 15<"]);
    expect(roleTexts(svg, "axis-title")).toEqual(expect.arrayContaining(["condition"]));
    expect(roleTexts(svg, "axis-label")).toEqual(expect.arrayContaining(CONDITIONS));
    expect(svg).toContain("<linearGradient"); // the colour bar
    expect(roleTexts(svg, "legend-title")).toEqual(["cosine"]);
    expect(roleTexts(svg, "title-text")).toContain("Similarity");
  });

  it("writes light text on dark cells and dark text on light cells", async () => {
    const svg = await renderSvg(heatmap({ rowLabels: ["a"], colLabels: ["lo", "hi"], values: [[0, 1]] }));
    const items = markItems(svg, "cell_values");
    expect(items[0]).toContain('fill="#ffffff"'); // viridis low end is dark purple
    expect(items[1]).toContain('fill="#111111"'); // viridis high end is yellow
  });

  it("leaves dropped non-finite cells blank and says so in the note", async () => {
    const svg = await renderSvg(
      heatmap({
        rowLabels: ["a", "b"],
        colLabels: ["x", "y"],
        values: [
          [1, NaN],
          [Infinity, 2],
        ],
        nonFinite: "drop",
      }),
    );
    expect(markItems(svg, "cells")).toHaveLength(2);
    expect(noteLines(svg).join(" ")).toMatch(/Not shown: 2 non-finite values .*values: 2/);
  });
});

describe("lines", () => {
  const layers = [0, 1, 2, 3, 4, 5, 6, 7];
  const fig = lines({
    x: layers,
    series: [
      { name: "trained", y: layers.map((l) => 0.01 * l - 0.02), err: layers.map(() => 0.004) },
      {
        name: "base",
        y: layers.map((l) => 0.008 * l - 0.01),
        lower: layers.map((l) => 0.008 * l - 0.015),
        upper: layers.map((l) => 0.008 * l - 0.005),
        dashed: true,
      },
      { name: "control", y: layers.map(() => 0.001) },
    ],
    xTitle: "layer",
    yTitle: "Δ attention",
    zeroLine: true,
    highlights: [
      { from: 2, to: 3, label: "window A" },
      { from: 5, to: 7, label: "window B" },
    ],
    yLines: [{ value: 0.05, label: "gate" }],
  });

  it("draws one line per series, bands where given, the zero line, windows and a legend", async () => {
    const svg = await renderSvg(fig);
    expect(markGroupCount(svg, "lines")).toBe(3);
    expect(markGroupCount(svg, "bands")).toBe(2);
    expect(markItems(svg, "points")).toHaveLength(24);
    expect(markItems(svg, "zero_line")).toHaveLength(1);
    expect(markItems(svg, "highlights")).toHaveLength(2);
    expect(markItems(svg, "highlight_labels").map(textContent)).toEqual(["window A", "window B"]);
    expect(markItems(svg, "y_lines_labels").map(textContent)).toEqual(["gate"]);
    expect(roleTexts(svg, "axis-title").sort()).toEqual(["layer", "Δ attention"]);
    expect(roleTexts(svg, "legend-label")).toEqual(["trained", "base", "control"]);
    // Integer x (layers): integer tick labels only.
    const xTicks = roleTexts(svg, "axis-label").filter((t) => /^\d+$/.test(t));
    expect(xTicks).toEqual(expect.arrayContaining(["0", "2", "4", "6"]));
    expect(svg).toMatch(/stroke-dasharray="6,4"/);
  });

  it("the highlighted window of a single layer has width one layer step", async () => {
    const one = lines({
      x: [0, 1, 2, 3, 4],
      series: [{ name: "s", y: [1, 2, 3, 2, 1] }],
      highlights: [{ from: 2, to: 2 }],
      width: 500,
    });
    const svg = await renderSvg(one);
    const rect = markItems(svg, "highlights")[0]!;
    const width = Number(/d="M[\d.-]+,[\d.-]+h([\d.]+)/.exec(rect)![1]);
    // Domain −0.5 … 4.5 over 500 px: one layer is 100 px.
    expect(width).toBeCloseTo(100, 3);
  });
});

describe("scatter", () => {
  const x = [0.95, 0.2, 0.92, 0.5, 0.75, 0.3, 0.98, 0.1];
  const y = [0.96, 0.25, 0.4, 0.9, 0.72, 0.35, 0.99, 0.15];
  const fig = scatter({
    x,
    y,
    labels: [null, "L2", null, null, null, "L6", null, "L8"],
    groups: ["kept", "rotated", "kept", "kept", "kept", "rotated", "kept", "rotated"],
    xTitle: "cos S→D→F",
    yTitle: "cos S→M→F",
    xLines: [0.7],
    yLines: [{ value: 0.7, label: "threshold 0.7" }],
  });

  it("draws every point, the threshold lines with labels, and the labelled points' texts", async () => {
    const svg = await renderSvg(fig);
    expect(markItems(svg, "points")).toHaveLength(8);
    expect(markItems(svg, "x_lines")).toHaveLength(1);
    expect(markItems(svg, "y_lines")).toHaveLength(1);
    expect(markItems(svg, "x_lines_labels").map(textContent)).toEqual(["0.7"]);
    expect(markItems(svg, "y_lines_labels").map(textContent)).toEqual(["threshold 0.7"]);
    expect(markItems(svg, "point_labels").map(textContent)).toEqual(["L2", "L6", "L8"]);
    expect(markItems(svg, "labelled_points")).toHaveLength(3);
    expect(roleTexts(svg, "axis-title").sort()).toEqual(["cos S→D→F", "cos S→M→F"]);
    expect(roleTexts(svg, "legend-label")).toEqual(["kept", "rotated"]);
  });

  it("places a crowd of labels so that no two overlap and none leaves the plot", () => {
    const requests = Array.from({ length: 12 }, (_, i) => ({ px: 60 + i * 0.5, py: 300, text: `latent ${1000 + i}` }));
    const placed = placeLabels(requests, 420, 380, 10);
    const boxes = placed.map((p, i) => ({
      x0: p.lx,
      x1: p.lx + measureTextWidth(requests[i]!.text, 10),
      y0: p.ly - 6,
      y1: p.ly + 6,
    }));
    let overlaps = 0;
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!,
          b = boxes[j]!;
        if (a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1) overlaps++;
      }
    expect(overlaps).toBe(0);
    for (const b of boxes) expect(b.x0 >= 0 && b.x1 <= 420 && b.y0 >= 0 && b.y1 <= 380).toBe(true);
    // Moved labels get a leader line back to their point.
    expect(placed.filter((p) => p.leader).length).toBeGreaterThan(0);
  });
});

describe("bars", () => {
  const fig = bars({
    categories: ["A vs B", "A vs C", "B vs C", "C vs D"],
    series: [
      { name: "layer 7", values: [95, 88, 61, -4], err: [3, 2, 4, 1] },
      { name: "layer 11", values: [92, 85, 47, 10] },
    ],
    xTitle: "pair",
    yTitle: "features",
    showValues: true,
    valueDecimals: 0,
  });

  it("draws categories × series bars, error bars where given and the written values", async () => {
    const svg = await renderSvg(fig);
    expect(markItems(svg, "bars")).toHaveLength(8);
    expect(markItems(svg, "error_bars")).toHaveLength(4);
    const written = [...markItems(svg, "bar_values"), ...markItems(svg, "bar_values_negative")].map(textContent).sort();
    expect(written).toEqual(["-4", "10", "47", "61", "85", "88", "92", "95"].sort());
    expect(roleTexts(svg, "axis-title").sort()).toEqual(["features", "pair"]);
    expect(roleTexts(svg, "axis-label")).toEqual(expect.arrayContaining(["A vs B", "C vs D"]));
    expect(roleTexts(svg, "legend-label")).toEqual(["layer 7", "layer 11"]);
  });
});

describe("histogram", () => {
  const values = [0, 0.1, 0.5, 1.2, 1.9, 2, 2.5, 3.99, 4];
  const fig = histogram({
    series: [{ name: "density", values }],
    binWidth: 1,
    xTitle: "log10 frequency",
    xLines: [{ value: 2, label: "cut" }],
  });

  it("draws one bar per bin with the counts from its edges", async () => {
    expect(fig.edges).toEqual([0, 1, 2, 3, 4]);
    expect(fig.bins.map((b) => b.count)).toEqual([3, 2, 2, 2]);
    const svg = await renderSvg(fig);
    expect(markItems(svg, "bins")).toHaveLength(4);
    expect(markItems(svg, "x_lines_labels").map(textContent)).toEqual(["cut"]);
    expect(roleTexts(svg, "axis-title").sort()).toEqual(["count", "log10 frequency"]);
  });

  it("overlays several series as faint fills with one step outline each", async () => {
    const two = histogram({
      series: [
        { name: "a", values: [1, 2, 3] },
        { name: "b", values: [2, 3, 4] },
      ],
      bins: 3,
    });
    const svg = await renderSvg(two);
    expect(markItems(svg, "bins")).toHaveLength(2 * (two.edges.length - 1));
    expect(markGroupCount(svg, "outlines")).toBe(2);
    expect(roleTexts(svg, "legend-label")).toEqual(["a", "b"]);
  });

  it("drops -Infinity (log10 of dead latents) with a count in the note", async () => {
    const svg = await renderSvg(
      histogram({
        series: [{ name: "sae", values: [-Infinity, -Infinity, -3, -2.5] }],
        nonFinite: "drop",
        note: "dead latents excluded",
      }),
    );
    const note = noteLines(svg).join(" ");
    expect(note).toContain("dead latents excluded");
    expect(note).toContain('Not shown: 2 non-finite values (NaN/±Infinity) — series "sae": 2.');
    expect(svgSize(svg).height).toBeGreaterThan(100);
  });
});

describe("determinism and compile hygiene", () => {
  it("renders the same bytes twice, also after rendering other figures in between", async () => {
    const [first] = exampleFigures();
    const a = await renderSvg(first!.figure);
    await renderSvg(exampleFigures()[2]!.figure);
    const b = await renderSvg(exampleFigures()[0]!.figure);
    expect(b).toBe(a);
    expect(a).not.toMatch(/NaN|undefined/);
  });

  it("every gallery figure compiles without vega-lite warnings", () => {
    for (const { name, figure } of exampleFigures())
      expect({ name, warnings: compileFigure(figure).warnings }).toEqual({ name, warnings: [] });
  });
});
