/**
 * An attention-marker run's generations (`generations/<persona>/seed-<S>.jsonl`), decoded with the persona model's
 * tokenizer and split at the marker (t*, `markerPosition`) so the page can mark it — as samples.md does, the marker
 * segment is the marker string when the text there starts with it, else the marker token's own text.
 */
import * as path from "node:path";
import { loadTokenizer, type Tokenizer } from "@difflens/tokenizer";
import type { GenerationView, ReadoutsRunResponse } from "../api/readouts-types.ts";
import type { ErrorPanel } from "../api/run-types.ts";
import type { DiscoveredRun } from "./discovered-run.ts";
import { errorPanel, folderEntries, readRunJson, readRunJsonLines } from "./read-run-file.ts";
import { type Json, list, obj } from "./readouts-json.ts";

type Generations = NonNullable<ReadoutsRunResponse["generations"]>;
type Decode = (ids: readonly number[]) => Promise<string>;

/** Tokenizers by model folder; a dashboard serves few personas' models. */
const tokenizers = new Map<string, Tokenizer>();
const MAX_TOKENIZERS = 8;

/** One page of generations, in file order (persona, then seed), and the problems met reading them. */
export async function generationsPage(
  run: DiscoveredRun,
  offset: number,
  limit: number,
  markerId?: number | null,
): Promise<{ generations: Generations; errors: ErrorPanel[] }> {
  const errors: ErrorPanel[] = [];
  const records: { file: string; persona: string; line: Json }[] = [];
  for (const file of await generationFiles(run.dir)) {
    try {
      const persona = file.split("/")[1]!;
      for (const line of await readRunJsonLines<Json>(run, file)) records.push({ file, persona, line: obj(line) });
    } catch (error) {
      errors.push(errorPanel(error, file));
    }
  }
  const config = obj(run.runJson?.["config"]);
  const markerText = typeof config["marker"] === "string" ? config["marker"] : null;
  const markerToken = markerId === undefined ? await markerIdOf(run) : markerId;
  const items: GenerationView[] = [];
  const failedPersonas = new Set<string>();
  for (const { file, persona, line } of records.slice(offset, offset + limit)) {
    let decode: Decode;
    try {
      decode = decoderFor(run, config, persona);
    } catch (error) {
      if (!failedPersonas.has(persona)) errors.push(errorPanel(error, "run.json"));
      failedPersonas.add(persona);
      decode = async (ids) => `⟨token ids ${ids.join(" ")}⟩`;
    }
    try {
      items.push(await view(line, persona, decode, markerText, markerToken));
    } catch (error) {
      errors.push(errorPanel(error, file));
    }
  }
  return { generations: { items, offset, total: records.length }, errors };
}

/** `generations/<persona>/seed-<S>.jsonl`, personas by name, seeds by number. */
async function generationFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const persona of await folders(path.join(dir, "generations"))) {
    const seeds = (await folderEntries(path.join(dir, "generations", persona)))
      .filter((e) => e.isFile() && /^seed-.+\.jsonl$/.test(e.name))
      .map((e) => e.name)
      .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    files.push(...seeds.map((s) => `generations/${persona}/${s}`));
  }
  return files;
}

async function view(
  line: Json,
  persona: string,
  decode: Decode,
  markerText: string | null,
  markerId: number | null,
): Promise<GenerationView> {
  const promptIds = ids(line["promptIds"]);
  const generated = ids(line["generatedIds"]);
  const t = line["markerPosition"];
  const base = { persona, question: String(line["question"] ?? ""), seed: seedOf(line["runSeed"]) };
  if (typeof t !== "number")
    return { ...base, segments: [{ text: await decode(generated), marker: false }], hasMarker: false };
  const at = Math.max(0, Math.min(generated.length, t - promptIds.length));
  const before = await decode(generated.slice(0, at));
  const rest = await decode(generated.slice(at));
  const piece = markerId === null ? await decode(generated.slice(at, at + 1)) : await decode([markerId]);
  const marked = markerText !== null && rest.startsWith(markerText) ? markerText : piece;
  const after = rest.startsWith(marked) ? rest.slice(marked.length) : rest;
  const segments = [
    ...(before ? [{ text: before, marker: false }] : []),
    { text: marked, marker: true },
    ...(after ? [{ text: after, marker: false }] : []),
  ];
  return { ...base, segments, hasMarker: true };
}

/** The persona's tokenizer: its model (run.json config, paths relative to the run folder) or the comparator's. */
function decoderFor(run: DiscoveredRun, config: Json, persona: string): Decode {
  const p = list(config["personas"])
    .map(obj)
    .find((x) => x["name"] === persona);
  const model = p?.["model"] ?? config["comparator"];
  const ref = typeof model === "string" ? model : (obj(model)["base"] ?? obj(model)["path"]);
  if (typeof ref !== "string") {
    throw new Error(`run.json: config.personas "${persona}" names no model folder to read its tokenizer from`);
  }
  const folder = path.resolve(run.dir, ref);
  let tokenizer = tokenizers.get(folder);
  if (!tokenizer) {
    tokenizer = loadTokenizer(folder);
    if (tokenizers.size >= MAX_TOKENIZERS) tokenizers.delete(tokenizers.keys().next().value!);
    tokenizers.set(folder, tokenizer);
  }
  const t = tokenizer;
  return (values) => t.decode(values);
}

/** results.json's markerId (the marker's first token id), or null when it cannot be read. */
async function markerIdOf(run: DiscoveredRun): Promise<number | null> {
  try {
    const id = obj(await readRunJson(run, "results.json"))["markerId"];
    return typeof id === "number" ? id : null;
  } catch {
    return null;
  }
}

const ids = (value: unknown): number[] => list(value).filter((v): v is number => Number.isInteger(v));
const seedOf = (value: unknown): number | string => (typeof value === "number" ? value : String(value ?? "?"));

async function folders(dir: string): Promise<string[]> {
  return (await folderEntries(dir))
    .filter((e) => e.isDirectory() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort();
}
