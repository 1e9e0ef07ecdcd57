/**
 * The forward part of bench:webgpu: a Qwen1.5-0.5B-shaped model (random weights from a seed, f32) written as a real
 * HF folder, loaded onto the webgpu backend, timed on [batch, seq] tokens with all logits (read back to the host, as
 * callers get them); with the torch peer, transformers runs the same folder and we compare logits.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel, writeRandomQwen2Folder } from "@difflens/runtime";
import { useBackend } from "@difflens/tensor";

export interface ForwardShape {
  readonly label: string;
  readonly config: Record<string, unknown>;
  readonly batch: number;
  readonly seq: number;
}

/** Qwen1.5-0.5B's shape (its full vocabulary; tied embeddings, 16 kv heads, rope θ 1e6). */
export const QWEN15_05B: ForwardShape = {
  label: "qwen1.5-0.5b",
  config: {
    vocabSize: 151936,
    dModel: 1024,
    nLayers: 24,
    nHeads: 16,
    nKvHeads: 16,
    dMlp: 2816,
    maxPositions: 32768,
    ropeTheta: 1_000_000,
    rmsNormEps: 1e-6,
    tieWordEmbeddings: true,
  },
  batch: 4,
  seq: 256,
};

/** The same architecture, small enough for a software adapter (lavapipe). */
export const QWEN_TINY: ForwardShape = {
  label: "tiny",
  config: { ...QWEN15_05B.config, vocabSize: 1024, dModel: 64, nLayers: 2, nHeads: 4, nKvHeads: 4, dMlp: 176 },
  batch: 2,
  seq: 16,
};

export interface PreparedForward {
  readonly folder: string;
  readonly ids: number[][];
  /** Where the peer writes its logits (raw f32 [batch, seq, vocab]). */
  readonly logitsOut: string;
  readonly dispose: () => void;
}

/** Writes the random model folder (on the host: the js backend must be current) and picks the token ids. */
export async function prepareForward(shape: ForwardShape, seed = 1234): Promise<PreparedForward> {
  const dir = mkdtempSync(join(tmpdir(), "difflens-bench-webgpu-"));
  const folder = join(dir, "model");
  useBackend("js");
  await writeRandomQwen2Folder(folder, { config: shape.config, seed });
  const vocab = shape.config.vocabSize as number;
  const ids = Array.from({ length: shape.batch }, (_, b) =>
    Array.from({ length: shape.seq }, (_, s) => (b * 7919 + s * 104729 + 1) % vocab),
  );
  return {
    folder,
    ids,
    logitsOut: join(dir, "transformers-logits.f32"),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface ForwardTiming {
  readonly seconds: number;
  readonly tokensPerS: number;
  /** Our logits [batch, seq, vocab] from the last timed call. */
  readonly logits: Float32Array;
}

/** Loads the folder onto the webgpu backend; median of `reps` forward calls after a warm-up (shader compilation). */
export async function timeForward(prepared: PreparedForward, reps: number): Promise<ForwardTiming> {
  await useBackend("webgpu");
  const model = await loadModel(prepared.folder);
  const run = async () => (await model.forward({ ids: prepared.ids })).data as Float32Array;
  await run();
  const times: number[] = [];
  let logits: Float32Array = new Float32Array(0);
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    logits = await run();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  const seconds = times[times.length >> 1]!;
  const tokens = prepared.ids.length * prepared.ids[0]!.length;
  return { seconds, tokensPerS: tokens / seconds, logits };
}

/**
 * Our logits against transformers': max |ours − theirs| / max |theirs| (relative to the largest logit, so near-zero
 * logits do not blow it up), and the max absolute difference.
 */
export function compareLogits(ours: Float32Array, file: string): { maxRelError: number; maxAbsError: number } {
  const bytes = readFileSync(file);
  const theirs = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  if (theirs.length !== ours.length)
    throw new Error(`bench:webgpu: transformers gave ${theirs.length} logits, ours ${ours.length} (${file})`);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < ours.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(ours[i]! - theirs[i]!));
    scale = Math.max(scale, Math.abs(theirs[i]!));
  }
  return { maxRelError: maxAbs / (scale || 1), maxAbsError: maxAbs };
}
