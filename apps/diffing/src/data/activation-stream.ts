/**
 * Activations harvested from a model on the fly (runtime `harvest`, which runs only up to the hook), passed
 * through a seeded shuffle buffer so that SAE batches mix many windows, cut to exactly `maxRows` rows.
 * Deterministic: the same windows and seed give the same batches, which is what the trainer's exact resume
 * needs (it replays and skips the batches it already trained on).
 */

import { batchWindows, ShuffleBuffer, type TokenBatch } from "@difflens/data";
import { harvest, type Model } from "@difflens/runtime";
import { type ActivationSource, Rng, Tensor } from "@difflens/tensor";
import type { StageWindow } from "./windows.ts";

export interface ActivationStreamOptions {
  readonly model: Model;
  readonly hook: string;
  readonly windows: AsyncIterable<StageWindow>;
  readonly windowsPerForward: number;
  /** Rows per yielded batch. */
  readonly batchRows: number;
  /** Shuffle buffer rows (0 = in order). */
  readonly shuffleRows: number;
  readonly seed: number;
  /** Stop after this many rows. */
  readonly maxRows: number;
  /** Time spent in the model, for tokens/s reports. */
  readonly timing?: { harvestMs: number; harvestedRows: number };
}

/** Windows as the token batches `harvest` takes (right padding no window attends to is cut: never computed). */
export function harvestBatches(windows: AsyncIterable<StageWindow>, perForward: number): AsyncGenerator<TokenBatch> {
  return batchWindows(windows, perForward, { trimPadding: true });
}

export function activationStream(opts: ActivationStreamOptions): ActivationSource {
  const dIn = opts.model
    .hookShape(opts.hook, 1, 1)
    .slice(2)
    .reduce((a, b) => a * b, 1);
  return {
    dIn,
    async *[Symbol.asyncIterator]() {
      const rng = new Rng(opts.seed).fork("activation-shuffle");
      const capacity = Math.max(opts.shuffleRows, opts.batchRows);
      const buffer = new ShuffleBuffer(capacity, dIn, rng);
      let emitted = 0;
      const take = (n: number) =>
        new Tensor("f32", [n, dIn], opts.shuffleRows === 0 ? buffer.takeInOrder(n) : buffer.take(n));
      const source = harvest(opts.model, opts.hook, harvestBatches(opts.windows, opts.windowsPerForward))[
        Symbol.asyncIterator
      ]();
      for (;;) {
        const t0 = performance.now();
        const next = await source.next();
        if (opts.timing) opts.timing.harvestMs += performance.now() - t0;
        if (next.done) break;
        const rows = next.value.data as Float32Array;
        if (opts.timing) opts.timing.harvestedRows += next.value.shape[0]!;
        for (let offset = 0; offset < next.value.shape[0]!; ) {
          offset += buffer.push(rows, offset);
          // Draw only from a full buffer, so every batch is a sample of `capacity` rows.
          while (buffer.full && emitted < opts.maxRows) {
            const n = Math.min(opts.batchRows, opts.maxRows - emitted);
            emitted += n;
            yield take(n);
          }
          if (emitted >= opts.maxRows) return;
        }
      }
      while (buffer.size >= 2 && emitted < opts.maxRows) {
        const n = Math.min(opts.batchRows, opts.maxRows - emitted, buffer.size);
        emitted += n;
        yield take(n);
      }
    },
  };
}

/** What a training run's stream reads from its config (stage and train configs alike). */
export interface StreamConfig {
  readonly hook: string;
  readonly harvest: { readonly windowsPerForward: number; readonly shuffleRows: number };
  readonly sae: { readonly batchSize: number };
}

/** The activation stream of a training run: `steps` batches of the config's batch size at its hook. */
export function trainingStream(
  config: StreamConfig,
  model: Model,
  windows: AsyncIterable<StageWindow>,
  run: { readonly seed: number; readonly steps: number; readonly timing: { harvestMs: number; harvestedRows: number } },
): ActivationSource {
  return activationStream({
    model,
    hook: config.hook,
    windows,
    windowsPerForward: config.harvest.windowsPerForward,
    batchRows: config.sae.batchSize,
    shuffleRows: config.harvest.shuffleRows,
    seed: run.seed,
    maxRows: run.steps * config.sae.batchSize,
    timing: run.timing,
  });
}
