import { CHATML_MARKERS, type TurnMarkers } from "./locate-turns.ts";

/**
 * Llama 3 / 3.1 / 3.2 instruct: `<|start_header_id|>role<|end_header_id|>\n\n … <|eot_id|>` (no newline after the
 * end marker), `<|begin_of_text|>` first. The header is the role and `<|end_header_id|>\n\n`.
 */
export const LLAMA3_MARKERS: TurnMarkers = Object.freeze({
  turnStart: "<|start_header_id|>",
  turnEnd: "<|eot_id|>",
  headerEnd: "<|end_header_id|>\n\n",
  bosToken: "<|begin_of_text|>",
  specials: Object.freeze([
    "<|begin_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "<|end_of_text|>",
    "\n",
    "\n\n",
  ]),
});

/**
 * Gemma (2, 3): `<start_of_turn>user\n … <end_of_turn>\n`, the assistant's header says "model", `<bos>` first. No
 * system role: Gemma 3's template writes a system message's content at the start of the first user turn, followed
 * by "\n\n" (Gemma 2's refuses a system message).
 */
export const GEMMA_MARKERS: TurnMarkers = Object.freeze({
  turnStart: "<start_of_turn>",
  turnEnd: "<end_of_turn>",
  roleNames: Object.freeze({ model: "assistant" }),
  bosToken: "<bos>",
  specials: Object.freeze(["<bos>", "<start_of_turn>", "<end_of_turn>", "<eos>", "\n", "\n\n"]),
});

/** The turn layout a template's source writes: Llama 3's header blocks, Gemma's turns, else ChatML. */
export function detectTurnMarkers(templateSource: string): TurnMarkers {
  if (templateSource.includes(LLAMA3_MARKERS.turnStart) && templateSource.includes(LLAMA3_MARKERS.turnEnd))
    return LLAMA3_MARKERS;
  if (templateSource.includes(GEMMA_MARKERS.turnStart) && templateSource.includes(GEMMA_MARKERS.turnEnd))
    return GEMMA_MARKERS;
  return CHATML_MARKERS;
}
