/**
 * `selfcheck --backend webgpu`: the adapter's report as lines (pure), and — where a WebGPU adapter exists — the whole
 * selfcheck on it: the adapter lines, every kernel check against js and the timed GEMM pass.
 */
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli/selfcheck.ts";
import { adapterLines, isSoftwareAdapter } from "../src/cli/selfcheck-adapter.ts";
import { useBackend } from "../src/index.ts";
import { describeWebgpu } from "./webgpu-available.ts";

const LAVAPIPE = {
  vendor: "mesa",
  architecture: "software",
  device: "llvmpipe-llvm-15-0-6-256-bits-",
  description: "llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1",
  features: ["subgroups", "shader-f16"],
  limits: {
    maxBufferSize: 4 * 2 ** 30,
    maxStorageBufferBindingSize: 128 * 2 ** 20,
    minStorageBufferOffsetAlignment: 16,
  },
};

describe("selfcheck's adapter lines", () => {
  it("name the adapter, print byte limits in binary units and sort the features", () => {
    expect(adapterLines(LAVAPIPE)).toEqual([
      "adapter: vendor mesa, architecture software, device llvmpipe-llvm-15-0-6-256-bits-, description llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1",
      "adapter limits: maxBufferSize=4 GiB, maxStorageBufferBindingSize=128 MiB",
      "adapter other limits: minStorageBufferOffsetAlignment=16",
      "adapter features: shader-f16, subgroups",
    ]);
  });

  it("tell a software adapter from a GPU", () => {
    expect(isSoftwareAdapter(LAVAPIPE)).toBe(true);
    const gpu = { ...LAVAPIPE, vendor: "nvidia", architecture: "hopper", device: "", description: "NVIDIA H100" };
    expect(isSoftwareAdapter(gpu)).toBe(false);
  });
});

describeWebgpu("selfcheck --backend webgpu", () => {
  afterAll(() => {
    useBackend("js");
  });

  it("reports the adapter and passes every check on it", async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((text: unknown) => void lines.push(String(text)));
    let status: number;
    try {
      status = await main(["--backend", "webgpu"], { out: () => {}, log: () => {} });
    } finally {
      spy.mockRestore();
    }
    expect(lines.filter((l) => l.startsWith("FAIL"))).toEqual([]);
    expect(status).toBe(0);
    expect(lines[0]).toMatch(/^INFO adapter: vendor /);
    expect(lines.some((l) => l.startsWith("INFO adapter limits: maxBufferSize="))).toBe(true);
    expect(lines.some((l) => /^PASS timed gemm \d+x\d+x\d+: /.test(l))).toBe(true);
  }, 60_000);
});
