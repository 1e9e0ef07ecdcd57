import { Resvg } from "@resvg/resvg-js";
import { PlotError } from "../errors.ts";
import type { Figure } from "../figure.ts";
import { bundledFontFiles, FONT_FAMILY } from "../font.ts";
import { renderSvg } from "./svg.ts";

export interface PngOptions {
  /** Pixels per SVG px; default 2 (crisp on screens and in slides). The PNG is round(width × scale) wide. */
  scale?: number;
}

/** Rasterises an SVG string with resvg using only the bundled font, so the PNG is the same on every machine. */
export function svgToPng(svg: string, options: PngOptions = {}): Buffer {
  const scale = options.scale ?? 2;
  if (!(Number.isFinite(scale) && scale > 0 && scale <= 16)) {
    throw new PlotError("PLOT_INVALID_VALUE", "scale must be in (0, 16]", { field: "scale", got: String(scale) });
  }
  const fonts = bundledFontFiles();
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    font: {
      fontFiles: [fonts.regular, fonts.bold],
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    background: "white",
    shapeRendering: 2,
    textRendering: 1,
  });
  return resvg.render().asPng();
}

/** The figure as PNG bytes. */
export async function renderPng(figure: Figure | unknown, options: PngOptions = {}): Promise<Buffer> {
  return svgToPng(await renderSvg(figure), options);
}
