/** One static HTML page: the two-stage scatter on top, then each latent's max-activating contexts, base vs chat. */
import type { LatentExamples } from "./max-activating.ts";

export interface FeaturePageLatent {
  readonly latent: number;
  readonly rank: number;
  readonly cosines: Readonly<Record<string, number>>;
  readonly base: LatentExamples;
  readonly chat: LatentExamples;
}

export function featurePage(o: { title: string; subtitle: string; scatterSvg: string; baseLabel: string; chatLabel: string; latents: readonly FeaturePageLatent[] }): string {
  const sections = o.latents.map((l) => `
<section id="latent-${l.latent}">
  <h2>Latent ${l.latent} <small>rank ${l.rank}</small></h2>
  <p class="cos">${Object.entries(l.cosines).map(([k, v]) => `${esc(k)} = ${Number.isFinite(v) ? v.toFixed(3) : "NaN"}`).join(" · ")}</p>
  <div class="cols">
    ${column(o.baseLabel, l.base)}
    ${column(o.chatLabel, l.chat)}
  </div>
</section>`).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(o.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em;border-top:1px solid #ddd;padding-top:1em}small{color:#777;font-weight:normal}
.cos{color:#555;font-size:.9em}.cols{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}
.ex{font-family:ui-monospace,monospace;font-size:12px;line-height:1.9;margin:.3em 0;padding:.2em .4em;background:#fafafa;border-radius:3px;white-space:pre-wrap;word-break:break-all}
.tok{border-radius:2px}.max{outline:1px solid #b00}.meta{color:#888;font-size:11px}
.scatter svg{max-width:100%;height:auto}
</style></head><body>
<h1>${esc(o.title)}</h1><p>${esc(o.subtitle)}</p>
<div class="scatter">${o.scatterSvg}</div>
${sections}
</body></html>
`;
}

function column(label: string, ex: LatentExamples): string {
  const lines = ex.examples.map((e) => {
    const max = Math.max(e.maxValue, 1e-9);
    const toks = e.tokens.map((t, i) => {
      const a = Math.max(0, Math.min(1, e.values[i]! / max));
      const title = `${JSON.stringify(t)} ${e.values[i]!.toFixed(3)}`;
      return `<span class="tok${i === e.maxPosition ? " max" : ""}" style="background:rgba(255,120,0,${a.toFixed(3)})" title="${esc(title)}">${esc(visible(t))}</span>`;
    }).join("");
    return `<div class="ex">${toks} <span class="meta">max ${e.maxValue.toFixed(3)} (window ${e.window})</span></div>`;
  }).join("\n");
  return `<div><h3>${esc(label)} <small>max ${ex.maxValue.toFixed(3)}, density ${(ex.density * 100).toFixed(2)}%</small></h3>${lines || "<p><i>never active on the scanned windows</i></p>"}</div>`;
}

/** Newlines and tabs shown as symbols so a context stays on its line. */
function visible(t: string): string {
  return t.replace(/\n/g, "↵").replace(/\t/g, "⇥");
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
