// loadModel("ORG/NAME") and loadTokenizer("ORG/NAME") must look in the same Hub cache, in Hugging Face's order:
// HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME/huggingface/hub, then ~/.cache/huggingface/hub.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { useBackend } from "@difflens/tensor";
import { loadTokenizer } from "@difflens/tokenizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyTokenizerJson } from "../../tokenizer/test/tiny-tokenizer.ts";
import { loadModel, writeRandomQwen2Folder } from "../src/index.ts";

const REPO = "ORG/NAME";
let tmp: string;
let source: string; // a model folder with tokenizer.json, linked into every fake cache

beforeAll(async () => {
  useBackend("js");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "difflens-hub-cache-"));
  source = await writeRandomQwen2Folder(path.join(tmp, "source"), {
    config: { vocabSize: 8, dModel: 8, nLayers: 1, nHeads: 2, dMlp: 8 },
    seed: 1,
  });
  fs.writeFileSync(path.join(source, "tokenizer.json"), JSON.stringify(tinyTokenizerJson()));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A Hub cache holding REPO at commit `rev` (snapshot files are symlinks, as the Hub writes them). */
function fakeCache(cacheDir: string, rev: string): string {
  const repoDir = path.join(cacheDir, "models--ORG--NAME");
  const snapshot = path.join(repoDir, "snapshots", rev);
  fs.mkdirSync(snapshot, { recursive: true });
  fs.mkdirSync(path.join(repoDir, "refs"), { recursive: true });
  fs.writeFileSync(path.join(repoDir, "refs", "main"), rev);
  for (const file of fs.readdirSync(source)) fs.symlinkSync(path.join(source, file), path.join(snapshot, file));
  return snapshot;
}

// Each case sets the variable under test and every lower-priority one; each candidate cache holds a decoy snapshot.
const cases: { variable: string; env: (root: string) => NodeJS.ProcessEnv; wins: string }[] = [
  {
    variable: "HF_HUB_CACHE",
    env: (r) => ({
      HF_HUB_CACHE: path.join(r, "hub-cache"),
      HF_HOME: path.join(r, "hf-home"),
      XDG_CACHE_HOME: path.join(r, "xdg"),
    }),
    wins: "hub-cache",
  },
  {
    variable: "HF_HOME",
    env: (r) => ({ HF_HOME: path.join(r, "hf-home"), XDG_CACHE_HOME: path.join(r, "xdg") }),
    wins: path.join("hf-home", "hub"),
  },
  {
    variable: "XDG_CACHE_HOME",
    env: (r) => ({ XDG_CACHE_HOME: path.join(r, "xdg") }),
    wins: path.join("xdg", "huggingface", "hub"),
  },
  { variable: "home", env: () => ({}), wins: path.join("home", ".cache", "huggingface", "hub") },
];
const candidates = cases.map((c) => c.wins);

describe("the Hub cache location is one for models and tokenizers", () => {
  it.each(cases)(
    "$variable: loadModel and loadTokenizer resolve ORG/NAME in the same snapshot",
    async ({ variable, env, wins }) => {
      const root = path.join(tmp, variable);
      const snapshots = new Map(candidates.map((c, i) => [c, fakeCache(path.join(root, c), `rev${i}`)]));
      const lookup = { env: env(root), home: path.join(root, "home") };
      const model = await loadModel(REPO, { ...lookup, mmap: false });
      const tokenizer = loadTokenizer(REPO, lookup);
      model.close();
      expect(model.folder).toBe(snapshots.get(wins));
      expect(tokenizer.origin).toBe(model.folder);
    },
  );
});
