import * as vega from "vega";
import * as vl from "vega-lite";
import { PlotError } from "../errors.ts";
import { type Figure, resolveFigure } from "../figure.ts";
import { noteText } from "../figure-common.ts";
import { FONT_FAMILY, measureTextWidth, wrapText } from "../font.ts";
import { FONT_SIZES, MUTED_COLOR } from "../theme.ts";
import { toVegaLite } from "../to-vega-lite.ts";

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
}
interface VegaTextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

/**
 * Lay text out with the bundled font's real advance widths instead of vega's headless estimate
 * (0.8 × fontSize per character), so axis offsets, legends and label truncation match what resvg and pdfkit draw.
 * Vega keeps this hook in a module-level object; it is set on each render (idempotent), never at import.
 */
function useBundledFontMetrics(): void {
  const metrics = (vega as unknown as { textMetrics: VegaTextMetrics }).textMetrics;
  metrics.width = (item, text) => {
    const size = item.fontSize ?? 11;
    const value = text == null ? "" : String(text).trim();
    if (size <= 0 || value === "") return 0;
    const weight = item.fontWeight;
    const bold = weight === "bold" || (typeof weight === "number" && weight >= 600);
    const width = measureTextWidth(value, size, bold);
    return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
  };
}

/** The compiled vega specification of a figure, with any warnings vega-lite raised while compiling it. */
export function compileFigure(figure: Figure | unknown): { fig: Figure; spec: vega.Spec; warnings: string[] } {
  const fig = resolveFigure(figure);
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    warn: (...args: unknown[]) => {
      warnings.push(args.map(String).join(" "));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
    error: (...args: unknown[]) => {
      throw new Error(args.map(String).join(" "));
    },
  };
  try {
    return { fig, spec: vl.compile(toVegaLite(fig), { logger: logger as never }).spec, warnings };
  } catch (error) {
    throw new PlotError(
      "PLOT_RENDER_FAILED",
      `vega-lite could not compile the ${fig.kind} figure: ${(error as Error).message}`,
    );
  }
}

/**
 * The figure as a standalone SVG document. Same figure ⇒ same bytes: vega's clip/gradient id counters are reset
 * before each render and nothing time- or machine-dependent enters the output.
 */
export async function renderSvg(figure: Figure | unknown): Promise<string> {
  const { fig, spec } = compileFigure(figure);
  useBundledFontMetrics();
  vega.resetSVGDefIds();
  let svg: string;
  try {
    const view = new vega.View(vega.parse(spec), { renderer: "none", logLevel: vega.Error });
    svg = await view.toSVG();
    view.finalize();
  } catch (error) {
    throw new PlotError(
      "PLOT_RENDER_FAILED",
      `vega could not render the ${fig.kind} figure: ${(error as Error).message}`,
    );
  }
  const note = noteText(fig);
  return note ? appendNote(svg, note) : svg;
}

const NOTE_MARGIN = 12;

/** Adds the footnote under the chart, word-wrapped to the SVG's width, growing the canvas to fit. */
function appendNote(svg: string, note: string): string {
  const header = /^<svg[^>]*\swidth="([\d.]+)"\s+height="([\d.]+)"\s+viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(svg);
  if (!header)
    throw new PlotError("PLOT_RENDER_FAILED", "unexpected SVG header from vega; cannot place the figure's note");
  const width = Number(header[1]);
  const height = Number(header[2]);
  const lineHeight = Math.round(FONT_SIZES.note * 1.35);
  const maxWidth = Math.max(120, width - 2 * NOTE_MARGIN);
  const lines = wrapText(note, FONT_SIZES.note, maxWidth);
  const longest = Math.max(...lines.map((line) => measureTextWidth(line, FONT_SIZES.note)));
  const newWidth = Math.max(width, Math.ceil(longest + 2 * NOTE_MARGIN));
  const newHeight = height + lines.length * lineHeight + 6;
  const texts = lines
    .map(
      (line, i) =>
        `<text x="${NOTE_MARGIN}" y="${height + (i + 1) * lineHeight - 2}" font-family="${FONT_FAMILY}" ` +
        `font-size="${FONT_SIZES.note}" fill="${MUTED_COLOR}" class="figure-note">${escapeXml(line)}</text>`,
    )
    .join("");
  return svg
    .replace(
      header[0],
      header[0]
        .replace(`width="${header[1]}"`, `width="${newWidth}"`)
        .replace(`height="${header[2]}"`, `height="${newHeight}"`)
        .replace(`viewBox="0 0 ${header[3]} ${header[4]}"`, `viewBox="0 0 ${newWidth} ${newHeight}"`),
    )
    .replace(
      `<rect width="${header[1]}" height="${header[2]}" fill="white"/>`,
      `<rect width="${newWidth}" height="${newHeight}" fill="white"/>`,
    )
    .replace(/<\/svg>\s*$/, `${texts}</svg>`);
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
