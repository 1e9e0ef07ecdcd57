import { describe, expect, it } from "vitest";
import { NEON_DEFAULT_FLOPS_PER_CYCLE, neonCoreFromBrand, neonCoreFromCpuinfo } from "../src/neon-peak.ts";

/** /proc/cpuinfo as Linux prints it on arm64: one block per core. */
const cpuinfo = (implementer: string, parts: string[]): string =>
  parts
    .map(
      (part, i) =>
        `processor\t: ${i}\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\n` +
        `CPU implementer\t: ${implementer}\nCPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: ${part}\nCPU revision\t: 1\n`,
    )
    .join("\n");

describe("NEON FLOP/cycle by core", () => {
  it.each([
    ["0xd0c", "Neoverse N1", 16], // Graviton2, Ampere Altra
    ["0xd40", "Neoverse V1", 32], // Graviton3
    ["0xd4f", "Neoverse V2", 32], // Graviton4, Grace
    ["0xd49", "Neoverse N2", 16],
    ["0xd08", "Cortex-A72", 8], // Raspberry Pi 4
  ])("reads CPU part %s as %s (%i FLOP/cycle)", (part, name, flops) => {
    const core = neonCoreFromCpuinfo(cpuinfo("0x41", [part, part]));
    expect(core).toMatchObject({ name, flopsPerCycle: flops, estimate: false });
    expect(core.source).toContain(part);
  });

  it("takes the big core of a big.LITTLE system", () => {
    expect(neonCoreFromCpuinfo(cpuinfo("0x41", ["0xd05", "0xd05", "0xd0b", "0xd0b"])).name).toBe("Cortex-A76");
  });

  it("knows Apple cores under Linux (implementer 0x61)", () => {
    expect(neonCoreFromCpuinfo(cpuinfo("0x61", ["0x023", "0x022"]))).toMatchObject({ flopsPerCycle: 32 });
  });

  it("falls back to a documented estimate for an unknown core or no part line", () => {
    const ampereOne = neonCoreFromCpuinfo(cpuinfo("0xc0", ["0xac3"]));
    expect(ampereOne).toMatchObject({ flopsPerCycle: NEON_DEFAULT_FLOPS_PER_CYCLE, estimate: true });
    expect(ampereOne.source).toContain("0xac3");
    expect(neonCoreFromCpuinfo("processor\t: 0\n")).toMatchObject({ estimate: true });
  });

  it("reads Apple M-series brand strings on macOS", () => {
    expect(neonCoreFromBrand("Apple M1\n")).toMatchObject({
      name: "Apple M1 P-core",
      flopsPerCycle: 32,
      estimate: false,
    });
    expect(neonCoreFromBrand("Apple M3 Max")).toMatchObject({ flopsPerCycle: 32, estimate: false });
    expect(neonCoreFromBrand("Some Arm Laptop")).toMatchObject({ flopsPerCycle: 16, estimate: true });
  });
});
