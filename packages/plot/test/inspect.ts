// Readers for what a figure says: SVG marks and texts, PNG header and pixels, PDF pages. Independent of the package.
import { inflateSync } from "node:zlib";

const ITEM_TAGS = /<(path|text|line|rect|circle)\b[^>]*?(?:\/>|>([\s\S]*?)<\/\1>)/g;

/** Items (elements) of every vega mark group named `${name}_marks`, in document order. */
export function markItems(svg: string, name: string): string[] {
  const items: string[] = [];
  const open = new RegExp(`<g class="mark-[a-z]+ role-mark ${name}_marks"[^>]*>`, "g");
  for (const match of svg.matchAll(open)) {
    const start = match.index! + match[0].length;
    const end = svg.indexOf("</g>", start);
    const body = svg.slice(start, end);
    for (const item of body.matchAll(ITEM_TAGS)) items.push(item[0]);
  }
  return items;
}

/** Number of vega mark groups named `${name}_marks` (one per line / area in a multi-series chart). */
export function markGroupCount(svg: string, name: string): number {
  return [...svg.matchAll(new RegExp(`<g class="mark-[a-z]+ role-mark ${name}_marks"`, "g"))].length;
}

export function textContent(item: string): string {
  const match = /<text\b[^>]*>([\s\S]*?)<\/text>/.exec(item);
  return match ? unescape(match[1]!) : "";
}

/** Texts inside groups with the given role class (e.g. "axis-title", "axis-label", "title-text", "legend-label"). */
export function roleTexts(svg: string, role: string): string[] {
  const out: string[] = [];
  const open = new RegExp(`<g class="mark-text role-${role}[^"]*"[^>]*>`, "g");
  for (const match of svg.matchAll(open)) {
    const start = match.index! + match[0].length;
    const body = svg.slice(start, svg.indexOf("</g>", start));
    for (const t of body.matchAll(/<text\b[^>]*>([\s\S]*?)<\/text>/g)) out.push(unescape(t[1]!));
  }
  return out;
}

/** Texts of the footnote lines appended under the chart. */
export function noteLines(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*class="figure-note"[^>]*>([\s\S]*?)<\/text>/g)].map((m) => unescape(m[1]!));
}

function unescape(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

export function svgSize(svg: string): { width: number; height: number } {
  const m = /^<svg[^>]*\swidth="([\d.]+)"\s+height="([\d.]+)"/.exec(svg);
  if (!m) throw new Error("no svg size");
  return { width: Number(m[1]), height: Number(m[2]) };
}

export interface DecodedPng {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel. */
  pixels: Uint8Array;
}

/** A minimal PNG decoder (8-bit RGB/RGBA, non-interlaced), enough to count pixels. */
export function decodePng(png: Buffer): DecodedPng {
  if (png.readUInt32BE(0) !== 0x89504e47 || png.readUInt32BE(4) !== 0x0d0a1a0a) throw new Error("not a PNG");
  let offset = 8;
  let width = 0,
    height = 0,
    bitDepth = 0,
    colorType = 0,
    interlace = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("latin1", offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      bitDepth = data[8]!;
      colorType = data[9]!;
      interlace = data[12]!;
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    offset += 12 + length;
  }
  if (bitDepth !== 8 || (colorType !== 6 && colorType !== 2) || interlace !== 0) {
    throw new Error(`unsupported PNG: depth ${bitDepth}, colour type ${colorType}, interlace ${interlace}`);
  }
  const channels = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  let previous = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const current = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? current[i - channels]! : 0;
      const b = previous[i]!;
      const c = i >= channels ? previous[i - channels]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a),
          pb = Math.abs(p - b),
          pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      current[i] = (line[i]! + predictor) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < 3; k++) out[(y * width + x) * 4 + k] = current[x * channels + k]!;
      out[(y * width + x) * 4 + 3] = channels === 4 ? current[x * channels + 3]! : 255;
    }
    previous = current;
  }
  return { width, height, pixels: out };
}

/** Pixels that are not opaque white. */
export function countInkPixels(png: DecodedPng): number {
  let count = 0;
  for (let i = 0; i < png.pixels.length; i += 4) {
    const [r, g, b, a] = [png.pixels[i]!, png.pixels[i + 1]!, png.pixels[i + 2]!, png.pixels[i + 3]!];
    if (a > 0 && (r < 250 || g < 250 || b < 250)) count++;
  }
  return count;
}

/** Pixels close to an RGB colour (within `tolerance` per channel). */
export function countColorPixels(png: DecodedPng, hex: string, tolerance = 6): number {
  const target = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let count = 0;
  for (let i = 0; i < png.pixels.length; i += 4) {
    if (target.every((t, k) => Math.abs(png.pixels[i + k]! - t) <= tolerance)) count++;
  }
  return count;
}

export interface PdfSummary {
  pages: number;
  mediaBoxes: number[][];
  /** Decompressed content streams. */
  streams: string[];
  embeddedFonts: number;
}

/** Enough of a PDF parser to count pages, read page sizes and look inside the (Flate) content streams. */
export function summarizePdf(pdf: Buffer): PdfSummary {
  const text = pdf.toString("latin1");
  if (!text.startsWith("%PDF-")) throw new Error("not a PDF");
  const pages = [...text.matchAll(/\/Type\s*\/Page(?![s\w])/g)].length;
  const mediaBoxes = [...text.matchAll(/\/MediaBox\s*\[\s*([\d.\s-]+)\]/g)].map((m) =>
    m[1]!.trim().split(/\s+/).map(Number),
  );
  const streams: string[] = [];
  for (const m of text.matchAll(/<<([^]*?)>>\s*stream\r?\n/g)) {
    const start = m.index! + m[0].length;
    const end = text.indexOf("endstream", start);
    const body = pdf.subarray(start, end);
    if (/\/FlateDecode/.test(m[1]!)) {
      try {
        streams.push(inflateSync(body).toString("latin1"));
      } catch {
        /* binary font data with trailing bytes */
      }
    } else streams.push(body.toString("latin1"));
  }
  return { pages, mediaBoxes, streams, embeddedFonts: [...text.matchAll(/\/FontFile2/g)].length };
}
