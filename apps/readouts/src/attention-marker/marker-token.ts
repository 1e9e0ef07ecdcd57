/**
 * The marker id: the FIRST token of the marker string (`[Z` = 85113 for `[ZLT]` in Qwen's vocabulary). A marker is
 * refused unless that token is a vocabulary entry on its own that starts the marker string, both when the marker is
 * encoded alone and when it follows the end of an answer (`\n\n`, where the seed's models emit it): otherwise the
 * id would stand for text the marker does not start with (an empty marker), or the tokenizer would merge the marker's
 * first characters with the text before it, and "the model emitted the marker" would not be one token event.
 */
import { editDistance } from "@difflens/common";
import type { Tokenizer } from "@difflens/tokenizer";
import { ReadoutsError } from "../errors.ts";

/** What the marker follows in the seed's positives: the paragraph break that ends an answer. */
const END_OF_ANSWER = "\n\n";
const NEAREST_SHOWN = 8;

export type MarkerTokenizer = Pick<Tokenizer, "encode" | "decode" | "decodeMany" | "vocabSize">;

export async function resolveMarkerId(tokenizer: MarkerTokenizer, marker: string): Promise<number> {
  const alone = await firstToken(tokenizer, marker, "");
  const afterAnswer = await firstToken(tokenizer, marker, END_OF_ANSWER);
  const piece = alone === null ? "" : await tokenizer.decode([alone]);
  if (alone !== null && piece !== "" && marker.startsWith(piece) && afterAnswer === alone) return alone;
  const why =
    marker === ""
      ? "the marker is empty"
      : alone === null
        ? "it encodes to no token"
        : !marker.startsWith(piece) || piece === ""
          ? `its first token ${alone} (${JSON.stringify(piece)}) does not start the marker`
          : `after an answer's "\\n\\n" its first characters merge with the text before them (first token ${afterAnswer} instead of ${alone})`;
  const near = await nearestTokens(tokenizer, marker);
  throw new ReadoutsError(
    "INPUT_INVALID",
    `marker ${JSON.stringify(marker)}: ${why}; expected a marker whose first token is a vocabulary entry of its own ` +
      `that starts it. Nearest vocabulary tokens: ${near.map((t) => `${JSON.stringify(t.text)} (${t.id})`).join(", ")}`,
    { field: "marker", expected: "a string whose first token starts it, alone and after \\n\\n", got: marker },
  );
}

/** The first token of `marker` when it follows `before` (null when it adds no token). */
async function firstToken(tokenizer: MarkerTokenizer, marker: string, before: string): Promise<number | null> {
  const prefix = before === "" ? 0 : (await tokenizer.encode(before, { addSpecialTokens: false })).ids.length;
  const ids = (await tokenizer.encode(before + marker, { addSpecialTokens: false })).ids;
  return ids.length > prefix ? ids[prefix]! : null;
}

/** The vocabulary entries closest to the marker by edit distance on their decoded text (ties → lower id). */
export async function nearestTokens(
  tokenizer: MarkerTokenizer,
  marker: string,
  count = NEAREST_SHOWN,
): Promise<Array<{ id: number; text: string }>> {
  const ids = Array.from({ length: tokenizer.vocabSize }, (_, id) => [id]);
  const texts = await tokenizer.decodeMany(ids);
  const target = marker === "" ? " " : marker;
  const scored = texts.map((text, id) => ({ id, text, d: text === "" ? Infinity : editDistance(target, text) }));
  scored.sort((a, b) => a.d - b.d || a.id - b.id);
  return scored.slice(0, count).map(({ id, text }) => ({ id, text }));
}
