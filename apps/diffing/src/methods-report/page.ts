/**
 * The methods page: one static HTML file (no scripts; figures inline as SVG with links to PNG/PDF) — the run's header
 * and timings, the toy's known answer, then each method and the cosines between all headline directions.
 */
import type { WrittenFigure } from "./figures.ts";
import { type Cell, esc, fmt, fmtCos, PAGE_STYLE, table, verdictCell } from "./html-parts.ts";
import {
  adlSection,
  cosinesSection,
  crosscodersSection,
  diffSaeSection,
  type SectionContext,
  stagewiseSection,
} from "./method-sections.ts";
import type { MethodsReport } from "./report-data.ts";
import { METHOD_KEYS } from "./run-folder.ts";

export function methodsPage(
  r: MethodsReport,
  figures: readonly WrittenFigure[],
  link: (fromRun: string) => string,
): string {
  const ctx: SectionContext = { figures, plants: r.knownAnswer?.plants ?? [], link };
  const title = "Model diffing methods side by side";
  const sections: [string, string, string][] = [
    ["stagewise", "Stage-wise SAEs", stagewiseSection(r, ctx)],
    ["crosscoders", "Crosscoders: BatchTopK and L1", crosscodersSection(r, ctx)],
    ["diff-sae", "diff-SAE (TopK SAE on chat − base)", diffSaeSection(r, ctx)],
    ["adl", "ADL: activation-difference lens", adlSection(r, ctx)],
    ["cosines", "Cosines between the methods' headline directions", cosinesSection(r, ctx)],
  ];
  const nav = [["header", "Run"], ...(r.knownAnswer ? [["known-answer", "Known answer"]] : []), ...sections]
    .map(([id, name]) => `<a href="#${id}">${esc(name!)}</a>`)
    .join(" · ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${PAGE_STYLE}</style></head><body>
<h1>${esc(title)}</h1>
<p>${esc(r.chat)} <span class="muted">vs</span> ${esc(r.base)} <span class="muted">at</span> ${esc(r.hook)}</p>
<nav>${nav}</nav>
<section id="header"><h2>Run</h2>${header(r)}</section>
${r.knownAnswer ? `<section id="known-answer"><h2>Known answer (toy: ${esc(r.knownAnswer.variant)})</h2>${knownAnswer(r)}</section>` : ""}
${sections.map(([id, name, body]) => `<section id="${id}"><h2>${esc(name)}</h2>\n${body}\n</section>`).join("\n")}
<p class="muted">Every number on this page is in report.json beside it.</p>
</body></html>
`;
}

function header(r: MethodsReport): string {
  const store = r.store
    ? `${fmt(r.store.rows)} paired rows in ${fmt(r.store.shards)} shard(s)${r.store.dataset ? ` — ${esc(r.store.dataset)}` : ""}`
    : "—";
  const facts = table(
    ["", ""],
    [
      ["base model", r.base],
      ["chat model", r.chat],
      ["hook", `${r.hook} (d_in ${r.dIn})`],
      ["paired store", { html: store }],
      ["run folder", r.runDir],
    ],
  );
  const timingRows = METHOD_KEYS.map((k): Cell[] => {
    const m = r.methods[k];
    return [m.title, m.folder ?? "not run", m.folder === null ? null : (r.timings[k] ?? null)];
  });
  const extra = Object.keys(r.timings).filter((k) => !(METHOD_KEYS as readonly string[]).includes(k));
  for (const k of extra) timingRows.unshift([k, "", r.timings[k]!]);
  return `${facts}<h3>Methods and timings</h3>${table(["method", "folder", "seconds"], timingRows)}`;
}

function knownAnswer(r: MethodsReport): string {
  const k = r.knownAnswer!;
  const rows = k.methods.map((m): Cell[] => [
    `${m.method} (${m.directions})`,
    ...m.plants.map((p) => {
      const text = p.bestAbsCos === null ? "—" : `${fmtCos(p.bestAbsCos)} ${p.direction ? `(${p.direction})` : ""}`;
      const expect = p.expect === null ? "" : p.expect === "found" ? ` [≥ ${k.foundMin}]` : ` [≤ ${k.absentMax}]`;
      return verdictCell(`${text}${expect}`, p.pass);
    }),
  ]);
  const crosscoders = (["batchtopk", "l1"] as const).flatMap((kind) => {
    const cc = r.crosscoders[kind];
    if (!cc?.plants) return [];
    return cc.plants.matches.map((m): Cell[] => [
      `${kind} (${cc.plants!.searched})`,
      m.plant,
      m.latent,
      { html: fmtCos(m.absCos), cls: "num" },
      m.relativeNorm,
      m.band,
      m.chatSpecific === null
        ? "not scored"
        : m.chatSpecific
          ? "chat-specific"
          : m.band === "chat-only"
            ? "artifact"
            : "in base too",
      verdictCell(m.expect ?? "—", m.pass),
    ]);
  });
  const ccTable = crosscoders.length
    ? `<h3>Each plant's closest crosscoder latent (chat decoder)</h3>
<p class="muted">Expected (BatchTopK): u, v chat-only (relative norm ≥ 0.9, |cos| ≥ ${k.foundMin}) and chat-specific;
f shared (relative norm 0.3–0.7); control: w chat-only, nothing above ${k.absentMax} to u. L1: shown, not checked.</p>
${table(["crosscoder", "plant", "latent", "|cos|", "rel. norm", "band", "Latent Scaling", "expected"], crosscoders)}`
    : "";
  const l1 = r.crosscoders.l1;
  // Issue 21 expects the L1 crosscoder to show at least one chat-only latent that Latent Scaling calls an artifact.
  const l1Line = l1
    ? `<p>L1 crosscoder: ${l1.chatOnly.total} chat-only latent(s), ${l1.chatOnly.artifacts} of them flagged as artifacts by
Latent Scaling (${l1.chatOnly.chatSpecific} chat-specific)${
        k.variant === "three-plant"
          ? ` — <span class="${l1.chatOnly.artifacts >= 1 ? "pass" : "fail"}">the issue expects at least one artifact</span>`
          : ""
      }.</p>`
    : "";
  return `<p>Planted unit directions: ${k.plants.map((p) => `<code>${esc(p)}</code>`).join(", ")}. Each cell: the best |cos|
of the method's headline directions (count in brackets) to the plant, and the direction achieving it; green/red where
issue 21 asserts found (≥ ${k.foundMin}) or absent (≤ ${k.absentMax}), grey where it asserts nothing.</p>
${table(["method (directions)", ...k.plants], rows)}
${ccTable}
${l1Line}`;
}
