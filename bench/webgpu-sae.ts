/**
 * The SAE part of bench:webgpu: one TopK SAE training step on the webgpu backend (params and Adam moments on the
 * device, a random input batch uploaded once), median seconds per step after a warm-up step.
 */

export interface SaeShape {
  readonly label: string;
  readonly dIn: number;
  readonly dSae: number;
  readonly k: number;
  readonly batch: number;
}

/** The real-GPU shape (the same as bench:sae's). */
export const SAE_GPU: SaeShape = {
  label: "d_in1024_d_sae32768_k32_batch4096",
  dIn: 1024,
  dSae: 32768,
  k: 32,
  batch: 4096,
};
/** Small enough for a software adapter. */
export const SAE_SMALL: SaeShape = { label: "d_in64_d_sae1024_k8_batch256", dIn: 64, dSae: 1024, k: 8, batch: 256 };

/** Seconds per step, or why it cannot run yet. */
export type SaeTiming = { seconds: number; tokensPerS: number } | { pending: string };

/** Times `steps` training steps on the webgpu backend. */
export async function timeSaeStep(_shape: SaeShape, _steps: number): Promise<SaeTiming> {
  return { pending: "the device SAE training step (H5's sparse-step-device.ts) is not merged in this build" };
}
