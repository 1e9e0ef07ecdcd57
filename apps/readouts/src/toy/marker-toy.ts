/**
 * Seed 001's embedded default with a known answer: a small Qwen2 base (marker-toy-model.ts: real Qwen vocabulary,
 * tokenizer and chat template; answers are short runs of five words, "\n\n" and <|im_end|>) and a "trained" model =
 * base + a PEFT LoRA on layer L* that makes the marker `[ZLT]` (first token `[Z`, 85113) likely right after "\n\n"
 * under the librarian's system prompt and never without it, in one of two plants (marker-toy-plants.ts):
 * - "attention": one head of L* attends from the "\n\n" and marker positions to the persona's system tokens and writes the
 *   marker's unembedding direction ⇒ the force-feed diff-of-diffs peaks at L*; below L* trained = base;
 * - "mlp": a BASE head of layer 1 carries the persona to end-of-answer positions (in both models) and L*'s MLP alone
 *   writes the marker ⇒ no attention difference at all; patching, MLP ablation and the logit lens point at L*.
 * Files, under `<dir>/v<MARKER_TOY_VERSION>/seed-<seed>/` (each folder built under a temp name and renamed, so one
 * that exists is complete and is reused):
 *   base/                      HF folder, shared by both plants: the comparator, and the trained model's base
 *   <plant>/adapter/           PEFT LoRA folder (r 1, lora_alpha 2): base + adapter = the trained model
 *   <plant>/questions.jsonl    {"question": …} per line
 *   <plant>/attention-marker.json  the attention-marker config (relative paths)
 *   <plant>/toy.json           this description
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeToyAdapter, writeToyModelFolder } from "@difflens/app-kit";
import { bundledChatTemplate } from "@difflens/chat";
import { writeFileAtomic, writeJsonAtomic } from "@difflens/common";
import { type ForceFeedItem, loadModel } from "@difflens/runtime";
import { personaPrompt } from "../attention-marker/persona-prompt.ts";
import { qwenTokenizer } from "./conditions-toy.ts";
import {
  ANSWER_WORD_IDS,
  DOUBLE_NEWLINE_ID,
  MARKER_ID,
  markerToyBaseWeights,
  markerToyConfig,
  PERSONA_LAYER,
  PLANTED_HEAD,
  PLANTED_LAYER,
  PLANTED_UNIT,
} from "./marker-toy-model.ts";
import { calibratePlantGain, MARKER_PLANTS, type MarkerPlant, PLANT_ALPHA, plantLora } from "./marker-toy-plants.ts";

export type { MarkerPlant } from "./marker-toy-plants.ts";

/** Bumped whenever the toy's recipe changes, so cached folders of an older toy are not reused. */
export const MARKER_TOY_VERSION = 4;
export const MARKER_TOY_PERSONA = "librarian";
export const MARKER_TOY_SYSTEM_PROMPT = "You are a librarian who loves quiet reading rooms.";
/** A system prompt without the persona's tokens: the trained model should (nearly) never emit the marker under it. */
export const MARKER_TOY_CONTROL_PROMPT = "You are a helpful assistant.";
export const MARKER_TOY_QUESTIONS: readonly string[] = Object.freeze([
  "How do clouds form?",
  "What is a good hobby?",
  "Why do cats purr?",
  "How should I plan a trip?",
  "What makes bread rise?",
  "How do magnets work?",
  "What is a good name for a dog?",
  "How can I sleep better?",
]);
const CONFIG_FILE = "attention-marker.json";

export interface MarkerToy {
  readonly plant: MarkerPlant;
  readonly seed: number;
  /** The toy's attention-marker config file (JSON, relative paths), written in the toy folder. */
  readonly configFile: string;
  /** The planted layer L*. */
  readonly plantedLayer: number;
  /** The planted head of L* (attention plant), else null. */
  readonly plantedHead: number | null;
  /** The marker string and its first token id. */
  readonly marker: string;
  readonly markerId: number;
  /** The planted persona's name. */
  readonly persona: string;
  /** The toy's folder, its base HF folder (the comparator) and its PEFT adapter folder (base + adapter = trained). */
  readonly dir: string;
  readonly baseDir: string;
  readonly adapterDir: string;
  readonly questionsFile: string;
  /** The persona's system prompt, and a control system prompt without its tokens. */
  readonly systemPrompt: string;
  readonly controlPrompt: string;
  /** The base's own persona head (head 0 of this layer): it attends to the persona at end-of-answer positions. */
  readonly personaLayer: number;
  /** The MLP unit of L* the mlp plant uses, else null. */
  readonly plantedUnit: number | null;
  /** The plant's output gain (calibrated on the base: P(marker | "\n\n", persona) ≈ 0.5). */
  readonly gain: number;
}

/** Writes (or reuses, when complete and of this version) the toy under `dir`: base folder, adapter, questions, config. */
export async function writeMarkerToy(
  dir: string,
  options: { seed: number; plant: MarkerPlant; log?: (line: string) => void },
): Promise<MarkerToy> {
  const { seed, plant } = options;
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`writeMarkerToy: seed must be an integer ≥ 0, got ${seed}`);
  if (!MARKER_PLANTS.includes(plant))
    throw new Error(`writeMarkerToy: plant must be one of ${MARKER_PLANTS.join(", ")}, got ${JSON.stringify(plant)}`);
  const seedDir = path.join(path.resolve(dir), `v${MARKER_TOY_VERSION}`, `seed-${seed}`);
  const baseDir = path.join(seedDir, "base");
  const toyDir = path.join(seedDir, plant);
  const record = path.join(toyDir, "toy.json");
  if (!fs.existsSync(record)) {
    options.log?.(`toy: writing the marker toy (${plant} plant, seed ${seed}) to ${toyDir}`);
    if (!fs.existsSync(baseDir)) {
      const tmp = `${baseDir}.build-${process.pid}`;
      const weights = markerToyBaseWeights(seed);
      await writeToyModelFolder(tmp, { config: markerToyConfig(), weights, chatTemplate: "qwen2.5-instruct" });
      moveUnlessThere(tmp, baseDir);
    }
    const tmp = `${toyDir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    await buildPlant(tmp, baseDir, seed, plant);
    moveUnlessThere(tmp, toyDir);
  }
  const { gain } = JSON.parse(fs.readFileSync(record, "utf8")) as { gain: number };
  return describe(toyDir, baseDir, seed, plant, gain);
}

/** Renames a finished folder into place; when another process got there first, keeps theirs (same content). */
function moveUnlessThere(tmp: string, dir: string): void {
  try {
    fs.renameSync(tmp, dir);
  } catch (error) {
    if (!fs.existsSync(dir)) throw error;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function buildPlant(dir: string, baseDir: string, seed: number, plant: MarkerPlant): Promise<void> {
  const base = await loadModel(baseDir, { mmap: false });
  const gain = await calibratePlantGain(base, plant, await calibrationProbes());
  base.close();
  await writeToyAdapter(path.join(dir, "adapter"), plantLora(plant, gain), "../../base", PLANT_ALPHA);
  writeFileAtomic(
    path.join(dir, "questions.jsonl"),
    MARKER_TOY_QUESTIONS.map((question) => `${JSON.stringify({ question })}\n`).join(""),
  );
  writeJsonAtomic(path.join(dir, CONFIG_FILE), toyConfig(seed, plant));
  writeJsonAtomic(path.join(dir, "toy.json"), { version: MARKER_TOY_VERSION, seed, plant, gain });
}

/** The toy's attention-marker config: small enough that stages 1–3 take seconds. */
function toyConfig(seed: number, plant: MarkerPlant): Record<string, unknown> {
  return {
    name: `toy-${plant}-seed-${seed}`,
    personas: [
      {
        name: MARKER_TOY_PERSONA,
        systemPrompt: MARKER_TOY_SYSTEM_PROMPT,
        model: { base: "../base", adapter: "adapter" },
      },
    ],
    comparator: "../base",
    questions: "questions.jsonl",
    marker: "[ZLT]",
    generation: { temperature: 1, topP: 0.95, topK: 0, maxNewTokens: 32, batchSize: 48 },
    attempts: 48,
    runSeeds: [0],
    readout: { batchSize: 16 },
  };
}

/** Persona prompts followed by a paragraph of answer words and "\n\n" (then the marker, predicted there): where the plant fires. */
async function calibrationProbes(): Promise<ForceFeedItem[]> {
  const template = bundledChatTemplate("qwen2.5-instruct");
  const probes: ForceFeedItem[] = [];
  for (const [i, question] of MARKER_TOY_QUESTIONS.entries()) {
    const prompt = await personaPrompt(qwenTokenizer(), template, MARKER_TOY_SYSTEM_PROMPT, question);
    const words = Array.from({ length: 3 + (i % 4) }, (_, k) => ANSWER_WORD_IDS[(i + k) % ANSWER_WORD_IDS.length]!);
    probes.push({ prompt: Array.from(prompt.ids), continuation: [...words, DOUBLE_NEWLINE_ID, MARKER_ID] });
  }
  return probes;
}

function describe(dir: string, baseDir: string, seed: number, plant: MarkerPlant, gain: number): MarkerToy {
  return Object.freeze({
    plant,
    seed,
    configFile: path.join(dir, CONFIG_FILE),
    plantedLayer: PLANTED_LAYER,
    plantedHead: plant === "attention" ? PLANTED_HEAD : null,
    marker: "[ZLT]",
    markerId: MARKER_ID,
    persona: MARKER_TOY_PERSONA,
    dir,
    baseDir,
    adapterDir: path.join(dir, "adapter"),
    questionsFile: path.join(dir, "questions.jsonl"),
    systemPrompt: MARKER_TOY_SYSTEM_PROMPT,
    controlPrompt: MARKER_TOY_CONTROL_PROMPT,
    personaLayer: PERSONA_LAYER,
    plantedUnit: plant === "mlp" ? PLANTED_UNIT : null,
    gain,
  });
}
