import { describe, expect, it } from "vitest";
import { bars, heatmap, histogram, lines, PlotError, resolveFigure, scatter, topLabels } from "../src/index.ts";
import { binEdges, countIntoBins } from "../src/kinds/histogram.ts";

function errorOf(fn: () => unknown): PlotError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PlotError);
    return error as PlotError;
  }
  throw new Error("expected a PlotError");
}

describe("bad input gives clear errors", () => {
  const cases: { name: string; make: () => unknown; code: string; field?: string; message?: RegExp }[] = [
    {
      name: "unknown chart field suggests the nearest",
      make: () => resolveFigure({ kind: "scatter", x: [1], y: [1], xTitel: "x" }),
      code: "PLOT_UNKNOWN_FIELD",
      field: "scatter.xTitel",
      message: /Did you mean "xTitle"\?/,
    },
    {
      name: "unknown series field suggests the nearest",
      make: () => lines({ series: [{ name: "a", y: [1], error: [1] } as never] }),
      code: "PLOT_UNKNOWN_FIELD",
      field: "lines.series[0].error",
      message: /"err"/,
    },
    {
      name: "unknown kind suggests the nearest",
      make: () => resolveFigure({ kind: "heatmpa" }),
      code: "PLOT_UNKNOWN_KIND",
      message: /Did you mean "heatmap"/,
    },
    {
      name: "mismatched x/y lengths",
      make: () => scatter({ x: [1, 2, 3], y: [1, 2] }),
      code: "PLOT_LENGTH_MISMATCH",
      field: "scatter.y",
      message: /has 2 values but x has 3/,
    },
    {
      name: "mismatched series length against shared x",
      make: () => lines({ x: [0, 1, 2], series: [{ name: "a", y: [1, 2] }] }),
      code: "PLOT_LENGTH_MISMATCH",
      field: "lines.series[0].y",
    },
    {
      name: "heatmap row of wrong width",
      make: () => heatmap({ rowLabels: ["a", "b"], colLabels: ["x", "y"], values: [[1, 2], [3]] }),
      code: "PLOT_LENGTH_MISMATCH",
      field: "heatmap.values[1]",
    },
    {
      name: "bars values not one per category",
      make: () => bars({ categories: ["a", "b"], series: [{ name: "s", values: [1] }] }),
      code: "PLOT_LENGTH_MISMATCH",
      field: "bars.series[0].values",
    },
    { name: "empty scatter", make: () => scatter({ x: [], y: [] }), code: "PLOT_EMPTY_DATA", field: "scatter.x" },
    { name: "no series", make: () => lines({ series: [] }), code: "PLOT_EMPTY_DATA", field: "lines.series" },
    {
      name: "empty histogram sample",
      make: () => histogram({ series: [{ name: "a", values: [] }] }),
      code: "PLOT_EMPTY_DATA",
    },
    {
      name: "NaN under the default policy",
      make: () => lines({ series: [{ name: "a", y: [1, NaN, 3] }] }),
      code: "PLOT_NON_FINITE",
      field: "lines.series[0].y[1]",
      message: /nonFinite: "drop"/,
    },
    {
      name: "Infinity in an error band",
      make: () => lines({ series: [{ name: "a", y: [1, 2], err: [0.1, Infinity] }] }),
      code: "PLOT_NON_FINITE",
      field: "lines.series[0].err[1]",
    },
    {
      name: "everything dropped",
      make: () => scatter({ x: [NaN], y: [1], nonFinite: "drop" }),
      code: "PLOT_EMPTY_DATA",
    },
    {
      name: "values and panels together",
      make: () =>
        heatmap({ rowLabels: ["a"], colLabels: ["b"], values: [[1]], panels: [{ title: "p", values: [[1]] }] }),
      code: "PLOT_CONFLICTING_FIELDS",
    },
    {
      name: "misspelt enum suggests the nearest",
      make: () => lines({ series: [{ name: "a", y: [1] }], nonFinite: "dorp" as never }),
      code: "PLOT_INVALID_VALUE",
      message: /"drop"/,
    },
    {
      name: "duplicate series names",
      make: () =>
        bars({
          categories: ["a"],
          series: [
            { name: "s", values: [1] },
            { name: "s", values: [2] },
          ],
        }),
      code: "PLOT_INVALID_VALUE",
    },
    {
      name: "reversed domain",
      make: () => scatter({ x: [1], y: [1], xDomain: [1, 0] }),
      code: "PLOT_INVALID_VALUE",
      field: "scatter.xDomain",
    },
    {
      name: "negative error half-width",
      make: () => bars({ categories: ["a"], series: [{ name: "s", values: [1], err: [-1] }] }),
      code: "PLOT_INVALID_VALUE",
    },
    {
      name: "string where numbers belong",
      make: () => scatter({ x: [1, "2"] as never, y: [1, 2] }),
      code: "PLOT_INVALID_VALUE",
      field: "scatter.x[1]",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const error = errorOf(c.make);
      expect(error.code).toBe(c.code);
      if (c.field) expect(error.facts.field).toBe(c.field);
      if (c.message) expect(error.message).toMatch(c.message);
    });
  }
});

describe("resolution", () => {
  it("drops non-finite points by option and counts them per series", () => {
    const fig = lines({
      series: [
        { name: "a", y: [1, NaN, 3] },
        { name: "b", y: [Infinity, -Infinity, 2] },
      ],
      nonFinite: "drop",
    });
    expect(fig.points).toHaveLength(3);
    expect(fig.dropped).toEqual([
      { where: 'series "a"', reason: "non-finite", count: 1 },
      { where: 'series "b"', reason: "non-finite", count: 2 },
    ]);
  });

  it("reads JSON null as a missing value and typed arrays as numbers", () => {
    const fig = scatter({ x: new Float32Array([1, 2, 3]), y: [1, null, 3] as never, nonFinite: "drop" });
    expect(fig.points.map((p) => p.x)).toEqual([1, 3]);
  });

  it("freezes the figure and leaves the caller's spec untouched", () => {
    const spec = { x: [1, 2], y: [3, 4], xLines: [0.5] };
    const copy = structuredClone(spec);
    const fig = scatter(spec);
    expect(Object.isFrozen(fig)).toBe(true);
    expect(Object.isFrozen(fig.points)).toBe(true);
    expect(spec).toEqual(copy);
    expect(resolveFigure(fig)).toBe(fig);
  });

  it("resolveFigure accepts a plain JSON spec", () => {
    const fig = resolveFigure(
      JSON.parse('{"kind":"bars","categories":["a","b"],"series":[{"name":"s","values":[1,2]}]}'),
    );
    expect(fig.kind).toBe("bars");
  });
});

describe("histogram binning", () => {
  it("matches a direct count on nice edges, last bin closed", () => {
    const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i * 12.9898) * 3.7);
    const edges = binEdges([Math.min(...values), Math.max(...values)], undefined, 30, false);
    const counts = countIntoBins(values, edges);
    const expected = edges.slice(0, -1).map((lo, i) => {
      const hi = edges[i + 1]!;
      const last = i === edges.length - 2;
      return values.filter((v) => v >= lo && (last ? v <= hi : v < hi)).length;
    });
    expect(counts).toEqual(expected);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(edges[1]! - edges[0]!).toBeCloseTo(0.2, 12); // span 7.4 / 30 = 0.247 → nearest nice width 0.2
  });

  it("counts values outside a fixed extent in the note instead of binning them", () => {
    const fig = histogram({ series: [{ name: "s", values: [-1, 0, 0.5, 1, 2] }], extent: [0, 1], bins: 2 });
    expect(fig.edges).toEqual([0, 0.5, 1]);
    expect(fig.bins.map((b) => b.count)).toEqual([1, 2]);
    expect(fig.dropped).toEqual([{ where: 'series "s"', reason: "outside extent", count: 2 }]);
  });

  it("normalises to fractions and densities", () => {
    const fig = histogram({ series: [{ name: "s", values: [0, 0, 0, 1] }], binWidth: 0.5, normalize: "density" });
    expect(fig.bins.map((b) => b.height)).toEqual([1.5, 0.5]);
  });
});

describe("topLabels", () => {
  it("labels the k smallest scores, ties broken by position", () => {
    expect(topLabels([10, 11, 12, 13], [0.5, 0.1, 0.5, 0.9], 2)).toEqual(["10", "11", null, null]);
    expect(topLabels(["a", "b", "c"], [1, NaN, 3], 1, "largest")).toEqual([null, null, "c"]);
  });
});
