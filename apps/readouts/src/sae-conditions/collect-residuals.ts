/**
 * One forward pass per (condition, prompt), batched (items of similar length together, left-padded), keeping only
 * the hooks of the asked layers at each item's readout positions; the pass stops after the deepest kept hook
 * (runtime `runWithCache` with `logits: "none"`), so nothing past the last asked layer is computed.
 */
import { ProgressBar } from "@difflens/common";
import type { Model } from "@difflens/runtime";
import type { ConditionChats } from "./condition-chats.ts";

/** Residual rows of one layer at the readout positions, item by item (item = condition c, prompt p: c·P + p). */
export interface ReadoutRows {
  /** [tokens, d] every readout token of every item, items in order. */
  readonly data: Float32Array;
  /** Item i's rows are start[i] .. start[i+1]. // [items + 1] */
  readonly start: Int32Array;
  readonly d: number;
}

export interface CollectOptions {
  readonly batchSize: number;
  /** Progress bar label; null for none. */
  readonly label?: string | null;
}

export async function collectResiduals(
  model: Model,
  conditions: readonly ConditionChats[],
  hooks: Readonly<Record<number, string>>,
  options: CollectOptions,
): Promise<Record<number, ReadoutRows>> {
  const items = conditions.flatMap((c) => c.chats.map((chat, p) => ({ ids: chat.ids, positions: c.positions[p]! })));
  const start = new Int32Array(items.length + 1);
  items.forEach((item, i) => {
    start[i + 1] = start[i]! + item.positions.length;
  });
  const d = model.config.dModel;
  const layers = Object.keys(hooks).map(Number);
  const data = Object.fromEntries(layers.map((l) => [l, new Float32Array(start[items.length]! * d)]));
  const order = items.map((_, i) => i).sort((a, b) => items[a]!.ids.length - items[b]!.ids.length);
  const bar =
    options.label === null
      ? null
      : new ProgressBar({ label: options.label ?? "forward", total: items.length, unit: "items" });
  const names = layers.map((l) => hooks[l]!);
  for (let b0 = 0; b0 < order.length; b0 += options.batchSize) {
    const rows = order.slice(b0, b0 + options.batchSize);
    const longest = Math.max(...rows.map((i) => items[i]!.ids.length));
    const ids = rows.map((i) => padLeft(items[i]!.ids, longest));
    const attentionMask = rows.map((i) => padLeft(new Int32Array(items[i]!.ids.length).fill(1), longest));
    const perRow = rows.map((i) => items[i]!.positions);
    const { cache } = await model.runWithCache(
      { ids, attentionMask },
      { names, positions: { perRow }, logits: "none" },
    );
    rows.forEach((item, r) => {
      for (const layer of layers) {
        const kept = cache.item(r, hooks[layer]!).data as Float32Array; // [1, nPos, d]
        data[layer]!.set(kept, start[item]! * d);
      }
    });
    bar?.update(Math.min(b0 + rows.length, order.length));
  }
  bar?.done(items.length);
  return Object.fromEntries(layers.map((l) => [l, { data: data[l]!, start, d }]));
}

function padLeft(ids: Int32Array, length: number): number[] {
  const out = new Array<number>(length - ids.length).fill(0);
  for (const id of ids) out.push(id);
  return out;
}

/** Per-item mean over its readout rows. → [items, d] */
export function meanPerItem(rows: ReadoutRows): Float32Array {
  const items = rows.start.length - 1;
  const out = new Float32Array(items * rows.d);
  for (let i = 0; i < items; i++) {
    const n = rows.start[i + 1]! - rows.start[i]!;
    for (let t = rows.start[i]!; t < rows.start[i + 1]!; t++) {
      for (let k = 0; k < rows.d; k++) out[i * rows.d + k]! += rows.data[t * rows.d + k]! / n;
    }
  }
  return out;
}

/**
 * Readout `r`'s rows out of the rows one forward pass kept for every readout (`ConditionChats.positions`, the union):
 * the same rows when the readout is the union, else a copy of its own.
 */
export function selectReadout(rows: ReadoutRows, conditions: readonly ConditionChats[], r: number): ReadoutRows {
  const kept = conditions.flatMap((c) => c.positions);
  const wanted = conditions.flatMap((c) => c.readouts[r]!.positions);
  if (wanted.every((w, i) => w.length === kept[i]!.length)) return rows;
  const d = rows.d;
  const start = new Int32Array(wanted.length + 1);
  wanted.forEach((w, i) => {
    start[i + 1] = start[i]! + w.length;
  });
  const data = new Float32Array(start[wanted.length]! * d);
  wanted.forEach((w, i) => {
    w.forEach((position, t) => {
      const from = rows.start[i]! + kept[i]!.indexOf(position);
      data.set(rows.data.subarray(from * d, (from + 1) * d), (start[i]! + t) * d);
    });
  });
  return { data, start, d };
}
