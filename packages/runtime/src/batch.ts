import type { TokenBatch } from "@difflens/tokenizer";
import { InputError } from "./errors.ts";
import type { DecoderConfig } from "./families/model-family.ts";
import type { ForwardBatch } from "./forward-batch.ts";
import type { KvCache } from "./kv-cache.ts";

/** A batch as nested arrays, rows of equal length (a convenience form; `toTokenBatch` turns it into a TokenBatch). */
export interface TokenArrays {
  /** [batch][seq] token ids. */
  readonly ids: readonly (readonly number[])[] | readonly Int32Array[];
  /** [batch][seq] 1 = real token, 0 = padding. Default all 1. */
  readonly attentionMask?: readonly (readonly number[])[] | readonly Uint8Array[];
  /** [batch][seq] 0 = attended but left out of harvested activations (e.g. BOS). Default all 1. */
  readonly keepMask?: readonly (readonly number[])[] | readonly Uint8Array[];
}

/**
 * What the runtime takes as tokens: a `TokenBatch` (from `@difflens/tokenizer`, `@difflens/data` or
 * `padTokenRows`), or for convenience one sequence, rows of equal length, or nested arrays with masks.
 */
export type TokenInput = TokenBatch | readonly number[] | Int32Array | readonly (readonly number[])[] | TokenArrays;

/**
 * Left-pads sequences of different lengths to one width (HF `padding_side="left"`): pads first, then the tokens,
 * so the last position of every row is real. Returns nested ids and attention mask (`padTokenRows` from
 * `@difflens/tokenizer` gives the same layout as a TokenBatch).
 */
export function leftPad(
  sequences: readonly (readonly number[])[],
  padTokenId = 0,
): { ids: number[][]; attentionMask: number[][] } {
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

function isTokenBatch(x: unknown): x is TokenBatch {
  const t = x as TokenBatch | null;
  return typeof x === "object" && t !== null && t.ids instanceof Int32Array && typeof t.batchSize === "number";
}

function isTokenArrays(x: TokenInput): x is TokenArrays {
  return typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Int32Array) && "ids" in x;
}

/**
 * The one conversion of every accepted input form into a `TokenBatch` (a TokenBatch passes through after a shape
 * check). Masks are taken as given; `prepareBatch` checks their values.
 */
export function toTokenBatch(input: TokenInput): TokenBatch {
  if (isTokenBatch(input)) return checkedShape(input);
  let rows: ArrayLike<number>[];
  let masks: ArrayLike<number>[] | undefined;
  let keeps: ArrayLike<number>[] | undefined;
  if (isTokenArrays(input)) {
    rows = [...input.ids];
    masks = input.attentionMask ? [...input.attentionMask] : undefined;
    keeps = input.keepMask ? [...input.keepMask] : undefined;
  } else if (
    input instanceof Int32Array ||
    typeof (input as readonly unknown[])[0] === "number" ||
    (input as readonly unknown[]).length === 0
  ) {
    rows = [input as ArrayLike<number>];
  } else {
    rows = [...(input as readonly (readonly number[])[])];
  }
  if (rows.length === 0) throw new InputError("EMPTY_INPUT", "no sequences given");
  const S = rows[0]!.length;
  if (S === 0) throw new InputError("EMPTY_INPUT", "empty token sequence (a prompt needs at least one token)");
  rows.forEach((r, i) => {
    if (r.length !== S) {
      throw new InputError(
        "BATCH_SHAPE",
        `row ${i} has ${r.length} tokens, row 0 has ${S}; pad the batch with leftPad(sequences, padId) and pass its attentionMask`,
        { row: i, expected: S, got: r.length },
      );
    }
  });
  const B = rows.length;
  // Typed arrays would silently truncate 1.5 or wrap −1: check the raw values first.
  const flat = <T extends Int32Array | Uint8Array>(field: string, list: ArrayLike<number>[], out: T): T => {
    if (list.length !== B) {
      const message = `${field} has ${list.length} rows, ids has ${B}`;
      throw new InputError("BATCH_SHAPE", message, { field, expected: B, got: list.length });
    }
    const isMask = field !== "ids";
    list.forEach((r, b) => {
      if (r.length !== S) {
        const message = `${field} row ${b} has ${r.length} entries, ids rows have ${S}`;
        throw new InputError("BATCH_SHAPE", message, { field, row: b, expected: S, got: r.length });
      }
      for (let s = 0; s < S; s++) {
        const v = r[s]!;
        const facts = { field, row: b, position: s, got: v };
        if (isMask && v !== 0 && v !== 1) {
          throw new InputError("BAD_ARGUMENT", `${field}[${b}][${s}] = ${v}; expected 0 or 1`, facts);
        }
        if (!isMask && !(Number.isInteger(v) && Math.abs(v) <= 0x7fffffff)) {
          const message = `token id ${v} at row ${b}, position ${s} is not a token id (an int32)`;
          throw new InputError("TOKEN_OUT_OF_RANGE", message, facts);
        }
      }
      out.set(r, b * S);
    });
    return out;
  };
  const ids = flat("ids", rows, new Int32Array(B * S));
  const attentionMask = masks ? flat("attentionMask", masks, new Uint8Array(B * S)) : new Uint8Array(B * S).fill(1);
  const lengths = new Int32Array(B);
  const firstColumn = new Int32Array(B);
  let leftPadded = false;
  for (let b = 0; b < B; b++) {
    const row = attentionMask.subarray(b * S, (b + 1) * S);
    const first = row.indexOf(1);
    firstColumn[b] = Math.max(first, 0);
    lengths[b] = row.reduce((n, m) => n + (m === 1 ? 1 : 0), 0);
    if (first > 0) leftPadded = true;
  }
  const padding = leftPadded ? ("left" as const) : ("right" as const);
  const batch = { batchSize: B, seqLen: S, padding, ids, attentionMask, lengths, firstColumn };
  return keeps ? { ...batch, keepMask: flat("keepMask", keeps, new Uint8Array(B * S)) } : batch;
}

function checkedShape(t: TokenBatch): TokenBatch {
  const { batchSize: B, seqLen: S } = t;
  const check = (field: string, got: number, expected: number): void => {
    if (got === expected) return;
    const message = `TokenBatch.${field} has ${got} entries; expected ${expected} (batchSize ${B} × seqLen ${S})`;
    throw new InputError("BATCH_SHAPE", message, { field, expected, got });
  };
  if (!Number.isInteger(B) || B < 1) {
    const message = `TokenBatch.batchSize is ${B}; expected at least one row`;
    throw new InputError("EMPTY_INPUT", message, { field: "batchSize", got: B });
  }
  if (!Number.isInteger(S) || S < 1) {
    const message = `TokenBatch.seqLen is ${S}; expected at least one column`;
    throw new InputError("EMPTY_INPUT", message, { field: "seqLen", got: S });
  }
  check("ids", t.ids.length, B * S);
  check("attentionMask", t.attentionMask.length, B * S);
  if (t.keepMask) check("keepMask", t.keepMask.length, B * S);
  return t;
}

/**
 * Validates an input and prepares it for the forward pass, before any compute: ids in [0, vocab), masks of 0/1
 * with at least one real token per row, positions below max_position_embeddings. Position ids follow HF for
 * padding: cumsum(mask) − 1, pads get 1; with a KV cache they continue from the cached tokens.
 */
export function prepareBatch(c: DecoderConfig, input: TokenInput, kv?: KvCache): ForwardBatch {
  const { batchSize: B, seqLen: S, ids, attentionMask } = toTokenBatch(input);
  if (kv && kv.batch !== B)
    throw new InputError("BATCH_SHAPE", `KV cache was made for batch ${kv.batch}, got ${B} rows`, {
      expected: kv.batch,
      got: B,
    });
  const positionIds = new Int32Array(B * S);
  let padded = false;
  for (let b = 0; b < B; b++) {
    let next = kv ? kv.nextPosition[b]! : 0;
    let real = 0;
    for (let s = 0; s < S; s++) {
      const id = ids[b * S + s]!;
      if (id < 0 || id >= c.vocabSize) {
        throw new InputError(
          "TOKEN_OUT_OF_RANGE",
          `token id ${id} at row ${b}, position ${s} is outside the vocabulary [0, ${c.vocabSize})`,
          { row: b, position: s, got: id, expected: `< ${c.vocabSize}` },
        );
      }
      const mv = attentionMask[b * S + s]!;
      if (mv !== 0 && mv !== 1)
        throw new InputError("BAD_ARGUMENT", `attentionMask[${b}][${s}] = ${mv}; expected 0 or 1`, {
          row: b,
          position: s,
          got: mv,
        });
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
      throw new InputError(
        "SEQUENCE_TOO_LONG",
        `row ${b} reaches position ${next - 1}, beyond max_position_embeddings ${c.maxPositions}`,
        { row: b, expected: c.maxPositions, got: next },
      );
    }
  }
  return { ids, batch: B, seq: S, attentionMask, positionIds, padded };
}
