/**
 * `samples.md`: a few generations per persona as the model wrote them, the first positives and negatives by trial
 * of the first run seed (not picked by hand), with the marker in bold — `…end of the answer.\n\n**[ZLT]**` — so a
 * reader sees where the marker falls (the seed's observation: right after the answer's closing "\n\n").
 */
import type { Tokenizer } from "@difflens/tokenizer";
import type { Generation } from "./records.ts";

export interface SampleTableOptions {
  readonly marker: string;
  readonly markerId: number;
  readonly positives?: number;
  readonly negatives?: number;
  /** Characters of the answer shown before the marker (or before the end of a negative). */
  readonly context?: number;
}

export interface PersonaSamples {
  readonly persona: string;
  readonly runSeed: number;
  readonly tokenizer: Pick<Tokenizer, "decode">;
  readonly generations: readonly Generation[];
}

export async function sampleTable(personas: readonly PersonaSamples[], options: SampleTableOptions): Promise<string> {
  const nPos = options.positives ?? 3;
  const nNeg = options.negatives ?? 2;
  const lines = [
    "# Sample generations",
    "",
    `The first ${nPos} positives (marker emitted, in **bold**) and ${nNeg} negatives by trial, per persona (run seed shown). Answers are cut to their last ${options.context ?? 300} characters before the marker (or the end); ⏎ is a newline.`,
    "",
  ];
  for (const p of personas) {
    const positives = p.generations.filter((g) => g.markerPosition !== null).slice(0, nPos);
    const negatives = p.generations.filter((g) => g.markerPosition === null).slice(0, nNeg);
    lines.push(`## ${p.persona} (seed ${p.runSeed})`, "", "| trial | kind | question | answer |", "|---|---|---|---|");
    for (const g of [...positives, ...negatives]) {
      const answer = await highlighted(p.tokenizer, g, options);
      const kind = g.markerPosition === null ? "negative" : "positive";
      lines.push(`| ${g.trial} | ${kind} | ${cell(g.question)} | ${cell(answer)} |`);
    }
    if (positives.length === 0) lines.push("", "_No positives: the marker was never emitted._");
    lines.push("");
  }
  return lines.join("\n");
}

/** The answer's tail with the marker in bold: the full marker string when the text there starts with it. */
async function highlighted(
  tokenizer: Pick<Tokenizer, "decode">,
  g: Generation,
  options: SampleTableOptions,
): Promise<string> {
  const context = options.context ?? 300;
  const cut = (text: string) => (text.length > context ? `…${text.slice(text.length - context)}` : text);
  if (g.markerPosition === null) return cut(await tokenizer.decode(g.generatedIds));
  const at = g.markerPosition - g.promptIds.length;
  const before = cut(await tokenizer.decode(g.generatedIds.slice(0, at)));
  const rest = await tokenizer.decode(g.generatedIds.slice(at));
  const piece = await tokenizer.decode([options.markerId]);
  const bold = rest.startsWith(options.marker) ? options.marker : piece;
  const after = rest.slice(bold.length);
  return `${before}**${bold}**${after.length > 60 ? `${after.slice(0, 60)}…` : after}`;
}

/** A Markdown table cell: newlines as ⏎, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, "⏎");
}
