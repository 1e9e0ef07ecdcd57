/**
 * The adapter part of `pnpm selfcheck --backend webgpu`: what the WebGPU adapter says about itself, as INFO lines.
 * The report comes from the webgpu backend (`webgpuAdapterReport`), loaded lazily so the CPU selfcheck never touches
 * the optional `webgpu` package.
 */

import type { WebgpuAdapterReport } from "../backends/webgpu/index.ts";

/** What an adapter reports (GPUAdapterInfo's strings, its limits, its features). */
export type AdapterReport = Readonly<WebgpuAdapterReport>;

export type WebgpuReport = { ok: true; adapter: AdapterReport } | { ok: false; reason: string };

/** The adapter's report, or why there is none (no `webgpu` package, no adapter: the backend's own message). */
export async function webgpuReport(): Promise<WebgpuReport> {
  try {
    const { webgpuAdapterReport } = await import("../backends/webgpu/index.ts");
    return { ok: true, adapter: await webgpuAdapterReport() };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** The limits worth a glance when sizing work (the rest are printed too, on one line). */
const KEY_LIMITS = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
];

/** Bytes as a short power-of-two figure ("128 MiB"), other numbers as they are. */
function formatLimit(name: string, value: number): string {
  if (!/Size$/.test(name) || value < 1024) return String(value);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = value;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/** The report as lines: identity, key limits, the other limits, features. */
export function adapterLines(a: AdapterReport): string[] {
  const shown = (s: string): string => (s === "" ? "(empty)" : s);
  const key = KEY_LIMITS.filter((n) => n in a.limits).map((n) => `${n}=${formatLimit(n, a.limits[n]!)}`);
  const rest = Object.keys(a.limits)
    .filter((n) => !KEY_LIMITS.includes(n))
    .sort()
    .map((n) => `${n}=${formatLimit(n, a.limits[n]!)}`);
  return [
    `adapter: vendor ${shown(a.vendor)}, architecture ${shown(a.architecture)}, device ${shown(a.device)}, description ${shown(a.description)}`,
    `adapter limits: ${key.join(", ")}`,
    ...(rest.length > 0 ? [`adapter other limits: ${rest.join(", ")}`] : []),
    `adapter features: ${a.features.length > 0 ? [...a.features].sort().join(", ") : "(none)"}`,
  ];
}

/** A CPU implementation of Vulkan (Mesa's lavapipe/llvmpipe, SwiftShader): fine for correctness, slow. */
export function isSoftwareAdapter(a: AdapterReport): boolean {
  return /llvmpipe|lavapipe|swiftshader|software/i.test(`${a.vendor} ${a.architecture} ${a.device} ${a.description}`);
}
