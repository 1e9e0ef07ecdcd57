import { type IsaPath, loadNativeAddon } from "./native-addon.ts";
import { hostNeonCore } from "./neon-peak.ts";

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
  const measured = addon.peak(path);
  const { clockGhz } = measured;
  if (!(clockGhz > 0)) return null;
  // The add-on knows x86 cores from CPUID; arm64 cores are looked up by name (neon-peak.ts).
  const neon = path === "neon" ? hostNeonCore() : undefined;
  const flopsPerCycle = neon?.flopsPerCycle ?? measured.flopsPerCycle;
  const gflops = threads * clockGhz * flopsPerCycle;
  const perCycle = neon
    ? `${flopsPerCycle} f32 FLOP/cycle (neon, ${neon.name}${neon.estimate ? ": estimate" : ""}; ${neon.source})`
    : `${flopsPerCycle} f32 FLOP/cycle (${path})`;
  const source = `${threads} threads × ${clockGhz.toFixed(2)} GHz (measured) × ${perCycle}`;
  return { path, threads, flopsPerCycle, clockGhz, gflops, source };
}
