/**
 * Deterministic English-like text for fixtures: several genres (prose, encyclopedia, dialogue, code, lists,
 * numbers) so that a byte-level BPE sees a realistic spread of tokens. Words come from small lexicons; a
 * mulberry32 stream (seeded, documented below) picks them, so the same seed gives the same bytes everywhere.
 */

/** mulberry32: 32-bit state, one multiply-xorshift round per output. Good enough for fixture text. */
export class FixtureRng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

const NOUNS = [
  "river",
  "city",
  "model",
  "theory",
  "engine",
  "market",
  "library",
  "garden",
  "signal",
  "protein",
  "network",
  "village",
  "council",
  "mountain",
  "language",
  "database",
  "experiment",
  "painter",
  "harbor",
  "forest",
  "planet",
  "compiler",
  "student",
  "museum",
  "factory",
  "bridge",
  "neuron",
  "court",
  "recipe",
  "telescope",
  "farmer",
  "satellite",
  "algorithm",
  "province",
  "orchestra",
  "vaccine",
  "glacier",
  "manuscript",
  "battery",
  "island",
  "teacher",
  "kernel",
];
const ADJECTIVES = [
  "ancient",
  "quiet",
  "rapid",
  "complex",
  "northern",
  "hidden",
  "digital",
  "fragile",
  "early",
  "modern",
  "remote",
  "careful",
  "bright",
  "narrow",
  "local",
  "formal",
  "sparse",
  "dense",
  "curious",
  "stable",
  "small",
  "large",
];
const VERBS = [
  "describes",
  "measures",
  "connects",
  "replaced",
  "supports",
  "contains",
  "predicts",
  "built",
  "studied",
  "changes",
  "follows",
  "produces",
  "reduces",
  "explains",
  "crossed",
  "observed",
  "improves",
  "requires",
  "shaped",
  "recorded",
];
const NAMES = ["Ada", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Jia", "Kofi", "Lena"];
const PLACES = ["Lisbon", "Osaka", "Nairobi", "Quito", "Tromsø", "Kraków", "Hanoi", "Valparaíso", "Reykjavík"];
const CONNECTIVES = ["However,", "In 1887,", "Later,", "As a result,", "According to the survey,", "Meanwhile,"];

function sentence(rng: FixtureRng): string {
  const subject = `The ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`;
  const object = `${rng.int(3) === 0 ? "a" : "the"} ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`;
  const lead = rng.int(4) === 0 ? `${rng.pick(CONNECTIVES)} ` : "";
  const tail = rng.int(3) === 0 ? ` near ${rng.pick(PLACES)}` : rng.int(2) === 0 ? ` in ${1700 + rng.int(320)}` : "";
  const s = `${lead}${subject} ${rng.pick(VERBS)} ${object}${tail}.`;
  return lead ? s.replace(`${lead}The`, `${lead}the`) : s;
}

function prose(rng: FixtureRng): string {
  const n = 3 + rng.int(8);
  return Array.from({ length: n }, () => sentence(rng)).join(" ");
}

function encyclopedia(rng: FixtureRng): string {
  const place = rng.pick(PLACES);
  const header = `${place} (population ${(10_000 + rng.int(990_000)).toLocaleString("en-US")}) is a ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}.`;
  const sections = ["History", "Geography", "Economy"].slice(0, 1 + rng.int(3));
  return [header, ...sections.map((title) => `\n\n== ${title} ==\n${prose(rng)}`)].join("");
}

function dialogue(rng: FixtureRng): string {
  const turns = 2 + rng.int(4);
  return Array.from({ length: turns }, () => `${rng.pick(NAMES)}: "${sentence(rng)}"`).join("\n");
}

function code(rng: FixtureRng): string {
  const fn = `${rng.pick(ADJECTIVES)}_${rng.pick(NOUNS)}`;
  const arg = rng.pick(NOUNS);
  return [
    `def ${fn}(${arg}, limit=${1 + rng.int(64)}):`,
    `    """Return the ${rng.pick(ADJECTIVES)} part of ${arg}."""`,
    `    total = 0`,
    `    for i in range(limit):`,
    `        total += ${arg}[i] * ${rng.int(9) + 1}`,
    `    return total // ${rng.int(7) + 2}`,
  ].join("\n");
}

function list(rng: FixtureRng): string {
  const n = 3 + rng.int(5);
  const title = `Top ${n} ${rng.pick(NOUNS)}s of ${rng.pick(PLACES)}:`;
  return [
    title,
    ...Array.from({ length: n }, (_, i) => `${i + 1}. ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)} — ${rng.int(100)}%`),
  ].join("\n");
}

function numbers(rng: FixtureRng): string {
  const a = rng.int(1000),
    b = rng.int(1000);
  return `If x = ${a} and y = ${b}, then x + y = ${a + b} and x × y = ${a * b}. ${sentence(rng)}`;
}

const GENRES = [prose, prose, prose, encyclopedia, dialogue, code, list, numbers];

/** One Pile-like document. */
export function pileDocument(rng: FixtureRng): string {
  const parts = 1 + rng.int(3);
  return Array.from({ length: parts }, () => rng.pick(GENRES)(rng)).join("\n\n");
}

export interface AlpacaRow {
  instruction: string;
  input: string;
  output: string;
}

const TASKS: ReadonlyArray<(rng: FixtureRng) => AlpacaRow> = [
  (rng) => ({
    instruction: `Summarize the following paragraph in one sentence.`,
    input: prose(rng),
    output: sentence(rng),
  }),
  (rng) => ({
    instruction: `Give three facts about the ${rng.pick(NOUNS)}.`,
    input: "",
    output: [1, 2, 3].map((i) => `${i}. ${sentence(rng)}`).join("\n"),
  }),
  (rng) => {
    const a = rng.int(500),
      b = rng.int(500);
    return { instruction: `What is ${a} plus ${b}?`, input: "", output: `${a} plus ${b} equals ${a + b}.` };
  },
  (rng) => ({ instruction: `Rewrite this sentence in a formal tone.`, input: sentence(rng), output: sentence(rng) }),
  (rng) => ({
    instruction: `Write a short Python function that doubles a number.`,
    input: "",
    output: `def double(x):\n    return 2 * x`,
  }),
  (rng) => ({
    instruction: `Translate the name of the city into English: ${rng.pick(PLACES)}.`,
    input: "",
    output: `It is written ${rng.pick(PLACES)}.`,
  }),
  (rng) => ({
    instruction: `Classify the sentiment of the review.`,
    input: `I found the ${rng.pick(NOUNS)} ${rng.pick(ADJECTIVES)}.`,
    output: rng.pick(["Positive", "Negative", "Neutral"]),
  }),
];

/** One Alpaca-style instruction row. */
export function alpacaRow(rng: FixtureRng): AlpacaRow {
  return rng.pick(TASKS)(rng);
}
