/**
 * The issue-22 kernels (test/family-kernels-cases.ts) on js and on the native add-on on every ISA path this CPU runs
 * (DIFFLENS_ISA=avx512|avx2|baseline, switched in process: the vector tanh has one compiled copy per path), plus the
 * checked wrappers' errors.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  fromArray,
  geluTanhGate,
  maskScores,
  nativeAvailable,
  rmsNorm,
  ropeInPlace,
  softmax,
  TensorError,
  tanhSoftcap,
  useBackend,
  zeros,
} from "../src/index.ts";
import { loadNativeAddon } from "../src/native-addon.ts";
import { compareCase, familyCases } from "./family-kernels-cases.ts";

const backends: { name: string; select: () => void }[] = [{ name: "js", select: () => useBackend("js") }];
if (nativeAvailable().ok) {
  const addon = loadNativeAddon().addon!;
  const isa = addon.isa!();
  for (const path of isa.supported) {
    backends.push({
      name: `native/isa=${path}`,
      select: () => {
        useBackend("native");
        addon.setIsa!(path);
      },
    });
  }
  afterAll(() => {
    addon.setIsa!(isa.path);
    useBackend("js");
  });
}

describe.each(backends)("issue-22 kernels on $name", (backend) => {
  for (const c of familyCases) {
    it(c.name, async () => {
      backend.select();
      expect(compareCase(await c.run())).toBeUndefined();
    });
  }
});

describe("issue-22 kernels: checked arguments", () => {
  it("names the argument and what was expected", () => {
    useBackend("js");
    const x = zeros([2, 3, 4]);
    expect(() => tanhSoftcap(x, 0)).toThrow("tanhSoftcap: cap must be a finite number > 0, got 0");
    expect(() => tanhSoftcap(x, Number.NaN)).toThrow(TensorError);
    expect(() => geluTanhGate(x, zeros([2, 3]))).toThrow("geluTanhGate(up): expected [2, 3, 4] like gate, got [2, 3]");
    expect(() => rmsNorm(x, zeros([4]), 1e-6, { weightOffset: Number.NaN })).toThrow(/weightOffset/);
    expect(() => rmsNorm(x, zeros([4]), 1e-6, { out: zeros([2, 3]) })).toThrow("rmsNorm(out): expected [2, 3, 4]");
    const pos = Int32Array.from([0, 1]);
    expect(() => ropeInPlace(x, pos, 1e4, { invFreq: new Float32Array(4) })).toThrow(
      "ropeInPlace(invFreq): expected a Float32Array of 2 entries (rotaryDim 4 / 2; x is [2, 3, 4]), got 4 entries",
    );
    expect(() => ropeInPlace(x, pos, 0)).toThrow(/theta must be > 0/);
    expect(() => softmax(zeros([2, 3]), { causal: { queries: 2, offset: 0, window: 0 } })).toThrow(
      "softmax: causal.window must be an integer ≥ 1, got 0",
    );
    const mask = { queryMask: new Uint8Array(2), keyMask: new Uint8Array(2), past: 0, window: 1.5 };
    expect(() => maskScores(zeros([1, 1, 2, 2]), mask)).toThrow("maskScores: window must be an integer ≥ 1, got 1.5");
  });

  it("keeps the old positional forms: rmsNorm(x, w, eps, out) and ropeInPlace(x, pos, θ, rotaryDim)", () => {
    useBackend("js");
    const out = zeros([1, 2]);
    expect(rmsNorm(fromArray([3, 4], [1, 2]), fromArray([1, 1], [2]), 0, out)).toBe(out);
    const x = fromArray([1, 0, 5, 0], [1, 1, 4]);
    ropeInPlace(x, Int32Array.from([1]), 10000, 2);
    expect(Array.from(x.data as Float32Array)).toEqual([Math.fround(Math.cos(1)), Math.fround(Math.sin(1)), 5, 0]);
  });
});
