/**
 * largeFloat32Array: an ordinary zeroed Float32Array; large ones come from the add-on's 2 MiB-aligned mapping advised
 * for transparent huge pages. Where the kernel backs advised memory with huge pages (Linux, THP "always" or
 * "madvise"), touching one must raise this process's AnonHugePages.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { largeFloat32Array, largeFloat32Copy, nativeAvailable } from "../src/index.ts";

const thpMode = (() => {
  const file = "/sys/kernel/mm/transparent_hugepage/enabled";
  return existsSync(file) ? (/\[(\w+)\]/.exec(readFileSync(file, "utf8"))?.[1] ?? "") : "";
})();
const anonHugeKb = (): number =>
  Number(/AnonHugePages:\s+(\d+)/.exec(readFileSync("/proc/self/smaps_rollup", "utf8"))?.[1] ?? Number.NaN);

describe("largeFloat32Array", () => {
  it("is a zeroed, writable Float32Array of the length asked, small or large", () => {
    for (const length of [0, 5, 1 << 20, (5 << 20) + 3]) {
      const a = largeFloat32Array(length);
      expect(a).toBeInstanceOf(Float32Array);
      expect(a.length).toBe(length);
      expect(a.buffer).toBeInstanceOf(ArrayBuffer);
      if (length > 0) {
        expect(a[0]).toBe(0);
        expect(a[length - 1]).toBe(0);
        a[length - 1] = 2.5;
        expect(a[length - 1]).toBe(2.5);
      }
    }
    const source = Float32Array.from({ length: (2 << 20) + 7 }, (_, i) => i % 251);
    const copy = largeFloat32Copy(source);
    const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(copy.length).toBe(source.length);
    expect(bytes(copy).equals(bytes(source))).toBe(true); // (toEqual walks 2M elements one by one: seconds)
    expect(() => largeFloat32Array(-1)).toThrow(/non-negative integer, got -1/);
  });

  it.runIf(
    nativeAvailable().ok && (thpMode === "always" || thpMode === "madvise") && existsSync("/proc/self/smaps_rollup"),
  )("is backed by transparent huge pages where the kernel offers them", () => {
    const before = anonHugeKb();
    const a = largeFloat32Array(8 << 20); // 32 MiB
    a.fill(1);
    expect(anonHugeKb() - before).toBeGreaterThanOrEqual(2048);
    expect(a[a.length - 1]).toBe(1);
  });
});
