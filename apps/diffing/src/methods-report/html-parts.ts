/** Small HTML builders of the methods page: escaping, numbers, tables, figures. Everything they get is escaped. */
import { readableToken } from "./byte-level.ts";
import type { WrittenFigure } from "./figures.ts";

export function esc(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** A number for a cell: `digits` decimals (exponent form when tiny or huge), "—" for null/NaN, integers as they are. */
export function fmt(v: unknown, digits = 3): string {
  if (typeof v === "number" && !Number.isFinite(v)) return "—";
  if (typeof v !== "number") return v === null || v === undefined ? "—" : esc(String(v));
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(digits);
}

/** A cosine: always `digits` decimals (float noise around 0 reads as 0.000). */
export function fmtCos(v: unknown, digits = 3): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "—";
}

/** A cell: text (escaped) or pre-built HTML (`{ html }`), with an optional class. */
export type Cell = string | number | null | { readonly html: string; readonly cls?: string };

export function table(head: readonly string[], rows: readonly (readonly Cell[])[], cls = ""): string {
  const cell = (c: Cell, tag: "td" | "th") => {
    if (c !== null && typeof c === "object") return `<${tag}${c.cls ? ` class="${c.cls}"` : ""}>${c.html}</${tag}>`;
    return `<${tag}${typeof c === "number" ? ' class="num"' : ""}>${typeof c === "number" ? fmt(c) : esc(c ?? "—")}</${tag}>`;
  };
  const body = rows.map((r) => `<tr>${r.map((c) => cell(c, "td")).join("")}</tr>`).join("\n");
  const thead = head.some((h) => h !== "") ? `<thead><tr>${head.map((h) => cell(h, "th")).join("")}</tr></thead>` : "";
  return `<table${cls ? ` class="${cls}"` : ""}>${thead}
<tbody>
${body}
</tbody></table>`;
}

/** A verdict cell: pass (green), fail (red) or informational (no colour). */
export function verdictCell(text: string, pass: boolean | null): Cell {
  const cls = pass === null ? "info" : pass ? "pass" : "fail";
  const mark = pass === null ? "" : pass ? " ✓" : " ✗";
  return { html: `${esc(text)}${mark}`, cls };
}

/** The figure inline (SVG markup from our own renderer) with links to its files. */
export function figureHtml(figures: readonly WrittenFigure[], name: string): string {
  const f = figures.find((x) => x.name === name);
  if (!f) return "";
  const links = [f.png, f.pdf, f.svg].map((p) => `<a href="${esc(p)}">${esc(p.split(".").pop()!)}</a>`).join(" · ");
  return `<figure>${f.markup}<figcaption>${links}</figcaption></figure>`;
}

export function notRun(title: string, hint = ""): string {
  return `<p class="notrun">${esc(title)}: not run${hint ? ` — ${esc(hint)}` : ""}.</p>`;
}

/** A token as the lens shows it: byte-level BPE decoded, JSON-quoted so spaces and newlines show; raw form in the title. */
export function tokenText(t: unknown): string {
  if (typeof t !== "object" || t === null) return "";
  const o = t as { id?: unknown; token?: unknown; logit?: unknown };
  const label = typeof o.token === "string" ? JSON.stringify(readableToken(o.token)) : `#${String(o.id)}`;
  const raw = typeof o.token === "string" ? `${JSON.stringify(o.token)}, ` : "";
  return `<span class="tok" title="${esc(`${raw}id ${String(o.id)}, logit ${fmt(o.logit)}`)}">${esc(label)}</span>`;
}

export const PAGE_STYLE = `
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1300px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2.2em;border-top:1px solid #ddd;padding-top:1em}
h3{font-size:1.05em;margin-top:1.4em}small,.muted{color:#777;font-weight:normal}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{background:#d9f2d9}.fail{background:#f8d4d4}td.info{background:#f7f7f7}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:2em}
figure{margin:.8em 0}figure svg{max-width:100%;height:auto}figcaption{font-size:12px;color:#666}
.notrun{color:#888;font-style:italic}.tok{font-family:ui-monospace,monospace;background:#f3f3f3;padding:0 3px;
border-radius:2px;margin-right:3px;white-space:pre}code,pre{font-family:ui-monospace,monospace;font-size:12px}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto}.scroll{overflow-x:auto}
`;
