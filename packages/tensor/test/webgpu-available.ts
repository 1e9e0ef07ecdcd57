/**
 * Whether this machine has a WebGPU adapter, probed once per test file (one `useBackend("webgpu")` attempt; the
 * current backend is restored after it). WebGPU suites use `describeWebgpu`: without an adapter they skip with one
 * line saying why and how to get one — except under CI=true, where a missing adapter fails loudly.
 */
import { describe, it } from "vitest";
import type { WebgpuBackend } from "../src/backends/webgpu/index.ts";
import { currentBackend, useBackend } from "../src/index.ts";

async function probe(): Promise<{ backend: WebgpuBackend } | { reason: string }> {
  const previous = currentBackend().name;
  try {
    const backend = (await useBackend("webgpu")) as WebgpuBackend;
    return { backend };
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  } finally {
    if (previous !== "webgpu") useBackend(previous);
  }
}

const probed = await probe();

/** The webgpu backend (opened once per test file), or undefined where there is no adapter. */
export const webgpu: WebgpuBackend | undefined = "backend" in probed ? probed.backend : undefined;

/** Why there is no webgpu backend here (DEVICE_UNAVAILABLE's message says how to get one). */
export const webgpuMissing: string | undefined = "reason" in probed ? probed.reason : undefined;

let skipNoticeShown = false;

/** `describe` for suites that need a WebGPU adapter (see the file comment); a skip prints one line, once per file. */
export function describeWebgpu(name: string, body: () => void): void {
  if (webgpu) {
    describe(name, body);
  } else if (process.env.CI === "true") {
    describe(name, () => {
      it("has a WebGPU adapter (required under CI=true)", () => {
        throw new Error(`no WebGPU adapter under CI=true: ${webgpuMissing}`);
      });
    });
  } else {
    if (!skipNoticeShown) console.warn(`[webgpu] suites skipped: ${webgpuMissing}`);
    skipNoticeShown = true;
    describe.skip(`${name} — skipped, no WebGPU adapter: ${webgpuMissing}`, body);
  }
}
