import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * f32 FLOP per cycle per core of 128-bit NEON FMLA on arm64 CPUs: FMA-capable ASIMD pipes × 4 lanes × 2. The pipe
 * counts are the FMLA (vector, Q-form) throughputs in Arm's Software Optimization Guides (Cortex-A72: 1 per cycle;
 * Cortex-A76/A77/A78/A710, Neoverse N1/N2: 2, pipes V0/V1; Cortex-X1/X2/X3/X4, Neoverse V1/V2/V3: 4, pipes V0–V3) and,
 * for Apple's P-cores (Firestorm and later), the four 128-bit FMA units measured in public microbenchmarks (Apple
 * publishes no guide). SVE does not raise these: V1's two 256-bit SVE pipes equal its four 128-bit NEON ones.
 */
export interface NeonCore {
  name: string;
  flopsPerCycle: number;
  /** True when the core was not recognised and flopsPerCycle is NEON_DEFAULT_FLOPS_PER_CYCLE. */
  estimate: boolean;
  /** Where the identification came from, e.g. "/proc/cpuinfo CPU part 0xd0c". */
  source: string;
}

/** Two 128-bit FMA pipes: the common case on server and big phone cores since Cortex-A76. */
export const NEON_DEFAULT_FLOPS_PER_CYCLE = 16;

/** Arm Ltd. (implementer 0x41) parts, by /proc/cpuinfo "CPU part". */
const ARM_PARTS: Record<number, [string, number]> = {
  3336: ["Cortex-A72", 8],
  3339: ["Cortex-A76", 16],
  3340: ["Neoverse N1", 16],
  3341: ["Cortex-A77", 16],
  3392: ["Neoverse V1", 32],
  3393: ["Cortex-A78", 16],
  3396: ["Cortex-X1", 32],
  3399: ["Cortex-A710", 16],
  3400: ["Cortex-X2", 32],
  3401: ["Neoverse N2", 16],
  3406: ["Cortex-X3", 32],
  3407: ["Neoverse V2", 32],
  3458: ["Cortex-X4", 32],
  3460: ["Neoverse V3", 32],
};
const ARM_IMPLEMENTER = 0x41;
const APPLE_IMPLEMENTER = 0x61;
const APPLE_P_CORE_FLOPS_PER_CYCLE = 32;

function unknown(source: string): NeonCore {
  return { name: "unknown arm64 core", flopsPerCycle: NEON_DEFAULT_FLOPS_PER_CYCLE, estimate: true, source };
}

/**
 * The core from Linux's /proc/cpuinfo text. On big.LITTLE systems every core is listed: the fastest known one wins,
 * since the GEMM's threads end up on the big cores.
 */
export function neonCoreFromCpuinfo(cpuinfo: string): NeonCore {
  let best: NeonCore | undefined;
  let firstUnknown: string | undefined;
  let implementer = -1;
  for (const line of cpuinfo.split("\n")) {
    const [key, value] = line.split(":").map((s) => s.trim());
    if (key === "CPU implementer" && value) implementer = Number.parseInt(value, 16);
    if (key !== "CPU part" || !value) continue;
    const part = Number.parseInt(value, 16);
    const source = `/proc/cpuinfo CPU implementer 0x${implementer.toString(16)}, part 0x${part.toString(16)}`;
    const known = implementer === ARM_IMPLEMENTER ? ARM_PARTS[part] : undefined;
    let core: NeonCore | undefined;
    if (known) core = { name: known[0], flopsPerCycle: known[1], estimate: false, source };
    else if (implementer === APPLE_IMPLEMENTER)
      core = { name: "Apple core", flopsPerCycle: APPLE_P_CORE_FLOPS_PER_CYCLE, estimate: false, source };
    else firstUnknown ??= source;
    if (core && (!best || core.flopsPerCycle > best.flopsPerCycle)) best = core;
  }
  return best ?? unknown(firstUnknown ?? "/proc/cpuinfo has no CPU part line");
}

/** The core from macOS's `sysctl -n machdep.cpu.brand_string` ("Apple M1", "Apple M3 Max", …): its P-cores. */
export function neonCoreFromBrand(brand: string): NeonCore {
  const trimmed = brand.trim();
  const source = `sysctl machdep.cpu.brand_string "${trimmed}"`;
  if (/^Apple M\d/.test(trimmed))
    return { name: `${trimmed} P-core`, flopsPerCycle: APPLE_P_CORE_FLOPS_PER_CYCLE, estimate: false, source };
  return unknown(source);
}

/** This machine's arm64 core (Linux or macOS); an estimate elsewhere or when the files or tools are missing. */
export function hostNeonCore(): NeonCore {
  try {
    if (process.platform === "linux") return neonCoreFromCpuinfo(readFileSync("/proc/cpuinfo", "utf8"));
    if (process.platform === "darwin")
      return neonCoreFromBrand(execFileSync("sysctl", ["-n", "machdep.cpu.brand_string"], { encoding: "utf8" }));
  } catch (error) {
    return unknown(`could not identify the core: ${(error as Error).message}`);
  }
  return unknown(`no core table for ${process.platform}`);
}
