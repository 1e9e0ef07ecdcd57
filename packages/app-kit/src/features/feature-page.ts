/**
 * One static HTML page of SAE features: an optional figure on top (e.g. a scatter as SVG), then per latent its
 * numbers and one column of max-activating contexts per side (e.g. the base model and the chat model), each token
 * shaded by the latent's activation, the maximum outlined.
 */
import type { LatentExamples } from "./max-activating.ts";

export interface FeaturePageLatent {
  readonly latent: number;
  /** Shown small beside the latent's heading, e.g. "rank 3". */
  readonly note?: string;
  /** Named numbers under the heading, e.g. cosines (NaN shown as "NaN"). */
  readonly stats?: Readonly<Record<string, number>>;
  /** One entry per column of the page, in the order of `columns`. */
  readonly examples: readonly LatentExamples[];
}

export interface FeaturePageOptions {
  readonly title: string;
  readonly subtitle: string;
  /** SVG markup shown above the latents ("" for none). */
  readonly figureSvg?: string;
  /** Column headings, e.g. ["D on the base model", "MF on the chat model"]. */
  readonly columns: readonly string[];
  readonly latents: readonly FeaturePageLatent[];
}

export function featurePage(o: FeaturePageOptions): string {
  const sections = o.latents
    .map((l) => {
      const note = l.note ? ` <small>${esc(l.note)}</small>` : "";
      const stats = Object.entries(l.stats ?? {}).map(([k, v]) => `${esc(k)} = ${fixed3(v)}`);
      return `
<section id="latent-${l.latent}">
  <h2>Latent ${l.latent}${note}</h2>
  <p class="cos">${stats.join(" · ")}</p>
  <div class="cols">
    ${o.columns.map((label, i) => column(label, l.examples[i])).join("\n    ")}
  </div>
</section>`;
    })
    .join("\n");
  const columns = Math.max(1, o.columns.length);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(o.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em;border-top:1px solid #ddd;padding-top:1em}
small{color:#777;font-weight:normal}
.cos{color:#555;font-size:.9em}.cols{display:grid;grid-template-columns:repeat(${columns},1fr);gap:1.5em}
.ex{font-family:ui-monospace,monospace;font-size:12px;line-height:1.9;margin:.3em 0;padding:.2em .4em;
background:#fafafa;border-radius:3px;white-space:pre-wrap;word-break:break-all}
.tok{border-radius:2px}.max{outline:1px solid #b00}.meta{color:#888;font-size:11px}
.scatter svg{max-width:100%;height:auto}
</style></head><body>
<h1>${esc(o.title)}</h1><p>${esc(o.subtitle)}</p>
<div class="scatter">${o.figureSvg ?? ""}</div>
${sections}
</body></html>
`;
}

function column(label: string, ex: LatentExamples | undefined): string {
  if (ex === undefined) return `<div><h3>${esc(label)}</h3><p><i>not computed</i></p></div>`;
  const lines = ex.examples
    .map((e) => {
      const max = Math.max(e.maxValue, 1e-9);
      const toks = e.tokens
        .map((t, i) => {
          const alpha = Math.max(0, Math.min(1, e.values[i]! / max));
          const title = `${JSON.stringify(t)} ${e.values[i]!.toFixed(3)}`;
          const cls = `tok${i === e.maxPosition ? " max" : ""}`;
          const style = `background:rgba(255,120,0,${alpha.toFixed(3)})`;
          return `<span class="${cls}" style="${style}" title="${esc(title)}">${esc(visible(t))}</span>`;
        })
        .join("");
      return `<div class="ex">${toks} <span class="meta">max ${e.maxValue.toFixed(3)} (window ${e.window})</span></div>`;
    })
    .join("\n");
  const summary = `max ${ex.maxValue.toFixed(3)}, density ${(ex.density * 100).toFixed(2)}%`;
  const body = lines || "<p><i>never active on the scanned windows</i></p>";
  return `<div><h3>${esc(label)} <small>${summary}</small></h3>${body}</div>`;
}

function fixed3(v: number): string {
  return Number.isFinite(v) ? v.toFixed(3) : "NaN";
}

/** Newlines and tabs shown as symbols so a context stays on its line. */
function visible(t: string): string {
  return t.replace(/\n/g, "↵").replace(/\t/g, "⇥");
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
