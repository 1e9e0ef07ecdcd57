/**
 * Stage 2's measurement: the attention mass from each stratum's readout position onto each region group, per layer
 * and head (f32 softmax: the runtime's `hook_pattern`), under segmentations A and B.
 *
 * One forward pass per batch of sequences (left-padded, items of similar length together). A hook on each asked
 * layer's `hook_pattern` sums the rows of the readout positions into groups while the forward runs, so nothing of
 * size [heads, seq, seq] outlives its layer (memory O(layers · heads · groups) per example); the pass stops after the
 * deepest asked layer (`runWithCache` with `logits: "none"`), and each sequence is cut after its last readout
 * position (causal attention: later tokens change nothing before them).
 */
import { createHash } from "node:crypto";
import type { ChatTokens } from "@difflens/chat";
import { ProgressBar } from "@difflens/common";
import { type HookContext, leftPad, type Model } from "@difflens/runtime";
import { type Tensor, toHost } from "@difflens/tensor";
import { ReadoutsError } from "../errors.ts";
import {
  type ExampleReadout,
  fractionIndex,
  type Generation,
  REGION_GROUPS,
  type ReadoutModel,
  STRATA,
  type Stratum,
} from "./records.ts";
import { type KeyGroups, keyGroups } from "./region-groups.ts";

/** One sequence to read: its generation, its prompt as `personaPrompt` renders it, and the positions to read. */
export interface ReadoutItem {
  readonly generation: Generation;
  readonly chat: ChatTokens;
  readonly positions: Readonly<Record<Stratum, number | null>>;
  readonly model: ReadoutModel;
}

export interface ReadAttentionOptions {
  /** Layers read, in the order the fraction arrays hold them. */
  readonly layers: readonly number[];
  /** Sequences per forward pass. */
  readonly batchSize: number;
  /** Largest allowed |Σ groups − 1| per (layer, head, stratum, segmentation). */
  readonly partitionTolerance: number;
  /** Progress bar label; null for none. */
  readonly label?: string | null;
}

/** An ExampleReadout plus the fingerprint of the exact tokens fed (how the force-feed proves it replayed them). */
export interface AttentionReadout extends ExampleReadout {
  /** sha256 (hex, 16 chars) of the int32 token ids the forward pass saw for this sequence. */
  readonly fedTokens: string;
}

const G = REGION_GROUPS.length;

export async function readAttention(
  model: Model,
  items: readonly ReadoutItem[],
  options: ReadAttentionOptions,
): Promise<AttentionReadout[]> {
  const { nLayers, nHeads: H } = model.config;
  const layers = options.layers;
  const bad = (l: number) => !Number.isInteger(l) || l < 0 || l >= nLayers;
  if (layers.length === 0 || layers.some(bad) || new Set(layers).size !== layers.length) {
    throw new ReadoutsError("INPUT_INVALID", `readout layers [${layers.join(", ")}] are not layers of this model`, {
      field: "readout.layers",
      expected: `distinct integers in [0, ${nLayers})`,
      got: `[${layers.join(", ")}]`,
    });
  }
  const prepared = items.map((item) => prepare(item, H, layers.length));
  const readable = prepared.map((_, i) => i).filter((i) => prepared[i]!.asked.length > 0);
  readable.sort((a, b) => prepared[a]!.ids.length - prepared[b]!.ids.length);
  const bar =
    options.label === null
      ? null
      : new ProgressBar({ label: options.label ?? "attention", total: readable.length, unit: "seq" });
  const deepest = `blocks.${Math.max(...layers)}.attn.hook_pattern`;
  for (let b0 = 0; b0 < readable.length; b0 += options.batchSize) {
    const rows = readable.slice(b0, b0 + options.batchSize).map((i) => prepared[i]!);
    const { ids, attentionMask } = leftPad(rows.map((r) => r.ids));
    const width = ids[0]!.length;
    const hooks = Object.fromEntries(
      layers.map((layer, li) => [
        `blocks.${layer}.attn.hook_pattern`,
        // reads the pattern's values: on a device they are read back first (the forward waits for it)
        (pattern: Tensor, ctx: HookContext) =>
          pattern.device === "cpu"
            ? sumIntoGroups(pattern, ctx, rows, li, H)
            : toHost(pattern).then((host) => sumIntoGroups(host, ctx, rows, li, H)),
      ]),
    );
    const perRow = rows.map((r) => r.asked);
    await model.withHooks(hooks, () =>
      model.runWithCache({ ids, attentionMask }, { names: [deepest], positions: { perRow }, logits: "none" }),
    );
    rows.forEach((r, b) => {
      r.fedTokens = fingerprint(ids[b]!.slice(width - r.ids.length));
    });
    bar?.update(Math.min(b0 + rows.length, readable.length));
  }
  bar?.done(readable.length);
  return prepared.map((p, i) => finish(p, items[i]!, layers, H, options.partitionTolerance));
}

interface Prepared {
  /** The sequence cut after its last readout position. */
  readonly ids: number[];
  readonly groups: KeyGroups;
  /** The strata read, with their positions (each ≤ ids.length − 1). */
  readonly read: ReadonlyArray<{ readonly stratum: Stratum; readonly position: number }>;
  /** Distinct positions read (the per-row query positions the pass keeps). */
  readonly asked: number[];
  /** Per stratum and segmentation: [layers, heads, groups] sums, f64. */
  readonly sums: Record<Stratum, { A: Float64Array; B: Float64Array }>;
  fedTokens: string;
}

function prepare(item: ReadoutItem, H: number, nLayers: number): Prepared {
  const g = item.generation;
  const full = [...g.promptIds, ...g.generatedIds];
  const read = STRATA.flatMap((stratum) => {
    const position = item.positions[stratum];
    if (position === null) return [];
    if (!Number.isInteger(position) || position < 0 || position >= full.length) {
      throw new ReadoutsError("INPUT_INVALID", `${describe(item)}: ${stratum} position ${position} is outside it`, {
        field: `positions.${stratum}`,
        expected: `an integer in [0, ${full.length})`,
        got: position,
      });
    }
    return [{ stratum, position }];
  });
  const last = Math.max(-1, ...read.map((r) => r.position));
  const size = nLayers * H * G;
  const sums = Object.fromEntries(
    STRATA.map((s) => [s, { A: new Float64Array(size), B: new Float64Array(size) }]),
  ) as Prepared["sums"];
  return {
    ids: full.slice(0, last + 1),
    groups: keyGroups(item.chat, g),
    read,
    asked: [...new Set(read.map((r) => r.position))],
    sums,
    fedTokens: "",
  };
}

/** Adds each row's readout rows of one layer's pattern [batch, heads, seq, seq] into its group sums. */
function sumIntoGroups(pattern: Tensor, ctx: HookContext, rows: readonly Prepared[], li: number, H: number): void {
  const data = pattern.data as Float32Array;
  const S = ctx.seq;
  const keys = pattern.shape[3]!;
  rows.forEach((row, b) => {
    const first = S - row.ids.length; // left padding: the row's token p sits at column first + p
    for (const { stratum, position } of row.read) {
      for (const seg of ["A", "B"] as const) {
        const groups = row.groups[seg];
        const sums = row.sums[stratum][seg];
        for (let h = 0; h < H; h++) {
          const at = ((b * H + h) * S + first + position) * keys + first;
          const out = fractionIndex(li, h, 0, H);
          for (let k = 0; k <= position; k++) sums[out + groups[k]!]! += data[at + k]!;
        }
      }
    }
  });
}

function finish(p: Prepared, item: ReadoutItem, layers: readonly number[], H: number, tolerance: number) {
  let partitionError = 0;
  const fractions = Object.fromEntries(
    STRATA.map((stratum) => {
      const read = item.positions[stratum] !== null;
      const pair = { A: new Float32Array(p.sums[stratum].A.length), B: new Float32Array(p.sums[stratum].B.length) };
      for (const seg of ["A", "B"] as const) {
        const sums = p.sums[stratum][seg];
        if (!read) pair[seg].fill(Number.NaN);
        else pair[seg].set(sums);
        for (let li = 0; read && li < layers.length; li++) {
          for (let h = 0; h < H; h++) {
            let total = 0;
            for (let g = 0; g < G; g++) total += sums[fractionIndex(li, h, g, H)]!;
            const deviation = Math.abs(total - 1);
            partitionError = Math.max(partitionError, deviation);
            if (!(deviation <= tolerance)) {
              throw new ReadoutsError(
                "PARTITION_VIOLATION",
                `${describe(item)}: the attention of head ${h} at layer ${layers[li]} from the ${stratum} position sums ` +
                  `to ${total} over the region groups of segmentation ${seg}`,
                { field: "readout.partitionTolerance", expected: `|Σ − 1| ≤ ${tolerance}`, got: deviation },
              );
            }
          }
        }
      }
      return [stratum, pair];
    }),
  ) as ExampleReadout["fractions"];
  const g = item.generation;
  return {
    persona: g.persona,
    runSeed: g.runSeed,
    trial: g.trial,
    questionIndex: g.questionIndex,
    model: item.model,
    positions: { ...item.positions },
    fractions,
    partitionError,
    fedTokens: p.fedTokens,
  };
}

function describe(item: ReadoutItem): string {
  const g = item.generation;
  return `${g.persona} seed ${g.runSeed} trial ${g.trial} (${item.model})`;
}

function fingerprint(ids: readonly number[]): string {
  return createHash("sha256")
    .update(new Uint8Array(Int32Array.from(ids).buffer))
    .digest("hex")
    .slice(0, 16);
}
