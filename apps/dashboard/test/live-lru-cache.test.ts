import { describe, expect, it } from "vitest";
import { LruCache } from "../src/live/lru-cache.ts";

describe("LruCache", () => {
  it("shares a running load, evicts the least recently used and disposes it", async () => {
    const disposed: string[] = [];
    const cache = new LruCache<string>(2, (v) => disposed.push(v));
    let loads = 0;
    const load = (v: string) => async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return v;
    };
    const [a1, a2] = await Promise.all([cache.get("a", load("A")), cache.get("a", load("A again"))]);
    expect([a1, a2, loads]).toEqual(["A", "A", 1]);
    await cache.get("b", load("B"));
    await cache.get("a", load("unused")); // a is now the most recent
    await cache.get("c", load("C"));
    expect(cache.keys()).toEqual(["a", "c"]);
    expect(disposed).toEqual(["B"]);
    cache.clear();
    await Promise.resolve();
    expect(disposed.sort()).toEqual(["A", "B", "C"]);
    expect(cache.size).toBe(0);
  });

  it("forgets a failed load so that the next request tries again", async () => {
    const cache = new LruCache<number>(1, () => {});
    await expect(cache.get("x", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(cache.size).toBe(0);
    expect(await cache.get("x", async () => 7)).toBe(7);
    expect(() => new LruCache<number>(0, () => {})).toThrow(RangeError);
  });
});
