import type { Qwen2Config } from "./config/qwen2-config.ts";
import type { ForwardBatch } from "./architectures/qwen2.ts";
import { InputError } from "./errors.ts";
import type { KvCache } from "./kv-cache.ts";

/** Token ids of a batch with an optional attention mask (1 = real, 0 = padding), rows of equal length. */
export interface TokenBatchInput {
  readonly ids: readonly (readonly number[])[] | readonly Int32Array[];
  readonly attentionMask?: readonly (readonly number[])[] | readonly Uint8Array[];
}

/** One sequence, a rectangular batch of sequences, or a batch with a mask. */
export type TokenInput = readonly number[] | Int32Array | readonly (readonly number[])[] | TokenBatchInput;

/**
 * Left-pads sequences of different lengths to one width (HF `padding_side="left"`): pads first, then the tokens,
 * so the last position of every row is real. Returns ids and the attention mask.
 */
export function leftPad(sequences: readonly (readonly number[])[], padTokenId = 0): { ids: number[][]; attentionMask: number[][] } {
  if (sequences.length === 0) throw new InputError("EMPTY_INPUT", "leftPad: no sequences");
  const width = Math.max(...sequences.map((s) => s.length));
  const ids: number[][] = [];
  const attentionMask: number[][] = [];
  sequences.forEach((s, i) => {
    if (s.length === 0) throw new InputError("EMPTY_INPUT", `leftPad: sequence ${i} is empty`, { row: i });
    const pad = width - s.length;
    ids.push([...new Array<number>(pad).fill(padTokenId), ...s]);
    attentionMask.push([...new Array<number>(pad).fill(0), ...new Array<number>(s.length).fill(1)]);
  });
  return { ids, attentionMask };
}

function isBatchInput(x: TokenInput): x is TokenBatchInput {
  return typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Int32Array) && "ids" in x;
}

/**
 * Validates and flattens an input before any compute: ids in [0, vocab), equal row lengths, masks of 0/1 with at
 * least one real token per row, positions below max_position_embeddings. Position ids follow HF for left padding:
 * cumsum(mask) − 1, pads get 1; with a KV cache they continue from the cached tokens.
 */
export function prepareBatch(c: Qwen2Config, input: TokenInput, kv?: KvCache): ForwardBatch {
  let rows: ArrayLike<number>[];
  let masks: ArrayLike<number>[] | undefined;
  if (isBatchInput(input)) {
    rows = [...input.ids];
    masks = input.attentionMask ? [...input.attentionMask] : undefined;
  } else if (input instanceof Int32Array || typeof (input as readonly unknown[])[0] === "number" || (input as readonly unknown[]).length === 0) {
    rows = [input as ArrayLike<number>];
  } else {
    rows = [...(input as readonly (readonly number[])[])];
  }
  if (rows.length === 0) throw new InputError("EMPTY_INPUT", "no sequences given");
  const S = rows[0]!.length;
  if (S === 0) throw new InputError("EMPTY_INPUT", "empty token sequence (a prompt needs at least one token)");
  rows.forEach((r, i) => {
    if (r.length !== S) {
      throw new InputError("BATCH_SHAPE", `row ${i} has ${r.length} tokens, row 0 has ${S}; pad the batch with leftPad(sequences, padId) and pass its attentionMask`, { row: i, expected: S, got: r.length });
    }
  });
  const B = rows.length;
  if (kv && kv.batch !== B) throw new InputError("BATCH_SHAPE", `KV cache was made for batch ${kv.batch}, got ${B} rows`, { expected: kv.batch, got: B });
  if (masks && masks.length !== B) throw new InputError("BATCH_SHAPE", `attentionMask has ${masks.length} rows, ids has ${B}`, { expected: B, got: masks.length });
  const ids = new Int32Array(B * S);
  const mask = new Uint8Array(B * S).fill(1);
  const positionIds = new Int32Array(B * S);
  let padded = false;
  for (let b = 0; b < B; b++) {
    const row = rows[b]!;
    const m = masks?.[b];
    if (m && m.length !== S) throw new InputError("BATCH_SHAPE", `attentionMask row ${b} has ${m.length} entries, ids rows have ${S}`, { row: b, expected: S, got: m.length });
    let next = kv ? kv.nextPosition[b]! : 0;
    let real = 0;
    for (let s = 0; s < S; s++) {
      const id = row[s]!;
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) {
        throw new InputError("TOKEN_OUT_OF_RANGE", `token id ${id} at row ${b}, position ${s} is outside the vocabulary [0, ${c.vocabSize})`, { row: b, position: s, got: id, expected: `< ${c.vocabSize}` });
      }
      ids[b * S + s] = id;
      const mv = m ? m[s]! : 1;
      if (mv !== 0 && mv !== 1) throw new InputError("BAD_ARGUMENT", `attentionMask[${b}][${s}] = ${mv}; expected 0 or 1`, { row: b, position: s, got: mv });
      mask[b * S + s] = mv;
      if (mv === 1) {
        positionIds[b * S + s] = next++;
        real++;
      } else {
        positionIds[b * S + s] = 1;
        padded = true;
      }
    }
    if (real === 0 && !(kv && kv.nextPosition[b]! > 0)) {
      throw new InputError("EMPTY_INPUT", `row ${b} has no real tokens (attention mask all 0)`, { row: b });
    }
    if (next > c.maxPositions) {
      throw new InputError("SEQUENCE_TOO_LONG", `row ${b} reaches position ${next - 1}, beyond max_position_embeddings ${c.maxPositions}`, { row: b, expected: c.maxPositions, got: next });
    }
  }
  return { ids, batch: B, seq: S, attentionMask: mask, positionIds, padded };
}
