import { mkdir } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { writeFileAtomic } from "@difflens/common";
import { PlotError } from "./errors.ts";
import { type Figure, resolveFigure } from "./figure.ts";
import { figureCsv, figureJson } from "./figure-data.ts";
import { svgToPdf } from "./render/pdf.ts";
import { svgToPng } from "./render/png.ts";
import { renderSvg } from "./render/svg.ts";

export type ImageFormat = "svg" | "png" | "pdf";

export interface SaveFigureOptions {
  /** Image formats to write; default all three. */
  formats?: ImageFormat[];
  /** Also write the figure's data as `base.json` and `base.csv`; default true. */
  data?: boolean;
  /** PNG scale (pixels per SVG px); default 2. */
  scale?: number;
}

/**
 * Writes `basePath.svg/.png/.pdf` (as asked) and the data as `basePath.json/.csv`, each through a temp file and a
 * rename so a reader never sees a half-written figure. All formats come from one SVG render. Returns the paths written.
 */
export async function saveFigure(
  figure: Figure | unknown,
  basePath: string,
  options: SaveFigureOptions = {},
): Promise<string[]> {
  const fig = resolveFigure(figure);
  const formats = options.formats ?? ["svg", "png", "pdf"];
  for (const format of formats) {
    if (!["svg", "png", "pdf"].includes(format)) {
      throw new PlotError("PLOT_INVALID_VALUE", "unknown image format", {
        field: "formats",
        expected: "svg | png | pdf",
        got: String(format),
      });
    }
  }
  if (basename(basePath) === "" || /\.(svg|png|pdf|json|csv)$/i.test(basePath)) {
    throw new PlotError("PLOT_INVALID_VALUE", "basePath is the path without extension", {
      field: "basePath",
      got: basePath,
      fix: `Pass "${basePath.replace(/\.(svg|png|pdf|json|csv)$/i, "")}"; extensions are added per format.`,
    });
  }
  const svg = await renderSvg(fig);
  const outputs: [string, string | Buffer][] = [];
  for (const format of formats) {
    if (format === "svg") outputs.push([`${basePath}.svg`, svg]);
    if (format === "png")
      outputs.push([`${basePath}.png`, svgToPng(svg, options.scale === undefined ? {} : { scale: options.scale })]);
    if (format === "pdf") outputs.push([`${basePath}.pdf`, await svgToPdf(svg)]);
  }
  if (options.data ?? true) {
    outputs.push([`${basePath}.json`, figureJson(fig)], [`${basePath}.csv`, figureCsv(fig)]);
  }
  await mkdir(dirname(basePath), { recursive: true });
  for (const [path, content] of outputs) writeOutput(path, content);
  return outputs.map(([path]) => path);
}

/** Writes one output atomically (temp file beside it, then rename); a failure names the file. */
function writeOutput(path: string, content: string | Buffer): void {
  try {
    writeFileAtomic(path, content, { mkdir: false });
  } catch (error) {
    throw new PlotError(
      "PLOT_WRITE_FAILED",
      `could not write ${path}: ${(error as Error).message}`,
      {
        field: "basePath",
        got: path,
      },
      { cause: error },
    );
  }
}
