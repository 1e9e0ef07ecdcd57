// Minimal typings for the untyped libraries this package calls, covering only the members it uses.

declare module "fontkit" {
  export interface GlyphRun {
    advanceWidth: number;
  }
  export interface Font {
    unitsPerEm: number;
    ascent: number;
    descent: number;
    layout(text: string): GlyphRun;
  }
  export function openSync(path: string): Font;
}

declare module "pdfkit" {
  interface PDFDocumentOptions {
    size?: [number, number];
    margin?: number;
    autoFirstPage?: boolean;
    compress?: boolean;
    info?: Record<string, string | Date>;
  }
  class PDFDocument {
    constructor(options?: PDFDocumentOptions);
    registerFont(name: string, src: string | Buffer): this;
    addPage(options?: PDFDocumentOptions): this;
    on(event: "data", listener: (chunk: Buffer) => void): this;
    on(event: "end", listener: () => void): this;
    on(event: "error", listener: (error: Error) => void): this;
    end(): void;
  }
  export default PDFDocument;
}

declare module "svg-to-pdfkit" {
  interface SvgToPdfOptions {
    width?: number;
    height?: number;
    assumePt?: boolean;
    fontCallback?: (family: string, bold: boolean, italic: boolean) => string;
    warningCallback?: (message: string) => void;
  }
  export default function SVGtoPDF(doc: unknown, svg: string, x: number, y: number, options?: SvgToPdfOptions): void;
}
