/**
 * Paired harvest: the same token windows through the base and the chat model at one hook, written once as a
 * paired activation store (paired-store.ts). Both models see the same batch, so one keep mask chooses the rows of
 * both: the masks are shared by construction, and the rows are checked to agree anyway.
 */
import { batchWindows, type TokenWindow } from "@difflens/data";
import { harvest, type Model } from "@difflens/runtime";
import { checkPairedBatch, type PairNames, SaeError } from "@difflens/sae";
import type { Tensor } from "@difflens/tensor";
import { type PairedStoreManifest, PairedStoreWriter } from "./paired-store.ts";

/** A window, optionally with its region labels (chat windows) so the assistant turn can be found. */
export interface PairedWindow extends TokenWindow {
  readonly regions?: readonly string[];
}

export interface PairedHarvestOptions {
  readonly base: Model;
  readonly chat: Model;
  /** Names of the two models in the store and in errors. */
  readonly names: PairNames;
  readonly hook: string;
  readonly windows: AsyncIterable<PairedWindow>;
  readonly windowsPerForward: number;
  /** Store folder (must not hold a store yet). */
  readonly outDir: string;
  readonly dataset: string;
  readonly shardRows?: number;
  /**
   * Start of the assistant turn's content in a window, or null when it has none. Default: the first position
   * whose region label is `assistant:content`; windows without labels have none.
   */
  readonly assistantStart?: (window: PairedWindow) => number | null;
}

/** The first position after the last occurrence of `marker` (e.g. the ids of `<|im_start|>assistant\n`). */
export function assistantStartAfter(marker: readonly number[]): (window: PairedWindow) => number | null {
  return (w) => {
    const length = w.length ?? w.ids.length;
    for (let s = length - marker.length; s >= 0; s--)
      if (marker.every((id, i) => w.ids[s + i] === id)) return s + marker.length < length ? s + marker.length : null;
    return null;
  };
}

function assistantFromRegions(w: PairedWindow): number | null {
  const i = w.regions?.indexOf("assistant:content") ?? -1;
  return i >= 0 ? i : null;
}

/** Width of a model at the hook. */
function hookWidth(model: Model, hook: string): number {
  return model
    .hookShape(hook, 1, 1)
    .slice(2)
    .reduce((a, b) => a * b, 1);
}

/** Harvests both models on the same windows into a paired store; returns its manifest. */
export async function pairedHarvest(opts: PairedHarvestOptions): Promise<PairedStoreManifest> {
  const { names, hook } = opts;
  const [dBase, dChat] = [hookWidth(opts.base, hook), hookWidth(opts.chat, hook)];
  if (dBase !== dChat)
    throw new SaeError(
      "D_IN_MISMATCH",
      `paired harvest at ${hook}: ${names.base} has width ${dBase} but ${names.chat} has ${dChat}; the pair must share the hook's width`,
      { expected: dBase, got: dChat, field: "dIn" },
    );
  const writer = new PairedStoreWriter(
    opts.outDir,
    { hook, dIn: dBase, base: names.base, chat: names.chat, dataset: opts.dataset },
    opts.shardRows,
  );
  const startOf = opts.assistantStart ?? assistantFromRegions;
  let windowIndex = 0;
  let pending: PairedWindow[] = [];
  const flush = async () => {
    const group = pending;
    pending = [];
    const tokens = await first(batchWindows(toAsync(group), group.length));
    const [b, c] = [await only(harvest(opts.base, hook, [tokens])), await only(harvest(opts.chat, hook, [tokens]))];
    const record = rowRecord(group, windowIndex, startOf);
    windowIndex += group.length;
    if (b === null && c === null && record.window.length === 0) return;
    if (b === null || c === null)
      throw new SaeError(
        "SHAPE_MISMATCH",
        `paired harvest: ${b === null ? names.base : names.chat} kept no row of windows ${windowIndex - group.length}… while the other did`,
      );
    checkPairedBatch({ base: b, chat: c }, dBase, windowIndex, names);
    if (b.shape[0] !== record.window.length)
      throw new SaeError(
        "SHAPE_MISMATCH",
        `paired harvest: ${b.shape[0]} rows came back for ${record.window.length} kept positions (windows ${windowIndex - group.length}…)`,
      );
    await writer.append({ rows: b.shape[0]!, base: b.data as Float32Array, chat: c.data as Float32Array, ...record });
  };
  for await (const w of opts.windows) {
    pending.push(w);
    if (pending.length === opts.windowsPerForward) await flush();
  }
  if (pending.length > 0) await flush();
  return writer.finish();
}

/** Which window, column and assistant offset each kept row is, in harvest's row order (row-major, masked). */
function rowRecord(group: PairedWindow[], firstWindow: number, startOf: (w: PairedWindow) => number | null) {
  const window: number[] = [],
    position: number[] = [],
    offset: number[] = [];
  group.forEach((w, i) => {
    const length = w.length ?? w.ids.length;
    const start = startOf(w);
    for (let p = 0; p < length; p++) {
      if (w.mask[p] === 0) continue;
      window.push(firstWindow + i);
      position.push(p);
      offset.push(start !== null && p >= start ? p - start : -1);
    }
  });
  return {
    window: Int32Array.from(window),
    position: Int32Array.from(position),
    assistantOffset: Int32Array.from(offset),
  };
}

async function* toAsync<T>(xs: T[]): AsyncGenerator<T> {
  yield* xs;
}

async function first<T>(it: AsyncIterable<T>): Promise<T> {
  for await (const x of it) return x;
  throw new Error("unreachable: batchWindows of a non-empty group yields a batch");
}

/** The one batch harvest yields for one token batch, or null when no row was kept. */
async function only(source: AsyncIterable<Tensor>): Promise<Tensor | null> {
  let out: Tensor | null = null;
  for await (const t of source) out = t;
  return out;
}
