/**
 * What the parity suite shares: the backends it runs on (every ISA path of the blocked GEMM included) and the case
 * table the kernel files fill (see parity.test.ts for the tolerances).
 */
import { afterAll } from "vitest";
import { nativeAvailable, Rng, randn, type Tensor, toFloat32Array, useBackend } from "../src/index.ts";
import { loadNativeAddon } from "../src/native-addon.ts";

export interface BackendCase {
  name: string;
  select: () => void;
  /** Runs only the GEMM cases (an ISA path of the blocked GEMM changes nothing else). */
  gemmOnly?: boolean;
}
export const backends: BackendCase[] = [{ name: "js", select: () => useBackend("js") }];
if (nativeAvailable().ok) {
  const addon = loadNativeAddon().addon!;
  backends.push({
    name: "native",
    select: () => {
      useBackend("native");
      addon.setGemmImpl(nativeAvailable().blas!.startsWith("portable") ? "portable" : "blas");
    },
  });
  backends.push({
    name: "native/portable-gemm",
    select: () => {
      useBackend("native");
      addon.setGemmImpl("portable");
    },
  });
  const initialImpl = addon.gemmImpl?.().startsWith("portable") ? "portable" : "blas"; // the add-on's default choice
  // Every compiled ISA path this CPU runs (DIFFLENS_ISA=avx512|avx2|baseline), switched in process.
  const isa = addon.isa?.();
  for (const path of isa?.supported ?? []) {
    backends.push({
      name: `native/portable-gemm/isa=${path}`,
      gemmOnly: true,
      select: () => {
        useBackend("native");
        addon.setGemmImpl("portable");
        addon.setIsa!(path);
      },
    });
  }
  afterAll(() => {
    if (isa) addon.setIsa!(isa.path);
    try {
      addon.setGemmImpl(initialImpl);
    } catch {
      /* built without BLAS */
    }
    useBackend("js");
  });
}

let seed = 1000;
/** A fresh generator per call, seeded in the order of calls (cases draw lazily, in the order the tests run). */
export const nextRng = (): Rng => new Rng(seed++);
export const rand = (shape: number[], std = 1): Tensor => randn(shape, nextRng(), std);
export const f32 = (t: Tensor): Float32Array => toFloat32Array(t);
export const i32 = (t: Tensor): number[] => Array.from(t.data as Int32Array);

/** One check: runs the kernel on the current backend and returns [actual, expected, tolerance]. */
export interface KernelCase {
  kernel: string;
  name: string;
  nativeOnly?: boolean;
  check: () => [ArrayLike<number>, ArrayLike<number>, number];
}
export const cases: KernelCase[] = [];
export const memo = <T>(f: () => T): (() => T) => {
  let v: T | undefined;
  return () => (v ??= f());
};
