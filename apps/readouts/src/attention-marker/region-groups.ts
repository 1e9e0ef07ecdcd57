/**
 * The region group (records.ts: REGION_GROUPS) of every key of one sequence, promptIds ++ generatedIds, under
 * segmentations A and B. Attention is causal, so a readout at position t only puts mass on keys 0 … t: one array per
 * sequence serves every readout position, and "assistantPrefix = generated keys ≤ t" needs no per-t copy.
 */
import type { ChatTokens, Region } from "@difflens/chat";
import { ReadoutsError } from "../errors.ts";
import { type Generation, REGION_GROUPS, type RegionGroup } from "./records.ts";

/** Group index (into REGION_GROUPS) of each position of the sequence, per segmentation. // [seq] each */
export interface KeyGroups {
  readonly A: Uint8Array;
  readonly B: Uint8Array;
}

const GROUP = Object.fromEntries(REGION_GROUPS.map((g, i) => [g, i])) as Record<RegionGroup, number>;

/**
 * `chat` is the generation's prompt rendered by `personaPrompt`; it must tokenize to exactly `promptIds` (else the
 * template or the tokenizer changed since stage 1, and the regions would label the wrong tokens).
 */
export function keyGroups(chat: ChatTokens, generation: Generation): KeyGroups {
  assertSamePrompt(chat, generation);
  const promptLength = generation.promptIds.length;
  const length = promptLength + generation.generatedIds.length;
  const groupsOf = (segmentation: "A" | "B"): Uint8Array => {
    const seg = segmentation === "A" ? chat.segmentationA : chat.segmentationB;
    const regionGroup = seg.regions.map(groupOfRegion);
    const out = new Uint8Array(length).fill(GROUP.assistantPrefix);
    for (let k = 0; k < promptLength; k++) out[k] = regionGroup[seg.regionOf[k]!]!;
    if (segmentation === "B") {
      generation.generatedIds.forEach((id, i) => {
        if (chat.specialIds.has(id)) out[promptLength + i] = GROUP.specials;
      });
    }
    return out;
  };
  return { A: groupsOf("A"), B: groupsOf("B") };
}

function groupOfRegion(region: Region): number {
  if (region.kind === "specials") return GROUP.specials;
  if (region.kind === "content" && region.role === "system") return GROUP.system;
  if (region.kind === "content" && region.role === "user") return GROUP.user;
  return GROUP.template;
}

function assertSamePrompt(chat: ChatTokens, generation: Generation): void {
  const saved = generation.promptIds;
  let first = chat.ids.length === saved.length ? -1 : Math.min(chat.ids.length, saved.length);
  for (let i = 0; i < Math.min(chat.ids.length, saved.length) && first < 0; i++) {
    if (chat.ids[i] !== saved[i]) first = i;
  }
  if (first < 0) return;
  throw new ReadoutsError(
    "INPUT_INVALID",
    `the prompt of ${generation.persona} seed ${generation.runSeed} trial ${generation.trial} renders to other tokens ` +
      `than stage 1 saved (first difference at token ${first}): the chat template or the tokenizer changed`,
    {
      field: "promptIds",
      expected: `${saved.length} tokens as saved`,
      got: `${chat.ids.length} tokens, [${first}] = ${chat.ids[first] ?? "end"} vs saved ${saved[first] ?? "end"}`,
      fix: "rerun stage 1 (generate) with this model folder, or read with the template and tokenizer it used",
    },
  );
}
