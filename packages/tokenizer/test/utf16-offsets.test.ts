import { describe, expect, it } from "vitest";
import { codePointOffsetsToUtf16, codePointToUtf16Table } from "../src/utf16-offsets.ts";

describe("codePointToUtf16Table", () => {
  const cases: Array<[string, string, number[]]> = [
    ["ascii", "abc", [0, 1, 2, 3]],
    ["emoji (astral)", "a😀b", [0, 1, 3, 4]],
    ["astral CJK", "𠀀𠀁x", [0, 2, 4, 5]],
    ["combining mark (BMP)", "e\u0301", [0, 1, 2]],
    ["ZWJ family", "👨\u200d👩", [0, 2, 3, 5]],
    ["lone high surrogate counts as one code point", "x\ud800y", [0, 1, 2, 3]],
    ["lone low surrogate", "\udc00😀", [0, 1, 3]],
    ["empty", "", [0]],
  ];
  it.each(cases)("%s", (_name, text, expected) => {
    expect(Array.from(codePointToUtf16Table(text))).toEqual(expected);
    // independent count: Array.from iterates by code point
    expect(codePointToUtf16Table(text).length).toBe(Array.from(text).length + 1);
  });
});

describe("codePointOffsetsToUtf16", () => {
  it("maps every code-point span to the same substring Array.from sees", () => {
    const text = "héllo 😀 世界 𠀀 👩‍👩‍👧 x";
    const points = Array.from(text);
    const offsets = points.map((_, i) => [i, i + 1] as [number, number]);
    const converted = codePointOffsetsToUtf16(text, offsets);
    for (const [i, [s, e]] of converted.entries()) expect(text.slice(s, e)).toBe(points[i]);
  });
  it("rejects offsets past the string", () => {
    expect(() => codePointOffsetsToUtf16("a😀", [[0, 3]])).toThrow(RangeError);
  });
});
