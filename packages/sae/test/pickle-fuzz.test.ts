import { readFileSync } from "node:fs";
import { Rng } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import { SaeError } from "../src/errors.ts";
import { readPickle } from "../src/formats/pickle.ts";
import { readTorchStateDict } from "../src/formats/torch-load.ts";
import { ZipArchive } from "../src/formats/zip.ts";

const aePt = readFileSync(new URL("./fixtures/dictionary-learning/ae.pt", import.meta.url));
const pkl = new ZipArchive(aePt).read("ae/data.pkl").slice();

/** Seeded mutation: flip/replace/insert/delete bytes or truncate. */
function mutate(src: Uint8Array, rng: Rng): Uint8Array {
  let b = Array.from(src);
  const n = 1 + rng.int(4);
  for (let i = 0; i < n; i++) {
    const at = rng.int(Math.max(1, b.length));
    switch (rng.int(5)) {
      case 0:
        b[at] = b[at]! ^ (1 << rng.int(8));
        break;
      case 1:
        b[at] = rng.int(256);
        break;
      case 2:
        b.splice(at, 0, rng.int(256));
        break;
      case 3:
        b.splice(at, 1 + rng.int(8));
        break;
      case 4:
        b = b.slice(0, at);
        break;
    }
  }
  return Uint8Array.from(b);
}

describe("pickle reader fuzz", () => {
  it("3000 seeded mutations of a real state-dict pickle: only SaeErrors or valid results, no hang", () => {
    const rng = new Rng(2024);
    const t0 = performance.now();
    let errors = 0,
      ok = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = mutate(pkl, rng);
      try {
        readPickle(bytes);
        ok++;
      } catch (e) {
        if (!(e instanceof SaeError)) throw new Error(`case ${i}: non-SaeError ${(e as Error).stack}`);
        expect(["PICKLE_INVALID", "PICKLE_FORBIDDEN_CLASS"]).toContain(e.code);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(1000);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });
  it("500 seeded mutations of the whole ae.pt archive: only SaeErrors or valid results", () => {
    const rng = new Rng(7);
    for (let i = 0; i < 500; i++) {
      const bytes = mutate(aePt, rng);
      try {
        readTorchStateDict(`case-${i}.pt`, bytes);
      } catch (e) {
        if (!(e instanceof SaeError)) throw new Error(`case ${i}: non-SaeError ${(e as Error).stack}`);
      }
    }
  });
});
