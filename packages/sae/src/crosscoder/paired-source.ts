import { type ActivationSource, Tensor } from "@difflens/tensor";
import { SaeError } from "../errors.ts";

/** One batch of the same token rows through both models at one hook: base and chat, each f32 [rows, dIn]. */
export interface PairedBatch {
  base: Tensor;
  chat: Tensor;
}

/**
 * Aligned batches from two models on the same tokens (row r of `base` and of `chat` is the same token position).
 * Must replay identically for resume, as ActivationSource.
 */
export interface PairedActivationSource extends AsyncIterable<PairedBatch> {
  /** Width of every batch of both models. */
  readonly dIn: number;
}

/** Names used in errors (e.g. the models' ids or the store files). */
export interface PairNames {
  base: string;
  chat: string;
}

/**
 * Zips two activation sources row for row. Refuses different widths at once and, while iterating, batches of
 * different row counts or one source ending before the other — each error names both sources.
 */
export function pairSources(
  base: ActivationSource,
  chat: ActivationSource,
  names: PairNames = { base: "base", chat: "chat" },
): PairedActivationSource {
  if (base.dIn !== chat.dIn)
    throw new SaeError(
      "D_IN_MISMATCH",
      `paired activations: ${names.base} has dIn=${base.dIn} but ${names.chat} has dIn=${chat.dIn}; a crosscoder needs both models' activations at one hook of equal width`,
      { expected: base.dIn, got: chat.dIn, field: "dIn" },
    );
  return {
    dIn: base.dIn,
    async *[Symbol.asyncIterator]() {
      const bi = base[Symbol.asyncIterator](),
        ci = chat[Symbol.asyncIterator]();
      for (let batch = 0; ; batch++) {
        const [b, c] = await Promise.all([bi.next(), ci.next()]);
        if (b.done && c.done) return;
        if (b.done || c.done) {
          const [ended, goesOn] = b.done ? [names.base, names.chat] : [names.chat, names.base];
          throw new SaeError(
            "SHAPE_MISMATCH",
            `paired activations: ${ended} ended after ${batch} batches while ${goesOn} has more; the two sources must cover the same tokens`,
            { batch },
          );
        }
        yield checkPairedBatch({ base: b.value, chat: c.value }, base.dIn, batch, names);
      }
    },
  };
}

/** Shape and dtype of one paired batch (both f32 [rows, dIn] with the same rows); returns it. */
export function checkPairedBatch(
  p: PairedBatch,
  dIn: number,
  batch: number,
  names: PairNames = { base: "base", chat: "chat" },
): PairedBatch {
  for (const [name, t] of [
    [names.base, p.base],
    [names.chat, p.chat],
  ] as const) {
    if (t.dtype !== "f32" || t.shape.length !== 2 || t.shape[1] !== dIn)
      throw new SaeError(
        "D_IN_MISMATCH",
        `paired batch ${batch}: ${name} is ${t.dtype} [${t.shape.join(", ")}], expected f32 [rows, ${dIn}]`,
        { batch, expected: [null, dIn], got: t.shape },
      );
  }
  if (p.base.shape[0] !== p.chat.shape[0])
    throw new SaeError(
      "SHAPE_MISMATCH",
      `paired batch ${batch}: ${names.base} has ${p.base.shape[0]} rows but ${names.chat} has ${p.chat.shape[0]}; rows must be the same tokens in both models`,
      { batch, expected: p.base.shape[0], got: p.chat.shape[0] },
    );
  return p;
}

/**
 * A paired source over two in-memory matrices base, chat [rows, dIn] in batches of `batchRows` (the last batch may
 * be shorter), repeated `epochs` times. For tests, toys and small stores.
 */
export function pairedArraySource(
  base: Float32Array,
  chat: Float32Array,
  dIn: number,
  batchRows: number,
  epochs = 1,
): PairedActivationSource {
  if (base.length !== chat.length || base.length % dIn !== 0)
    throw new SaeError(
      "SHAPE_MISMATCH",
      `pairedArraySource: base has ${base.length} values and chat ${chat.length}; both must be rows × dIn=${dIn} with the same rows`,
      { expected: base.length, got: chat.length },
    );
  const rows = base.length / dIn;
  return {
    dIn,
    async *[Symbol.asyncIterator]() {
      for (let e = 0; e < epochs; e++) {
        for (let r0 = 0; r0 < rows; r0 += batchRows) {
          const n = Math.min(batchRows, rows - r0);
          yield {
            base: new Tensor("f32", [n, dIn], base.slice(r0 * dIn, (r0 + n) * dIn)),
            chat: new Tensor("f32", [n, dIn], chat.slice(r0 * dIn, (r0 + n) * dIn)),
          };
        }
      }
    },
  };
}
