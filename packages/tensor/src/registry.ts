import type { Backend, BackendName } from "./backend.ts";
import { createJsBackend } from "./backends/js/index.ts";
import { createNativeBackend } from "./backends/native/index.ts";
import { TensorError } from "./errors.ts";
import { loadNativeAddon, type NativeIsa } from "./native-addon.ts";

let jsBackend: Backend | undefined;
let nativeBackend: Backend | undefined;
let webgpuBackend: Promise<Backend> | undefined;
let current: Backend | undefined;
let fallbackLogged = false;

/** Whether the native add-on loads here, and if not, why. Loads it on first call (no import-time work). */
export function nativeAvailable(): {
  ok: boolean;
  reason?: string;
  blas?: string;
  gemm?: string;
  /** The ISA path our blocked GEMM runs ("avx512", "avx2", "baseline") and why; `supported`: every path this CPU runs. */
  isa?: NativeIsa;
} {
  const { addon, reason } = loadNativeAddon();
  if (!addon) return { ok: false, reason: reason ?? "unknown" };
  return {
    ok: true,
    blas: addon.blasName(),
    ...(addon.gemmImpl ? { gemm: addon.gemmImpl() } : {}),
    ...(addon.isa ? { isa: addon.isa() } : {}),
  };
}

/**
 * Choose the backend every kernel in `ops.ts` dispatches to. "native" throws if the add-on is missing;
 * "auto" takes native when it loads and otherwise falls back to js, logging one line (once) with the reason.
 * "webgpu" opens a GPU device (asynchronously: await it); where none exists it rejects saying why and how to get one.
 */
export function useBackend(name: "webgpu"): Promise<Backend>;
export function useBackend(name: "js" | "native" | "auto"): Backend;
export function useBackend(name: BackendName | "auto"): Backend | Promise<Backend>;
export function useBackend(name: BackendName | "auto"): Backend | Promise<Backend> {
  if (name === "webgpu") {
    if (!webgpuBackend) {
      const opening = import("./backends/webgpu/index.ts").then((m) => m.createWebgpuBackend(getJs()));
      webgpuBackend = opening;
      // A failed open is not cached: the next call tries again (and says why again). Nor is a lost device: its
      // tensors are gone, but the next useBackend("webgpu") opens a fresh one.
      const forget = (): void => {
        if (webgpuBackend === opening) webgpuBackend = undefined;
      };
      opening.then((b) => b.context.device.lost.then(forget), forget);
    }
    return webgpuBackend.then((b) => {
      current = b;
      return b;
    });
  }
  if (name === "js") {
    current = getJs();
    return current;
  }
  const { addon, reason } = loadNativeAddon();
  if (addon) {
    nativeBackend ??= createNativeBackend(addon, getJs());
    current = nativeBackend;
    return current;
  }
  if (name === "native") {
    throw new TensorError("NATIVE_UNAVAILABLE", `useBackend("native"): ${reason}`);
  }
  if (name !== "auto")
    throw new TensorError(
      "BAD_ARGUMENT",
      `useBackend: expected "js", "native", "webgpu" or "auto", got ${JSON.stringify(name)}`,
    );
  if (!fallbackLogged) {
    fallbackLogged = true;
    console.warn(`[difflens/tensor] using the js backend (slow): native backend unavailable — ${reason}`);
  }
  current = getJs();
  return current;
}

const BACKEND_CHOICES = ["auto", "native", "js", "webgpu"] as const;

/**
 * The one way CLIs and apps pick a backend: `requested` (a `--backend` flag) or else `DIFFLENS_BACKEND` or else
 * "auto". Validates the name (the error names the source: flag or environment variable). Always await it.
 */
export async function selectBackend(requested?: string | null): Promise<Backend> {
  const fromEnv = process.env.DIFFLENS_BACKEND;
  const name = requested ?? (fromEnv === undefined || fromEnv === "" ? "auto" : fromEnv);
  if (!(BACKEND_CHOICES as readonly string[]).includes(name)) {
    const source = requested != null ? "--backend" : "DIFFLENS_BACKEND";
    throw new TensorError(
      "BAD_ARGUMENT",
      `${source}: expected one of ${BACKEND_CHOICES.join(", ")}, got ${JSON.stringify(name)}`,
    );
  }
  return useBackend(name as BackendName | "auto");
}

/**
 * A CPU backend for host-side work while a device backend may be current (host tensors in, host tensors out; its
 * kernels are called directly, without the device checks of ops.ts): native when the add-on loads, else js.
 */
export function hostBackend(): Backend {
  const { addon } = loadNativeAddon();
  if (addon) {
    nativeBackend ??= createNativeBackend(addon, getJs());
    return nativeBackend;
  }
  return getJs();
}

/** The backend kernels dispatch to: js until `useBackend` picks another. */
export function currentBackend(): Backend {
  current ??= getJs();
  return current;
}

function getJs(): Backend {
  jsBackend ??= createJsBackend();
  return jsBackend;
}
