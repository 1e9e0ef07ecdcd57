/**
 * STAND-IN until H1's methods toy (src/methods-toy/) lands: the contract's `ensureMethodsToy` on the diffing demo's
 * toy (one plant u on every chat position; the chat model is base + its PEFT adapter). Replaced by a re-export.
 */
import { Rng } from "@difflens/tensor";
import type { PairedWindow } from "../methods/paired-harvest.ts";
import { ensureToyFiles, TOY_HOOK } from "../toy/toy-files.ts";
import { IM_END_ID, IM_START_ID } from "../toy/toy-pair.ts";

export type MethodsToyVariant = "three-plant" | "control";
export interface MethodsToy {
  readonly variant: MethodsToyVariant;
  readonly baseDir: string;
  readonly chatDir: string;
  readonly adapterDirs: readonly string[];
  readonly hook: string;
  readonly plants: Readonly<Record<string, Float32Array>>;
  windows(n: number, seed: number): PairedWindow[];
  readonly decode: (id: number) => string;
  /** Stand-in only: the chat model as base + adapter (no merged folder). */
  readonly chatAdapter?: string;
}

const TEXT = "The quiet glacier describes a large painter near Osaka. However, the modern harbor changes the river.";

export async function ensureMethodsToy(
  dir: string,
  opts: { variant: MethodsToyVariant; seed?: number },
): Promise<MethodsToy> {
  const calibrationTexts = async function* () {
    for (let i = 0; i < 64; i++) yield `${TEXT} ${i}`;
  };
  const files = await ensureToyFiles({ seed: opts.seed ?? 0, plantScale: 0.75, cacheDir: dir, calibrationTexts });
  return {
    variant: opts.variant,
    baseDir: files.baseDir,
    chatDir: files.baseDir,
    chatAdapter: files.adapterDir,
    adapterDirs: [files.adapterDir],
    hook: TOY_HOOK,
    plants: { u: files.planted },
    windows: (n, seed) => {
      const rng = new Rng(seed);
      return Array.from({ length: n }, (_, i) => {
        const length = 24;
        const ids = Int32Array.from({ length }, () => 1000 + rng.int(20000));
        const mask = new Uint8Array(length).fill(1);
        mask[0] = 0;
        if (i % 5 < 2) {
          const user = 3 + rng.int(6);
          ids[0] = IM_START_ID;
          ids[user] = IM_END_ID;
          ids[user + 1] = 198;
          ids.set([IM_START_ID, 77091, 198], user + 2);
        }
        return { ids, mask, length };
      });
    },
    decode: (id) => `<${id}>`,
  };
}
