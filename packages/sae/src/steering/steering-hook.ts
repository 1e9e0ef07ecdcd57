/**
 * The hook shape steering hands to a model, defined structurally: @difflens/runtime's `HookSpec` accepts it
 * (`model.withHooks([hook], …)`) without this package importing the runtime (the dependency rules forbid it).
 *
 * Positions are real token positions of each sequence (0 = its first token), read from the call's `positionIds`, so
 * a hook acts on the same tokens whether the model recomputes the whole sequence every step or runs one token per
 * step against a KV cache (`pastLength` > 0), and wherever left padding puts a row.
 */
import { add, Tensor, toDevice } from "@difflens/tensor";
import { SaeError } from "../errors.ts";

/** The fields of runtime's `HookContext` steering reads. */
export interface SteeringCall {
  readonly batch: number;
  /** Query positions in this call. */
  readonly seq: number;
  /** [batch*seq] 1 = real token, 0 = padding. */
  readonly attentionMask: Uint8Array;
  /** [batch*seq] the real position of each token within its sequence. */
  readonly positionIds: Int32Array;
}

/**
 * A hook on a residual-stream site: changes the [batch, seq, dModel] tensor in place, on whatever device the model
 * runs (on the CPU it edits the values directly and returns nothing to wait for; on a device it enqueues kernels,
 * and may first read values back, so it can return a promise the runner awaits).
 */
export interface SteeringHook {
  readonly name: string;
  readonly fn: (tensor: Tensor, call: SteeringCall) => void | Promise<void>;
}

/**
 * Which tokens a steering hook acts on:
 * - `"all"`: every real token (prompt and generated);
 * - `{ fromPosition: n }`: tokens at real position ≥ n, one n for every row or a list with one per row (e.g. where
 *   a region of the chat template starts);
 * - `{ from: "generated", promptLengths }`: only tokens generated after each row's prompt (position ≥ its length).
 *   The first new token is chosen before any generated token exists, so it is never steered under this rule.
 */
export type SteeringPositions =
  | "all"
  | { readonly fromPosition: number | readonly number[] }
  | { readonly from: "generated"; readonly promptLengths: readonly number[] };

/** Per row, the first real position acted on (0 = all). */
function firstPositions(positions: SteeringPositions, batch: number, who: string): ArrayLike<number> {
  if (positions === "all") return new Int32Array(batch);
  const starts = "fromPosition" in positions ? positions.fromPosition : positions.promptLengths;
  const list = typeof starts === "number" ? new Array<number>(batch).fill(starts) : starts;
  if (list.length !== batch) {
    const message = `${who}: positions give ${list.length} row starts; the batch has ${batch} rows`;
    throw new SaeError("SHAPE_MISMATCH", message, { field: "positions", expected: batch, got: list.length });
  }
  for (const s of list) {
    if (!Number.isInteger(s) || s < 0) {
      const message = `${who}: a row start must be an integer ≥ 0, got ${s}`;
      throw new SaeError("CONFIG_INVALID", message, { field: "positions", got: s });
    }
  }
  return list;
}

/** Checks a steering positions value at construction time (so a bad one fails before any forward pass). */
export function checkSteeringPositions(positions: SteeringPositions, who: string): void {
  const valid =
    positions === "all" ||
    (typeof positions === "object" && positions !== null && ("fromPosition" in positions || "from" in positions));
  if (!valid || (typeof positions === "object" && "from" in positions && positions.from !== "generated")) {
    const message = `${who}: positions must be "all", { fromPosition } or { from: "generated", promptLengths }, got ${JSON.stringify(positions)}`;
    throw new SaeError("CONFIG_INVALID", message, { field: "positions", got: positions });
  }
}

/**
 * The rows of a [batch, seq, d] hook tensor to act on, as flat row indices b*seq + s (real tokens at or after
 * their row's start).
 */
export function targetRows(positions: SteeringPositions, call: SteeringCall, who: string): number[] {
  const starts = firstPositions(positions, call.batch, who);
  const rows: number[] = [];
  for (let b = 0; b < call.batch; b++) {
    for (let s = 0; s < call.seq; s++) {
      const at = b * call.seq + s;
      if (call.attentionMask[at] === 1 && call.positionIds[at]! >= starts[b]!) rows.push(at);
    }
  }
  return rows;
}

/**
 * Adds `rowValues` [targets.length, width] to rows `targets` of the device tensor t [..., width] in place: one
 * upload of a [rows, width] delta that is zero elsewhere, and one `add` on the device.
 */
export function addRowsOnDevice(t: Tensor, targets: readonly number[], rowValues: Float32Array, width: number): void {
  const delta = new Float32Array(t.size); // [batch*seq, width]
  for (const [j, r] of targets.entries()) delta.set(rowValues.subarray(j * width, (j + 1) * width), r * width);
  add(t, toDevice(new Tensor("f32", t.shape, delta)), t);
}

/** The width of a hook tensor's last axis, checked against what the hook was built for. */
export function checkWidth(t: Tensor, width: number, who: string): void {
  const last = t.shape[t.shape.length - 1];
  if (last !== width || t.dtype !== "f32") {
    const message = `${who}: the hook tensor is ${t.dtype} [${t.shape.join(", ")}]; expected f32 with last axis ${width}`;
    throw new SaeError("D_IN_MISMATCH", message, { expected: width, got: last });
  }
}
