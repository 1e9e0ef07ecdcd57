import { type IsaPath, loadNativeAddon } from "./native-addon.ts";

/** The f32 GEMM peak an ISA path can reach on this machine: threads × measured clock × FLOP/cycle/core. */
export interface IsaPeak {
  path: IsaPath;
  threads: number;
  flopsPerCycle: number;
  /** Core clock measured now by a dependent-add chain (boost included), in GHz. */
  clockGhz: number;
  gflops: number;
  /** How the figure was obtained, for printing next to it. */
  source: string;
}

/** Null when the add-on is missing, predates peak(), or cannot measure the clock on this architecture. */
export function isaPeak(path: IsaPath, threads: number): IsaPeak | null {
  const addon = loadNativeAddon().addon;
  if (!addon?.peak) return null;
  const { flopsPerCycle, clockGhz } = addon.peak(path);
  if (!(clockGhz > 0)) return null;
  const gflops = threads * clockGhz * flopsPerCycle;
  const source = `${threads} threads × ${clockGhz.toFixed(2)} GHz (measured) × ${flopsPerCycle} f32 FLOP/cycle (${path})`;
  return { path, threads, flopsPerCycle, clockGhz, gflops, source };
}
