import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { type ActivationSource, Rng, Tensor } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadCheckpoint, saeFromCheckpoint } from "../src/checkpoint.ts";
import { main } from "../src/cli/convert.ts";
import { convertSae } from "../src/formats/convert.ts";
import { detectSaeFormat, loadSae, writeSaeLens } from "../src/formats/formats.ts";
import { Sae } from "../src/sae.ts";
import { trainSae } from "../src/train/trainer.ts";
import { relErr } from "./helpers.ts";

const root = mkdtempSync(path.join(tmpdir(), "difflens-sae-convert-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("convertSae", () => {
  it("converts dictionary_learning ae.pt once to sparsify and SAELens folders with the same top-k function", async () => {
    const src = new URL("./fixtures/dictionary-learning", import.meta.url).pathname;
    const orig = await loadSae(src, { batchTopKUseThreshold: false });
    const x = new Tensor(
      "f32",
      [5, 16],
      Float32Array.from({ length: 80 }, (_, i) => Math.cos(i * 0.37) * 2),
    );
    for (const to of ["sparsify", "saelens"] as const) {
      const info = await convertSae(src, path.join(root, to), to);
      expect(info).toMatchObject({ from: "dictionary_learning", to, dIn: 16, dSae: 64, k: 4 });
      const back = await loadSae(path.join(root, to));
      expect(Array.from(back.forward(x).data as Float32Array)).toEqual(
        Array.from(orig.forward(x).data as Float32Array),
      );
    }
  });
});

describe("difflens-convert command line", () => {
  const io = () => {
    const lines: string[] = [];
    let out = "";
    return {
      lines,
      text: () => out,
      io: {
        out: (t: string) => {
          out += t;
        },
        log: (l: string) => void lines.push(l),
      },
    };
  };

  it("--help exits 0 and names the arguments", async () => {
    const { io: streams, text } = io();
    expect(await main(["--help"], streams)).toBe(0);
    expect(text()).toContain("usage: difflens-convert SRC DST [flags]");
    expect(text()).toContain("--to FORMAT");
  });

  it("a typo'd flag, a bad --to or a missing argument exits 2 with the reason", async () => {
    const { io: streams, lines } = io();
    expect(await main(["a", "b", "--too", "saelens"], streams)).toBe(2);
    expect(lines.join("\n")).toContain('unknown flag --too — did you mean "--to"?');
    expect(await main(["a", "b", "--to", "gguf"], streams)).toBe(2);
    expect(await main(["a"], streams)).toBe(2);
    expect(lines.join("\n")).toContain("missing DST");
  });

  it("converts like convertSae and exits 0", async () => {
    const src = new URL("./fixtures/dictionary-learning", import.meta.url).pathname;
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    expect(await main([src, path.join(root, "cli-saelens"), "--to", "saelens"])).toBe(0);
    expect(JSON.parse(String(log.mock.calls[0]![0]))).toMatchObject({ from: "dictionary_learning", to: "saelens" });
    log.mockRestore();
  });
});

/** sha256 of every file under `dir`, by relative path: "byte-identical" made checkable. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const file = path.join(dir, name);
    if (statSync(file).isFile()) out[name] = createHash("sha256").update(readFileSync(file)).digest("hex");
  }
  return out;
}

/** Gaussian batches [32, dIn] with a per-column offset, the same for a given seed. */
function gaussian(dIn: number, batches: number, seed: number): ActivationSource {
  return {
    dIn,
    async *[Symbol.asyncIterator]() {
      const rng = new Rng(seed);
      for (let b = 0; b < batches; b++) {
        const x = Float32Array.from({ length: 32 * dIn }, (_, i) => rng.normal() + (i % dIn) * 0.1);
        yield new Tensor("f32", [32, dIn], x);
      }
    },
  };
}

const TRAIN = { dIn: 16, dSae: 64, k: 4, lrWarmupSteps: 1, initSampleTokens: 64, checkpointEverySteps: 0, seed: 3 };

describe("difflens-convert never overwrites (issue 15)", () => {
  const dictionaryLearning = new URL("./fixtures/dictionary-learning", import.meta.url).pathname;
  const quiet = { out: () => undefined, log: () => undefined };
  let checkpoint = "";
  let src = "";
  beforeAll(async () => {
    const outDir = path.join(root, "run-s");
    const run = await trainSae({ config: { ...TRAIN, maxSteps: 2 }, source: gaussian(16, 4, 1), outDir });
    checkpoint = run.finalDir!;
    src = path.join(root, "dl-copy"); // a copy: the pre-fix code wrote into whatever DST it was given
    cpSync(dictionaryLearning, src, { recursive: true });
  });
  const lines = (): { lines: string[]; io: { out: () => void; log: (l: string) => void } } => {
    const seen: string[] = [];
    return { lines: seen, io: { out: () => undefined, log: (l: string) => void seen.push(l) } };
  };

  it("into an existing difflens checkpoint: exit 2, OUTPUT_EXISTS, the folder byte-identical after", async () => {
    const before = fingerprint(checkpoint);
    expect(Object.keys(before).sort()).toEqual(["cfg.json", "optimizer.safetensors", "sae.safetensors", "state.json"]);
    const { lines: said, io: streams } = lines();
    expect(await main([src, checkpoint], streams)).toBe(2);
    expect(said.join("\n")).toContain("OUTPUT_EXISTS");
    expect(said.join("\n")).toContain("--force");
    expect(fingerprint(checkpoint)).toEqual(before);
  });

  it("SRC and DST swapped by mistake: the SAE folder named as DST stays byte-identical", async () => {
    const before = fingerprint(src);
    expect(await main([checkpoint, src], quiet)).toBe(2);
    expect(fingerprint(src)).toEqual(before);
  });

  it("--force replaces the folder whole: no state.json or optimizer.safetensors of the old one survives", async () => {
    const dst = path.join(root, "forced");
    cpSync(checkpoint, dst, { recursive: true });
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    expect(await main([src, dst, "--force"], quiet)).toBe(0);
    log.mockRestore();
    expect(readdirSync(dst).sort()).toEqual(["cfg.json", "sae.safetensors"]);
    expect(await loadSae(dst)).toMatchObject({ dIn: 16, dSae: 64, activation: { kind: "topk", k: 4 } });
    expect(readdirSync(root).filter((n) => n.startsWith(".forced"))).toEqual([]);
  });

  it("DST equal to SRC, inside it or around it is refused even with --force", async () => {
    const before = fingerprint(src);
    for (const dst of [src, path.join(src, "converted"), root]) {
      const { lines: said, io: streams } = lines();
      expect(await main([src, dst, "--force", "--to", "saelens"], streams), dst).toBe(2);
      expect(said.join("\n")).toContain("OUTPUT_OVERLAPS_INPUT");
    }
    expect(fingerprint(src)).toEqual(before);
  });
});

describe("convert --to difflens", () => {
  const dictionaryLearning = new URL("./fixtures/dictionary-learning", import.meta.url).pathname;
  const x = new Tensor(
    "f32",
    [5, 16],
    Float32Array.from({ length: 80 }, (_, i) => Math.sin(i * 0.61) * 2),
  );

  it("writes our checkpoint layout with the source in its lineage; a finetune starts from it", async () => {
    const dst = path.join(root, "as-difflens");
    const info = await convertSae(dictionaryLearning, dst, "difflens");
    const weightsSha = createHash("sha256")
      .update(readFileSync(path.join(dictionaryLearning, "ae.pt")))
      .digest("hex");
    expect(info).toMatchObject({ from: "dictionary_learning", to: "difflens", dIn: 16, dSae: 64, k: 4 });
    expect(info.sourceSha256).toBe(weightsSha);
    expect(detectSaeFormat(dst)).toBe("difflens");
    const ck = await loadCheckpoint(dst, { dIn: 16, dSae: 64 });
    const format = "dictionary_learning";
    const source = { path: dictionaryLearning, sha256: weightsSha, step: 0, tokensSeen: 0, format };
    expect(ck.block.lineage).toEqual([source]);
    const orig = await loadSae(dictionaryLearning, { batchTopKUseThreshold: false });
    const values = (sae: Sae): number[] => Array.from(sae.forward(x).data as Float32Array);
    expect(values(saeFromCheckpoint(ck))).toEqual(values(orig));
    const child = await trainSae({
      config: { ...TRAIN, maxSteps: 2 },
      source: gaussian(16, 4, 2),
      outDir: path.join(root, "finetune-converted"),
      finetuneFrom: { path: dst, optimizer: "reset" },
    });
    const lineage = (await loadCheckpoint(child.finalDir!)).block.lineage;
    expect(lineage.map((l) => [l.path, l.format])).toEqual([
      [dst, undefined],
      [dictionaryLearning, "dictionary_learning"],
    ]);
  });

  it("folds a SAELens apply_b_dec_to_input=false encoder bias: the converted SAE is the same function", async () => {
    const rng = new Rng(4);
    const r = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const sae = new Sae(
      { dIn: 16, dSae: 64, activation: { kind: "topk", k: 4 }, applyBDecToInput: false, hookName: "blocks.2.hook_pre" },
      { wEnc: r(1024), bEnc: r(64), wDec: r(1024), bDec: r(16) },
    );
    const src = path.join(root, "saelens-no-bdec");
    await writeSaeLens(src, sae);
    expect((await loadSae(src)).applyBDecToInput).toBe(false);
    for (const to of ["saelens", "difflens"] as const) {
      const dst = path.join(root, `no-bdec-${to}`);
      await convertSae(src, dst, to);
      const back = await loadSae(dst);
      expect(back.hookName).toBe("blocks.2.hook_pre");
      expect(relErr(back.forward(x).data as Float32Array, sae.forward(x).data as Float32Array), to).toBeLessThan(1e-6);
    }
  });
});
