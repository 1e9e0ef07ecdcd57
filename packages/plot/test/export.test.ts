import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exampleFigures } from "../src/examples.ts";
import {
  bars,
  figureCsv,
  heatmap,
  PlotError,
  renderPdf,
  renderPng,
  renderSvg,
  saveFigure,
  scatter,
  svgToPdf,
  svgToPng,
} from "../src/index.ts";
import { countColorPixels, countInkPixels, decodePng, summarizePdf, svgSize } from "./inspect.ts";

const fig = bars({
  title: "Grouped bars",
  categories: ["alpha", "beta", "gamma"],
  series: [
    { name: "one", values: [3, 5, 2] },
    { name: "two", values: [4, 1, 6] },
  ],
  xTitle: "category",
  yTitle: "value",
});

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "difflens-plot-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("PNG", () => {
  it("has the SVG's size times the scale and is drawn in the series colours", async () => {
    const svg = await renderSvg(fig);
    const { width, height } = svgSize(svg);
    const png = decodePng(await renderPng(fig, { scale: 2 }));
    expect(png.width).toBe(Math.round(width * 2));
    expect(png.height).toBe(Math.round(height * 2));
    const ink = countInkPixels(png);
    expect(ink / (png.width * png.height)).toBeGreaterThan(0.05);
    // Both Okabe–Ito series colours are present as solid bar fills.
    expect(countColorPixels(png, "#0072B2")).toBeGreaterThan(2000);
    expect(countColorPixels(png, "#D55E00")).toBeGreaterThan(2000);
  });

  it("renders text with the bundled font (glyph pixels in the title area)", async () => {
    const png = decodePng(await renderPng(fig, { scale: 1 }));
    let dark = 0;
    for (let y = 0; y < 40; y++)
      for (let x = 0; x < png.width; x++) {
        const i = (y * png.width + x) * 4;
        if (png.pixels[i]! < 100 && png.pixels[i + 1]! < 100 && png.pixels[i + 2]! < 100) dark++;
      }
    expect(dark).toBeGreaterThan(100);
  });

  it("rejects a bad scale", async () => {
    await expect(renderPng(fig, { scale: 0 })).rejects.toBeInstanceOf(PlotError);
  });
});

describe("PDF", () => {
  it("is one page of the SVG's size with vector drawing, text and the embedded font", async () => {
    const svg = await renderSvg(fig);
    const { width, height } = svgSize(svg);
    const pdf = summarizePdf(await renderPdf(fig));
    expect(pdf.pages).toBe(1);
    expect(pdf.mediaBoxes[0]).toEqual([0, 0, width, height]);
    const content = pdf.streams.join("\n");
    expect(content).toMatch(/\bTJ\b|\bTj\b/); // text is text, not outlines
    expect((content.match(/\b(re|l|c)\n/g) ?? []).length).toBeGreaterThan(20); // paths
    expect(content).toMatch(/\b0 0\.44705\d* 0\.69803\d* scn/); // #0072B2 (0, 114, 178) / 255 as a fill colour
    expect(pdf.embeddedFonts).toBeGreaterThanOrEqual(1);
  });

  it("is byte-identical across renders (fixed document dates)", async () => {
    expect((await renderPdf(fig)).equals(await renderPdf(fig))).toBe(true);
  });
});

describe("saveFigure", () => {
  it("writes svg, png, pdf, json and csv with no temp files left", async () => {
    const base = join(dir, "nested", "bars");
    const written = await saveFigure(fig, base);
    expect(written.map((p) => p.slice(base.length))).toEqual([".svg", ".png", ".pdf", ".json", ".csv"]);
    expect(await readdir(join(dir, "nested"))).toEqual(["bars.csv", "bars.json", "bars.pdf", "bars.png", "bars.svg"]);
    const json = JSON.parse(await readFile(`${base}.json`, "utf8"));
    expect(json.kind).toBe("bars");
    expect(json.rows).toHaveLength(6);
    expect(json.rows[0]).toEqual({ category: "alpha", series: "one", value: 3, err: null });
    const csv = await readFile(`${base}.csv`, "utf8");
    expect(csv.split("\r\n")[0]).toBe("category,series,value,err");
    expect(csv.split("\r\n")).toHaveLength(8);
    expect(await readFile(`${base}.svg`, "utf8")).toBe(await renderSvg(fig));
  });

  it("writes only what is asked for", async () => {
    const base = join(dir, "only-svg");
    await saveFigure(heatmap({ rowLabels: ["a"], colLabels: ["b"], values: [[1]] }), base, {
      formats: ["svg"],
      data: false,
    });
    expect((await readdir(dir)).filter((f) => f.startsWith("only-svg"))).toEqual(["only-svg.svg"]);
  });

  it("refuses a base path with an extension", async () => {
    await expect(saveFigure(fig, join(dir, "x.png"))).rejects.toMatchObject({ code: "PLOT_INVALID_VALUE" });
  });

  it("quotes CSV fields that need it and writes dropped points nowhere", () => {
    const csv = figureCsv(scatter({ x: [1, NaN], y: [2, 3], labels: ['a "quoted", label', null], nonFinite: "drop" }));
    expect(csv).toBe('x,y,label,group\r\n1,2,"a ""quoted"", label",\r\n');
  });
});

describe("every chart kind exports to all formats", () => {
  for (const { name, figure } of exampleFigures()) {
    it(`${figure.kind}: PNG and PDF match the SVG's size and are not blank`, async () => {
      const svg = await renderSvg(figure);
      const { width, height } = svgSize(svg);
      const png = decodePng(svgToPng(svg, { scale: 1 }));
      expect([png.width, png.height]).toEqual([Math.round(width), Math.round(height)]);
      expect(countInkPixels(png) / (png.width * png.height)).toBeGreaterThan(0.04);
      const pdf = summarizePdf(await svgToPdf(svg));
      expect(pdf.pages).toBe(1);
      expect(pdf.mediaBoxes[0]).toEqual([0, 0, width, height]);
      expect(pdf.streams.join("").length).toBeGreaterThan(2000);
      expect(name.startsWith(figure.kind)).toBe(true);
    });
  }
});
