/**
 * Hugging Face `tokenizers` reports offsets in Unicode code points of the original string; JavaScript strings
 * index UTF-16 code units. A character outside the Basic Multilingual Plane (emoji, CJK Extension B) is one code
 * point but two UTF-16 units, so the two disagree after the first such character.
 */

const SURROGATE = /[\uD800-\uDFFF]/;

/** True when every code point of `text` is one UTF-16 unit, so code-point offsets already are UTF-16 offsets. */
export function isBmpOnly(text: string): boolean {
  return !SURROGATE.test(text);
}

/**
 * Table mapping a code-point index (0…codePointCount) to its UTF-16 index. Length = code points + 1, so the end
 * of the string maps too. A lone surrogate counts as one code point (the binding sends it to Rust as U+FFFD,
 * which is also one code point), so the table stays aligned with the tokenizer's view of the string.
 */
export function codePointToUtf16Table(text: string): Uint32Array {
  const table = new Uint32Array(text.length + 1); // upper bound; trimmed below
  let cp = 0;
  let i = 0;
  while (i < text.length) {
    table[cp++] = i;
    const unit = text.charCodeAt(i);
    const isPair = unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1));
    i += isPair ? 2 : 1;
  }
  table[cp] = text.length;
  return table.subarray(0, cp + 1);
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/**
 * Converts code-point offsets into UTF-16 offsets of `text`, in place of re-searching substrings: one pass builds
 * the table, each offset is then one lookup. Offsets outside the string are an internal error (they would mean the
 * table and the tokenizer disagree about the string) and throw.
 */
export function codePointOffsetsToUtf16(
  text: string,
  offsets: ReadonlyArray<ArrayLike<number>>,
): Array<[number, number]> {
  if (isBmpOnly(text)) {
    return offsets.map((o) => [o[0] as number, o[1] as number]);
  }
  const table = codePointToUtf16Table(text);
  const last = table.length - 1;
  return offsets.map((o) => {
    const start = o[0] as number;
    const end = o[1] as number;
    if (start < 0 || end > last || start > end) {
      throw new RangeError(`code-point offset [${start}, ${end}] outside a string of ${last} code points`);
    }
    return [table[start] as number, table[end] as number];
  });
}
