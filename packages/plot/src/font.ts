import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as fontkit from "fontkit";

/**
 * The one font every figure uses, bundled as TTF (npm `dejavu-fonts-ttf`) so SVG layout, PNG rasterisation and PDF
 * embedding see the same glyph metrics on every machine, whatever fonts the system has.
 */
export const FONT_FAMILY = "DejaVu Sans";

export interface BundledFonts {
  regular: string;
  bold: string;
}

let cachedPaths: BundledFonts | undefined;

/** Absolute paths of the bundled regular and bold TTF files. */
export function bundledFontFiles(): BundledFonts {
  if (cachedPaths) return cachedPaths;
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve("dejavu-fonts-ttf/package.json"));
  cachedPaths = {
    regular: join(root, "ttf", "DejaVuSans.ttf"),
    bold: join(root, "ttf", "DejaVuSans-Bold.ttf"),
  };
  return cachedPaths;
}

let regularFont: fontkit.Font | undefined;
let boldFont: fontkit.Font | undefined;
const widthCache = new Map<string, number>();

/** Width in px of `text` set in the bundled font at `fontSize` px, with kerning, as resvg and pdfkit will draw it. */
export function measureTextWidth(text: string, fontSize: number, bold = false): number {
  const key = `${bold ? "b" : "r"}${fontSize}|${text}`;
  const cached = widthCache.get(key);
  if (cached !== undefined) return cached;
  const paths = bundledFontFiles();
  if (bold && boldFont === undefined) boldFont = fontkit.openSync(paths.bold);
  if (!bold && regularFont === undefined) regularFont = fontkit.openSync(paths.regular);
  const font = (bold ? boldFont : regularFont)!;
  const width = (font.layout(text).advanceWidth / font.unitsPerEm) * fontSize;
  if (widthCache.size > 20_000) widthCache.clear();
  widthCache.set(key, width);
  return width;
}

/** Greedy word wrap of `text` into lines no wider than `maxWidth` px. */
export function wrapText(text: string, fontSize: number, maxWidth: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(/\s+/).filter((w) => w.length > 0)) {
      const candidate = line ? `${line} ${word}` : word;
      if (line && measureTextWidth(candidate, fontSize) > maxWidth) {
        lines.push(line);
        line = word;
      } else {
        line = candidate;
      }
    }
    lines.push(line);
  }
  return lines;
}
