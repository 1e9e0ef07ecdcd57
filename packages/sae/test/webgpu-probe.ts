import { useBackend } from "@difflens/tensor";

/**
 * Null when a WebGPU adapter opens, else why not (the webgpu tests skip with that line). Under CI=true a missing
 * adapter throws: CI installs Mesa's lavapipe, so there the webgpu tests must run.
 * (Stand-in for packages/tensor/test/webgpu-available.ts until that lands; same intent.)
 */
export async function webgpuUnavailable(): Promise<string | null> {
  let reason: string | null = null;
  try {
    await useBackend("webgpu");
  } catch (err) {
    reason = err instanceof Error ? err.message : String(err);
  }
  useBackend("js");
  if (reason === null) return null;
  if (process.env.CI === "true") throw new Error(`CI=true but no WebGPU adapter: ${reason}`);
  console.warn(
    `[skip] webgpu tests: no WebGPU adapter (${reason}) — install Mesa's lavapipe (apt-get install -t bookworm-backports mesa-vulkan-drivers) or use a GPU with Vulkan/Metal/D3D12`,
  );
  return reason;
}
