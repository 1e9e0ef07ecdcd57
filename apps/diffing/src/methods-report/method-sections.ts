/** The page's per-method sections, each drawn from report.json's numbers only. */
import type { CrosscoderReport } from "./crosscoder-section.ts";
import type { WrittenFigure } from "./figures.ts";
import { type Cell, esc, figureHtml, fmt, fmtCos, notRun, table, tokenText } from "./html-parts.ts";
import type { LatentTable, MethodsReport } from "./report-data.ts";

export interface SectionContext {
  readonly figures: readonly WrittenFigure[];
  /** Plant names (toy runs), for the |cos| columns. */
  readonly plants: readonly string[];
  /** A path relative to the run folder → a link relative to the page. */
  readonly link: (fromRun: string) => string;
}

/** Rows shown per latent table (report.json has them all). */
const SHOWN_LATENTS = 20;

function latentTableHtml(t: LatentTable, plants: readonly string[]): string {
  const head = [...t.columns, ...plants.map((p) => `|cos| ${p}`)];
  const rows = t.rows
    .slice(0, SHOWN_LATENTS)
    .map((r, i): Cell[] => [
      ...t.columns.map((c) => (r[c] ?? null) as Cell),
      ...plants.map((p) => plantCell(t.plantAbsCos[i]?.[p])),
    ]);
  const more =
    t.rows.length > SHOWN_LATENTS ? `<p class="muted">${t.rows.length - SHOWN_LATENTS} more in report.json</p>` : "";
  return `<div class="scroll">${table(head, rows)}</div>${more}`;
}

/** |cos| to a plant, shaded green from 0.9 on. */
function plantCell(v: number | undefined): Cell {
  if (v === undefined) return null;
  return { html: fmtCos(v), cls: v >= 0.9 ? "pass num" : "num" };
}

export function stagewiseSection(r: MethodsReport, { plants }: SectionContext): string {
  const s = r.stagewise;
  if (!s) return notRun("stage-wise SAEs");
  const { ranking, leadingChange, ...rest } = s.about as { ranking?: unknown; leadingChange?: { explained?: unknown } };
  const lines = [
    typeof ranking === "string"
      ? `Ranking: ${esc(ranking)}.`
      : "Top latents whose decoder moved most between the base SAE and its chat finetunes.",
    leadingChange
      ? `Leading direction of their decoder changes: explains ${fmt(100 * Number(leadingChange.explained), 1)}% of them.`
      : "",
  ].filter((l) => l !== "");
  const facts = Object.entries(rest).map(([k, v]) => `${esc(k)}: <code>${esc(JSON.stringify(v))}</code>`);
  return `<p>${lines.join(" ")}</p>${facts.length ? `<p class="muted">${facts.join("; ")}</p>` : ""}
${latentTableHtml(s, plants)}`;
}

export function crosscodersSection(r: MethodsReport, ctx: SectionContext): string {
  const one = (kind: "batchtopk" | "l1", title: string) => {
    const cc = r.crosscoders[kind];
    return `<div><h3>${esc(title)}</h3>${cc ? crosscoderHtml(cc, ctx) : notRun(title)}</div>`;
  };
  return `<div class="cols">${one("batchtopk", "BatchTopK crosscoder")}${one("l1", "L1 crosscoder")}</div>`;
}

function crosscoderHtml(cc: CrosscoderReport, { figures, plants, link }: SectionContext): string {
  const bands = table(
    ["band", "latents"],
    [...Object.entries(cc.bandCounts).map(([k, v]): Cell[] => [k, v]), ["dead (both decoders zero)", cc.deadLatents]],
  );
  const sc = cc.sharedDecoderCosine;
  const cos = sc
    ? `<p>Decoder cosine cos(d<sub>base</sub>, d<sub>chat</sub>) of the ${sc.latents} shared latents: mean ${fmt(sc.mean)},
median ${fmt(sc.median)}, 10th percentile ${fmt(sc.p10)}, ${fmt(100 * sc.fractionAbove09, 1)}% ≥ 0.9.</p>`
    : `<p class="notrun">Decoder cosines of shared latents need the checkpoint${cc.checkpoint ? ` (${esc(cc.checkpoint)} not found)` : " (the run kept none)"}.</p>`;
  const head = [
    "latent",
    "rel. norm",
    "band",
    "fired",
    "ν rec.",
    "ν err.",
    "Latent Scaling",
    ...plants.map((p) => `|cos| ${p}`),
  ];
  const rows = [...cc.latents]
    .sort((a, b) => Number(b.band === "chat-only") - Number(a.band === "chat-only") || b.relativeNorm - a.relativeNorm)
    .slice(0, SHOWN_LATENTS)
    .map((l): Cell[] => [
      l.latent,
      l.relativeNorm,
      l.band,
      l.count,
      l.nuReconstruction,
      l.nuError,
      l.verdict !== ""
        ? { html: esc(l.verdict), cls: l.verdict === "artifact" ? "fail" : "pass" }
        : Number.isNaN(l.nuError)
          ? "never fired"
          : l.chatSpecific
            ? "(chat-specific)"
            : "(in base too)",
      ...plants.map((p) => plantCell(l.plantAbsCos[p])),
    ]);
  const contexts = cc.contexts.page
    ? `<p><a href="${esc(link(cc.contexts.page))}">max-activating contexts in both models</a></p>`
    : `<p class="muted">${esc(cc.contexts.hint)}</p>`;
  return `<p class="muted">${esc(cc.folder)}; checkpoint ${esc(cc.checkpoint ?? "none")}; ${cc.dSae} latents</p>
${bands}
${figureHtml(figures, `relative-norms-${cc.kind}`)}
${cos}
<p>Chat-only latents: ${cc.chatOnly.total}; Latent Scaling calls ${cc.chatOnly.chatSpecific} chat-specific and
${cc.chatOnly.artifacts} artifacts (scored: the chat-only latents and the most chat-leaning others).</p>
${figureHtml(figures, `latent-scaling-${cc.kind}`)}
<h4>Top chat-only latents (then the other scored ones)</h4>
<div class="scroll">${rows.length > 0 ? table(head, rows) : "<p class='notrun'>no latents scored</p>"}</div>
${contexts}`;
}

export function diffSaeSection(r: MethodsReport, { plants }: SectionContext): string {
  const d = r.diffSae;
  if (!d) return notRun("diff-SAE");
  const bias = d.bias as { norm?: unknown; cosineToAdl?: unknown } | null;
  const biasLine = bias
    ? `<p>Decoder bias (the shift every row gets): norm ${fmt(bias.norm)}, cos to the ADL direction ${fmt(bias.cosineToAdl)}.</p>`
    : "";
  return `<p class="muted">SAE: ${esc(String(d.sae ?? "none"))}; ranked by ${esc(String(d.rankedBy ?? "mass"))}</p>
${biasLine}
${latentTableHtml(d, plants)}`;
}

export function adlSection(r: MethodsReport, { link }: SectionContext): string {
  const a = r.adl;
  if (!a) return notRun("ADL");
  const buckets = (a.buckets as Record<string, unknown>[]).map((b): Cell[] => [
    String(b.name),
    b.rows as number,
    b.norm as number,
    (b.cosineToLeading ?? null) as number | null,
    { html: (Array.isArray(b.lens) ? b.lens.slice(0, 8) : []).map(tokenText).join("") },
  ]);
  const leading = (a.leading ?? {}) as { explained?: unknown; lens?: unknown };
  const lens = Array.isArray(leading.lens) ? leading.lens.slice(0, 12).map(tokenText).join("") : "";
  const files = Array.isArray(a.steeringFiles) ? (a.steeringFiles as string[]) : [];
  const example = files[0]
    ? JSON.stringify({ kind: "add", directionFile: `${r.runDir}/${files[0]}`, hook: r.hook, alphas: [0.5, 1, 2] })
    : "";
  const steer = files.length
    ? `<p>Steering vectors (unnormalised mean differences; α = 1 adds the average chat shift):
${files.map((f) => `<a href="${esc(link(f))}"><code>${esc(f)}</code></a>`).join(", ")}. Use one in a
<code>readouts steer</code> config's interventions, then <code>pnpm --filter readouts steer --config steer.json</code>:</p>
<pre>${esc(example)}</pre>`
    : `<p class="notrun">no steering vectors (no bucket had rows)</p>`;
  return `<p>Leading direction of the bucket means: explains ${fmt(100 * Number(leading.explained), 1)}% of their energy;
logit lens (chat model): ${lens}</p>
${table(["bucket", "rows", "‖mean Δ‖", "cos to leading", "logit-lens top tokens"], buckets)}
${steer}`;
}

export function cosinesSection(r: MethodsReport, { figures }: SectionContext): string {
  const { labels, matrix } = r.cosines;
  if (labels.length === 0) return `<p class="notrun">no headline directions in this run</p>`;
  const rows = matrix.map((row, i): Cell[] => [
    labels[i]!,
    ...row.map(
      (v): Cell => ({ html: fmtCos(v, 2), cls: Math.abs(v) >= 0.9 && Number.isFinite(v) ? "pass num" : "num" }),
    ),
  ]);
  return `${figureHtml(figures, "direction-cosines")}
<div class="scroll">${table(["", ...labels], rows)}</div>`;
}
