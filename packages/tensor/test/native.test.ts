import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  currentBackend,
  gemm,
  nativeAvailable,
  nativeMmap,
  Rng,
  randn,
  softmax,
  sum,
  toFloat32Array,
  topK,
  useBackend,
} from "../src/index.ts";
import { loadNativeAddon } from "../src/native-addon.ts";

const native = nativeAvailable();
const dir = mkdtempSync(join(tmpdir(), "difflens-native-test-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  useBackend("js");
});

describe.skipIf(!native.ok)("native add-on", () => {
  it("reports its BLAS and honours setThreads", () => {
    expect(native.blas).toMatch(/OpenBLAS|MKL|Accelerate|CBLAS|portable/);
    const backend = useBackend("native");
    const before = backend.getThreads();
    backend.setThreads(3);
    expect(backend.getThreads()).toBe(3);
    backend.setThreads(before);
    expect(currentBackend().name).toBe("native");
  });

  it("gives bit-identical results for 1 and 3 threads (row-partitioned kernels)", () => {
    const backend = useBackend("native");
    const x = randn([37, 5000], new Rng(5));
    const run = (threads: number) => {
      backend.setThreads(threads);
      return [toFloat32Array(softmax(x)), toFloat32Array(sum(x, 0)), topK(x, 17).indices.data as Int32Array];
    };
    const one = run(1);
    const three = run(3);
    backend.setThreads(2);
    one.forEach((a, i) => expect(Array.from(three[i]!)).toEqual(Array.from(a)));
  });

  it("portable GEMM and BLAS GEMM agree", () => {
    const addon = loadNativeAddon().addon!;
    useBackend("native");
    const rng = new Rng(9);
    const a = randn([70, 300], rng);
    const b = randn([300, 50], rng);
    addon.setGemmImpl("portable");
    const p = toFloat32Array(gemm(a, b));
    try {
      addon.setGemmImpl("blas");
    } catch {
      return;
    } // built without BLAS
    const q = toFloat32Array(gemm(a, b));
    let d = 0,
      n = 0;
    for (let i = 0; i < p.length; i++) {
      d += (p[i]! - q[i]!) ** 2;
      n += q[i]! ** 2;
    }
    expect(Math.sqrt(d / n)).toBeLessThan(1e-6 * Math.sqrt(300));
  });

  it("rejects typed arrays that do not match the dimensions instead of reading out of bounds", () => {
    const addon = loadNativeAddon().addon!;
    expect(() =>
      addon.gemm(new Float32Array(4), new Float32Array(4), 0, new Float32Array(4), 4, 4, 4, false, false, 1, 0, 1),
    ).toThrow(/too short/);
    expect(() => addon.topK(new Float32Array(10), 10, 11, new Float32Array(11), new Int32Array(11))).toThrow(/topK/);
    expect(() => addon.gatherRows(new Float32Array(6), 0, new Int32Array([3]), new Float32Array(2), 2)).toThrow(
      /out of range/,
    );
  });

  it("mmapFile maps a file without copying and names the file on failure", () => {
    const path = join(dir, "bytes.bin");
    const bytes = Uint8Array.from({ length: 10000 }, (_, i) => (i * 7) & 255);
    writeFileSync(path, bytes);
    const buf = nativeMmap(path)!;
    expect(buf.byteLength).toBe(10000);
    expect(Array.from(new Uint8Array(buf, 9990, 10))).toEqual(Array.from(bytes.subarray(9990)));
    writeFileSync(join(dir, "empty.bin"), new Uint8Array(0));
    expect(nativeMmap(join(dir, "empty.bin"))!.byteLength).toBe(0);
    expect(() => nativeMmap(join(dir, "missing.safetensors"))).toThrow(/missing\.safetensors/);
    expect(() => nativeMmap(dir)).toThrow(/not a regular file/);
  });
});

describe("backend selection without the add-on", () => {
  it("useBackend('native') explains why when unavailable; 'auto' falls back to js", () => {
    if (native.ok) {
      expect(useBackend("auto").name).toBe("native");
    } else {
      expect(() => useBackend("native")).toThrow(native.reason!);
      expect(useBackend("auto").name).toBe("js");
    }
    useBackend("js");
  });
});
