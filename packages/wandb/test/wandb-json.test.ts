import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseWandbJson, stringifyWandbJson } from "../src/wandb-json.ts";

// Written by python3 json.dumps (fixtures/python-json-reference.py): the dialect W&B's Python client sends.
const reference = JSON.parse(
  readFileSync(new URL("./fixtures/python-json-reference.json", import.meta.url), "utf8"),
) as { python: string }[];

describe("W&B JSON dialect", () => {
  it.each(reference.map((r, i) => [i, r.python]))(
    "case %i: parse(Python) then stringify reproduces Python's text",
    (_i, python) => {
      expect(stringifyWandbJson(parseWandbJson(python))).toBe(python);
    },
  );

  it("writes non-finite numbers as bare NaN / Infinity / -Infinity and reads them back", () => {
    const text = stringifyWandbJson({ a: Number.NaN, b: Infinity, c: -Infinity, d: "NaN" });
    expect(text).toBe('{"a":NaN,"b":Infinity,"c":-Infinity,"d":"NaN"}');
    const back = parseWandbJson(text) as Record<string, unknown>;
    expect(Number.isNaN(back["a"])).toBe(true);
    expect(back["b"]).toBe(Infinity);
    expect(back["c"]).toBe(-Infinity);
    expect(back["d"]).toBe("NaN");
  });

  it("agrees with JSON.parse on standard JSON", () => {
    const value = { x: [1, -0.5, 1e-7, 12345678901234], y: { z: null, w: false }, s: 'quote " and \\ and \n' };
    expect(parseWandbJson(JSON.stringify(value))).toEqual(value);
    expect(stringifyWandbJson(value)).toBe(JSON.stringify(value));
  });

  it.each([
    [{ f: () => 1 }, "$.f: a function"],
    [{ b: 10n }, "$.b: a bigint"],
    [{ d: new Date(0) }, "$.d: an instance of Date"],
    [{ u: undefined }, "$.u: undefined"],
  ])("rejects non-data %# naming the path", (value, message) => {
    expect(() => stringifyWandbJson(value)).toThrow(message);
  });

  it("rejects cycles", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    expect(() => stringifyWandbJson(cyclic)).toThrow("$.self: circular reference");
  });

  it.each(["{", '{"a":}', "[1,]", "nan", '{"a":1} x'])("reports malformed input %j with a position", (text) => {
    expect(() => parseWandbJson(text)).toThrow(/position \d+/);
  });
});
