/// <reference types="@webgpu/types" preserve="true" />
import { TensorError } from "../../errors.ts";

/** The spec's numeric flags, read from Dawn's `globals` (globalThis is left alone). */
export interface GpuFlags {
  readonly usage: { STORAGE: number; UNIFORM: number; COPY_SRC: number; COPY_DST: number; MAP_READ: number };
  readonly mapRead: number;
}

const HOW_TO_GET_ONE =
  "a GPU driver with Vulkan, Metal or D3D12 — or, on Linux without a GPU, Mesa's lavapipe software Vulkan device: " +
  "`apt-get install -t bookworm-backports mesa-vulkan-drivers` (Mesa ≥ 25; bookworm's own 22.3 is refused by Dawn)";

let gpu: Promise<{ gpu: GPU; flags: GpuFlags }> | undefined;

/** Dawn's GPU object (npm `webgpu`), created once per process. */
function openGpu(): Promise<{ gpu: GPU; flags: GpuFlags }> {
  gpu ??= import("webgpu").then(
    (dawn) => {
      const globals = dawn.globals as { GPUBufferUsage: GpuFlags["usage"]; GPUMapMode: { READ: number } };
      return { gpu: dawn.create([]), flags: { usage: globals.GPUBufferUsage, mapRead: globals.GPUMapMode.READ } };
    },
    (cause: unknown) => {
      gpu = undefined;
      throw new TensorError(
        "DEVICE_UNAVAILABLE",
        `webgpu backend: the npm package \`webgpu\` (Dawn, an optional dependency of @difflens/tensor) does not load: ${
          cause instanceof Error ? cause.message : String(cause)
        } — reinstall with optional dependencies (pnpm install)`,
      );
    },
  );
  return gpu;
}

/** The system's WebGPU adapter, or DEVICE_UNAVAILABLE saying why and how to get one. */
export async function requestGpuAdapter(): Promise<{ adapter: GPUAdapter; flags: GpuFlags }> {
  const { gpu, flags } = await openGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new TensorError(
      "DEVICE_UNAVAILABLE",
      `webgpu backend: no WebGPU adapter on this machine (Dawn found no Vulkan/Metal/D3D12 device). To get one: ${HOW_TO_GET_ONE}`,
    );
  }
  return { adapter, flags };
}

/** What `selfcheck --backend webgpu` prints: who the adapter is and what it allows. */
export interface WebgpuAdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  limits: Record<string, number>;
}

/** Reports the adapter this machine offers (vendor, architecture, device, description, limits, features). */
export async function webgpuAdapterReport(): Promise<WebgpuAdapterReport> {
  const { adapter } = await requestGpuAdapter();
  return describeAdapter(adapter);
}

export function describeAdapter(adapter: GPUAdapter): WebgpuAdapterReport {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const name of LIMITS_REPORTED) limits[name] = (adapter.limits as unknown as Record<string, number>)[name]!;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    features: [...adapter.features].sort(),
    limits,
  };
}

/** The limits the backend requests at the adapter's own values (the defaults: 128 MiB bindings, 256-byte offsets). */
export const LIMITS_REQUESTED = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "minStorageBufferOffsetAlignment",
  "minUniformBufferOffsetAlignment",
] as const;

const LIMITS_REPORTED = LIMITS_REQUESTED;
