import PDFDocument from "pdfkit";
import SVGtoPDF from "svg-to-pdfkit";
import { PlotError } from "../errors.ts";
import type { Figure } from "../figure.ts";
import { bundledFontFiles } from "../font.ts";
import { renderSvg } from "./svg.ts";

const REGULAR = "DifflensSans";
const BOLD = "DifflensSans-Bold";
/** Fixed document dates keep two exports of one figure comparable; the figure, not the clock, is the content. */
const FIXED_DATE = new Date(Date.UTC(2000, 0, 1));

/**
 * Converts an SVG string into a one-page vector PDF whose page is the SVG's size (1 px = 1 pt), text set in the
 * embedded bundled font (subset by pdfkit) so it stays selectable and looks as in the PNG.
 */
export function svgToPdf(svg: string): Promise<Buffer> {
  const size = /^<svg[^>]*\swidth="([\d.]+)"\s+height="([\d.]+)"/.exec(svg);
  if (!size) throw new PlotError("PLOT_RENDER_FAILED", "SVG has no width/height; cannot size the PDF page");
  const width = Number(size[1]);
  const height = Number(size[2]);
  const fonts = bundledFontFiles();
  const doc = new PDFDocument({
    size: [width, height],
    margin: 0,
    info: { Producer: "difflens plot", Creator: "difflens plot", CreationDate: FIXED_DATE, ModDate: FIXED_DATE },
  });
  doc.registerFont(REGULAR, fonts.regular);
  doc.registerFont(BOLD, fonts.bold);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("data", (chunk) => chunks.push(chunk));
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  const warnings: string[] = [];
  SVGtoPDF(doc, solidDashesRemoved(svg), 0, 0, {
    width,
    height,
    assumePt: true,
    fontCallback: (_family, bold) => (bold ? BOLD : REGULAR),
    warningCallback: (message) => warnings.push(message),
  });
  doc.end();
  return done;
}

/**
 * Vega writes a solid line in a dashed legend as `stroke-dasharray="1,0"`; pdfkit rejects zero-length gaps, and a
 * pattern whose gaps are all zero is simply a solid line, so the attribute is dropped.
 */
function solidDashesRemoved(svg: string): string {
  return svg.replace(/ stroke-dasharray="([\d.,\s]+)"/g, (attribute, pattern: string) => {
    const lengths = pattern
      .split(/[\s,]+/)
      .filter((t) => t !== "")
      .map(Number);
    const gaps = lengths.filter((_, i) => i % 2 === 1);
    return gaps.length > 0 && gaps.every((g) => g === 0) ? "" : attribute;
  });
}

/** The figure as a vector PDF (one page). */
export async function renderPdf(figure: Figure | unknown): Promise<Buffer> {
  return svgToPdf(await renderSvg(figure));
}
