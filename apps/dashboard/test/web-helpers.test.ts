import { describe, expect, it } from "vitest";
import type { FigureData } from "../src/api/run-types.ts";
import { likelyChartWidth, wrapText } from "../web/src/charts/figure-common.ts";
import { figureSpec, SERIES_DASHES } from "../web/src/charts/figure-spec.ts";
import { heatmapScheme, heatmapSpec, heatmapTextIsLight } from "../web/src/charts/heatmap-spec.ts";
import { MAX_SCATTER_LABELS, paddedExtent, scatterSpec } from "../web/src/charts/scatter-spec.ts";
import { decimalsForRange, formatPercent, formatSignificant, visibleToken } from "../web/src/format.ts";
import { href, parseHash } from "../web/src/router.ts";
import { activationBackground, activationIntensity } from "../web/src/token-color.ts";

type LayeredSpec = { layer: { name?: string; mark: { type: string }; encoding: Record<string, { field?: string }> }[] };

describe("web router", () => {
  it("round-trips run ids with slashes and dots through the hash", () => {
    const run = "diffing/demo/seed-0-scale-0.75";
    expect(parseHash(href.run(run))).toEqual({ page: "run", run });
    expect(parseHash(href.feature(run, "DF", 31))).toEqual({ page: "feature", run, stage: "DF", latent: 31 });
    expect(parseHash(href.live("."))).toEqual({ page: "live", run: "." });
    expect(parseHash("")).toEqual({ page: "runs" });
    expect(parseHash("#/")).toEqual({ page: "runs" });
  });

  it("sends unknown stages, bad latents and broken escapes to not-found", () => {
    for (const hash of [
      "#/run/x/feature/Q/1",
      "#/run/x/feature/MF/-1",
      "#/run/x/feature/MF/1.5",
      "#/run/%E0%A4%A",
      "#/nope",
    ]) {
      expect(parseHash(hash).page).toBe("not-found");
    }
  });
});

describe("web token highlight", () => {
  it("scales intensity by the max and clamps", () => {
    expect(activationIntensity(0, 2)).toBe(0);
    expect(activationIntensity(-1, 2)).toBe(0);
    expect(activationIntensity(1, 2)).toBe(0.5);
    expect(activationIntensity(3, 2)).toBe(1);
    expect(activationIntensity(1, 0)).toBe(0);
    expect(activationBackground(0, 1)).toBe("rgb(255, 255, 255)");
    expect(activationBackground(1, 1)).toBe("rgb(245, 158, 11)");
  });

  it("keeps the dark token text at AA contrast on the strongest highlight", () => {
    const luminance = (rgb: number[]) => {
      const [r, g, b] = rgb.map((c) => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const strongest = activationBackground(1, 1).match(/\d+/g)!.map(Number);
    const text = [0x11, 0x11, 0x11];
    expect((luminance(strongest) + 0.05) / (luminance(text) + 0.05)).toBeGreaterThan(4.5);
  });

  it("makes whitespace tokens visible", () => {
    expect(visibleToken(" the\n")).toBe("·the↵");
    expect(visibleToken("")).toBe("∅");
    expect(formatPercent(0.0593)).toBe("5.93 %");
  });

  it("prints enough decimals to tell apart cosines that barely moved", () => {
    expect(decimalsForRange(0.3)).toBe(3);
    expect(decimalsForRange(0.00003)).toBe(7);
    expect(decimalsForRange(0)).toBe(3);
  });
});

describe("web chart specs", () => {
  it("picks the heatmap scheme from the values, with readable cell text", () => {
    expect(heatmapScheme([-0.5, 0, 0.6])).toBe("diverging");
    expect(heatmapScheme([0, 1, 1, 0])).toBe("blues");
    expect(heatmapScheme([0.2, 0.9])).toBe("viridis");
    expect(heatmapTextIsLight("viridis", 0)).toBe(true);
    expect(heatmapTextIsLight("viridis", 1)).toBe(false);
  });

  it("wraps titles to the chart's width on a phone", () => {
    expect(likelyChartWidth(390)).toBe(320);
    expect(likelyChartWidth(1400)).toBe(600);
    const fig: FigureData = {
      file: "f.json",
      kind: "histogram",
      title: "word ".repeat(30).trim(),
      subtitle: null,
      note: null,
      xTitle: null,
      yTitle: null,
      rows: [],
      png: null,
    };
    const narrow = figureSpec(fig, { viewportWidth: 390 }) as unknown as { title: { text: string[] } };
    expect(narrow.title.text.length).toBeGreaterThan(3);
  });

  it("wraps long subtitles at spaces", () => {
    const text = "a ".repeat(60).trim();
    const lines = wrapText(text, 20);
    expect(lines.every((line) => line.length <= 20)).toBe(true);
    expect(lines.join(" ")).toBe(text);
  });

  it("draws SEM bands as an area between lower and upper", () => {
    const fig: FigureData = {
      file: "figures/a.json",
      kind: "lines",
      title: "t",
      subtitle: null,
      note: null,
      xTitle: "layer",
      yTitle: "δ",
      rows: [{ series: "s", x: 0, y: 0.1, lower: 0.05, upper: 0.15 }],
      png: null,
    };
    const spec = figureSpec(fig) as unknown as LayeredSpec;
    const band = spec.layer.find((l) => l.mark.type === "area")!;
    expect(band.encoding.y?.field).toBe("lower");
    expect(band.encoding.y2?.field).toBe("upper");
  });

  it("tells coinciding line series apart by dash, and their legend shows the lines in full colour", () => {
    const rows = [0, 1].flatMap((x) => ["a", "b"].map((series) => ({ series, x, y: 0.1, lower: 0, upper: 0.2 })));
    const fig: FigureData = {
      file: "f.json",
      kind: "lines",
      title: "t",
      subtitle: null,
      note: null,
      xTitle: "layer",
      yTitle: "δ",
      rows,
      png: null,
    };
    type Channel = { field?: string; scale?: { range?: unknown }; legend?: Record<string, unknown> | null };
    const spec = figureSpec(fig) as unknown as {
      layer: { mark: { type: string }; encoding: Record<string, Channel> }[];
    };
    const line = spec.layer.find((l) => l.mark.type === "line")!;
    expect(line.encoding.strokeDash?.scale?.range).toEqual(SERIES_DASHES);
    expect(line.encoding.color?.legend).toMatchObject({ symbolType: "stroke", symbolOpacity: 1 });
    // One merged legend: vega-lite drops it if any layer's colour legend is null.
    const band = spec.layer.find((l) => l.mark.type === "area")!;
    expect(band.encoding.color?.legend).toEqual(line.encoding.color?.legend);
  });

  it("writes heatmap cells in significant figures, never -0.00 for a 1e-4 effect", () => {
    expect(formatSignificant(-1.8e-4)).toBe("-1.8e-4");
    expect(formatSignificant(0.1127)).toBe("0.11");
    expect(formatSignificant(1)).toBe("1");
    expect(formatSignificant(0)).toBe("0");
    expect(formatSignificant(0.0042)).toBe("0.0042");
    const fig: FigureData = {
      file: "f.json",
      kind: "heatmap",
      title: null,
      subtitle: null,
      note: null,
      xTitle: "head",
      yTitle: "layer",
      rows: [
        { row: "L0", col: "H0", value: -1.8e-4 },
        { row: "L0", col: "H1", value: 1.7e-5 },
      ],
      png: null,
    };
    const spec = heatmapSpec(fig, {}) as unknown as { data: { values: { label: string }[] }; width: number };
    expect(spec.data.values.map((v) => v.label)).toEqual(["-1.8e-4", "1.7e-5"]);
    expect(spec.width / 2).toBeGreaterThanOrEqual("-1.8e-4".length * 6);
  });

  it("fits the scatter to its points and labels only latents with contexts", () => {
    const [lo, hi] = paddedExtent([0.9, 1]);
    expect(lo).toBeCloseTo(0.894, 12);
    expect(hi).toBeCloseTo(1.006, 12);
    const points = Array.from({ length: 5 }, (_, i) => ({
      latent: i,
      x: 0.9,
      y: 0.95,
      rank: i + 1,
      hasContexts: i < 2,
    }));
    const base = {
      run: "r",
      space: "decoder" as const,
      dSae: 5,
      hook: "h",
      threshold: 0.7,
      xTitle: "x",
      yTitle: "y",
      errors: [],
    };
    const spec = scatterSpec({ ...base, points }) as unknown as LayeredSpec;
    expect(spec.layer.map((l) => l.name)).toEqual(["threshold_x", "threshold_y", "latent_points", "latent_labels"]);
    const fitted = scatterSpec({ ...base, points }, { showThreshold: true }) as unknown as {
      layer: { encoding: { x?: { scale?: { domain?: number[] } } } }[];
    };
    expect(fitted.layer[2]!.encoding.x!.scale!.domain![0]).toBeLessThan(0.7);
    const many = Array.from({ length: MAX_SCATTER_LABELS + 1 }, (_, i) => ({
      ...points[0]!,
      latent: i,
      hasContexts: true,
    }));
    const crowded = scatterSpec({ ...base, points: many }) as unknown as LayeredSpec;
    expect(crowded.layer.some((l) => l.name === "latent_labels")).toBe(false);
  });
});
