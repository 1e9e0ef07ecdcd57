import { ChatError } from "./errors.ts";
import type { RenderedChat } from "./render-chat.ts";

/**
 * What part of the chat a region is.
 * - `header`: a turn's role name and the newline after it.
 * - `content`: a message's content (or, for a turn the template inserted, the text between header and end marker).
 * - `structural`: the rest of a turn: `<|im_start|>`, `<|im_end|>`, the newline after it.
 * - `generation-prompt`: the open assistant header after the last turn.
 * - `outside`: template text in no turn (e.g. a BOS string some templates write first).
 * - `specials`: segmentation B only: every token whose id is in the specials list, wherever it occurs.
 */
export type RegionKind = "header" | "content" | "structural" | "generation-prompt" | "outside" | "specials";

/** A set of token positions with what they are. */
export interface Region {
  index: number;
  /** Stable readable name: `system[0].content`, `user[1].header`, `generation-prompt`, `specials`. */
  name: string;
  kind: RegionKind;
  /** The turn it belongs to (index into `turns`), or null. */
  turnIndex: number | null;
  /** The role its turn's header names (through the layout's roleNames), or null; "system" for a folded system prompt. */
  role: string | null;
  /** For content regions of a message: the message index (into `RenderedChat.messages`); else null. */
  messageIndex: number | null;
  /** True for regions of a turn the template inserted by itself. */
  inserted: boolean;
  /**
   * True for a system message's content written inside another role's turn (Gemma has no system role: the system
   * prompt opens the first user turn). Named `<turn>.folded-system`, role "system", kind "content".
   */
  folded: boolean;
  /** Token positions in this region, increasing. // [count] */
  positions: Int32Array;
}

/** A partition of all token positions into regions. */
export interface Segmentation {
  name: "A" | "B";
  regions: readonly Region[];
  /** Region index of each token. // [seq] */
  regionOf: Int32Array;
}

type RegionTemplate = Omit<Region, "index" | "positions">;

/**
 * Segmentation A: each token belongs to the region where its first character lies — so a BPE token straddling a
 * boundary (the header's "\n" merged with a content that starts with "\n") belongs to the region where it starts.
 */
export function segmentationA(rendered: RenderedChat, offsets: ReadonlyArray<readonly [number, number]>): Segmentation {
  const templates: RegionTemplate[] = [];
  const charRegion = new Int32Array(rendered.text.length).fill(-1);
  const add = (t: RegionTemplate, spans: ReadonlyArray<{ start: number; end: number }>) => {
    const index = templates.length;
    templates.push(t);
    for (const s of spans) charRegion.fill(index, s.start, s.end);
  };
  const roleCount = new Map<string, number>();
  for (const turn of rendered.turns) {
    const ordinal = roleCount.get(turn.role) ?? 0;
    roleCount.set(turn.role, ordinal + 1);
    const base = { turnIndex: turn.index, role: turn.role, inserted: turn.inserted, folded: false };
    const prefix = `${turn.role}[${ordinal}]`;
    add({ ...base, name: `${prefix}.structural`, kind: "structural", messageIndex: null }, [turn.span]);
    add({ ...base, name: `${prefix}.header`, kind: "header", messageIndex: null }, [turn.header]);
    if (turn.inserted) {
      add({ ...base, name: `${prefix}.content`, kind: "content", messageIndex: null }, [turn.content]);
    } else {
      const isFolded = (m: number) => rendered.messages[m]?.role === "system" && turn.role !== "system";
      const own = turn.messageIndices.filter((m) => !isFolded(m));
      for (const m of turn.messageIndices) {
        const span = [rendered.contentSpans[m]!];
        if (isFolded(m)) {
          const folded = { ...base, role: "system", folded: true };
          add({ ...folded, name: `${prefix}.folded-system`, kind: "content", messageIndex: m }, span);
        } else {
          const suffix = own.length > 1 ? `#${own.indexOf(m)}` : "";
          add({ ...base, name: `${prefix}.content${suffix}`, kind: "content", messageIndex: m }, span);
        }
      }
    }
  }
  if (rendered.generationPrompt !== null) {
    add(
      {
        name: "generation-prompt",
        kind: "generation-prompt",
        turnIndex: null,
        role: null,
        messageIndex: null,
        inserted: false,
        folded: false,
      },
      [rendered.generationPrompt],
    );
  }
  if (charRegion.includes(-1)) {
    const outside = templates.length;
    templates.push({
      name: "outside",
      kind: "outside",
      turnIndex: null,
      role: null,
      messageIndex: null,
      inserted: false,
      folded: false,
    });
    for (let i = 0; i < charRegion.length; i++) if (charRegion[i] === -1) charRegion[i] = outside;
  }
  const regionOf = new Int32Array(offsets.length);
  offsets.forEach(([start], t) => {
    regionOf[t] = charRegion[Math.min(start, rendered.text.length - 1)] as number;
  });
  return finish("A", templates, regionOf);
}

/**
 * Segmentation B (seed 001): tokens whose id is in `specialIds` form one `specials` region wherever they occur,
 * content included; every other token keeps its segmentation-A region. A's regions keep their indices.
 */
export function segmentationB(a: Segmentation, ids: Int32Array, specialIds: ReadonlySet<number>): Segmentation {
  const templates: RegionTemplate[] = a.regions.map(({ index: _i, positions: _p, ...rest }) => rest);
  const specials = templates.length;
  templates.push({
    name: "specials",
    kind: "specials",
    turnIndex: null,
    role: null,
    messageIndex: null,
    inserted: false,
    folded: false,
  });
  const regionOf = Int32Array.from(a.regionOf);
  ids.forEach((id, t) => {
    if (specialIds.has(id)) regionOf[t] = specials;
  });
  return finish("B", templates, regionOf);
}

function finish(name: "A" | "B", templates: RegionTemplate[], regionOf: Int32Array): Segmentation {
  const counts = new Int32Array(templates.length);
  for (const r of regionOf) counts[r] = (counts[r] as number) + 1;
  const positions = templates.map((_, r) => new Int32Array(counts[r] as number));
  const fill = new Int32Array(templates.length);
  regionOf.forEach((r, t) => {
    (positions[r] as Int32Array)[fill[r] as number] = t;
    fill[r] = (fill[r] as number) + 1;
  });
  const segmentation: Segmentation = {
    name,
    regions: templates.map((t, index) => ({ ...t, index, positions: positions[index] as Int32Array })),
    regionOf,
  };
  assertPartition(segmentation);
  return segmentation;
}

/** Throws PARTITION_VIOLATION unless every position lies in exactly one region and the two views agree. */
export function assertPartition(segmentation: Segmentation): void {
  const n = segmentation.regionOf.length;
  const seen = new Uint8Array(n);
  let total = 0;
  for (const region of segmentation.regions) {
    let previous = -1;
    for (const p of region.positions) {
      if (p <= previous || p < 0 || p >= n || seen[p] === 1 || segmentation.regionOf[p] !== region.index) {
        throw new ChatError("PARTITION_VIOLATION", `segmentation ${segmentation.name}: position ${p} is misfiled`, {
          got: `region ${region.name}`,
        });
      }
      seen[p] = 1;
      previous = p;
      total++;
    }
  }
  if (total !== n) {
    throw new ChatError("PARTITION_VIOLATION", `segmentation ${segmentation.name} covers ${total} of ${n} positions`);
  }
}
