/**
 * Byte-level BPE token strings (GPT-2, Qwen, Llama 3: "Ġworld", "æĹħ…") shown as the text they stand for. GPT-2's
 * byte → character map: printable Latin-1 bytes stand for themselves, every other byte b for U+0100 + (its index
 * among those bytes). A token that uses other characters, or whose bytes are not UTF-8 (a piece of a multi-byte
 * character, or a SentencePiece token such as "▁café"), is returned unchanged.
 */
const CHAR_TO_BYTE: ReadonlyMap<number, number> = (() => {
  const map = new Map<number, number>();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    map.set(printable ? b : 256 + n++, b);
  }
  return map;
})();

export function readableToken(token: string): string {
  const bytes: number[] = [];
  for (const ch of token) {
    const b = CHAR_TO_BYTE.get(ch.codePointAt(0)!);
    if (b === undefined) return token;
    bytes.push(b);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return token;
  }
}
