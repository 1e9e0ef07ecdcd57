import type { Backend } from "../../backend.ts";
import { TensorError } from "../../errors.ts";

/** Opens a WebGPU device through the npm `webgpu` package (Dawn) and returns its backend. Placeholder: W1 fills it. */
export async function createWebgpuBackend(_js: Backend): Promise<Backend> {
  throw new TensorError("DEVICE_UNAVAILABLE", "webgpu backend: not built yet");
}
