import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** A compiled ISA path of the blocked GEMM (native/gemm-avx512.c, gemm-avx2.c, gemm-baseline.c). */
export type IsaPath = "avx512" | "avx2" | "neon" | "baseline";
export interface NativeIsa {
  path: IsaPath;
  /** "best this CPU supports", "DIFFLENS_ISA=avx2" or "selected". */
  reason: string;
  /** Every path this CPU can run, best first. */
  supported: IsaPath[];
}

/** The functions the C add-on (native/*.c) exports. Arrays are used in place, never copied. */
export interface NativeAddon {
  /** Which GEMM the add-on was built with, e.g. "OpenBLAS 0.3.21 (pthread)" or "portable (own blocked GEMM)". */
  blasName(): string;
  /** The GEMM in use and why: "portable (default on this CPU: …)", "blas (DIFFLENS_GEMM=blas)", … (absent in add-ons built before it existed). */
  gemmImpl?(): string;
  setThreads(n: number): void;
  getThreads(): number;
  /** Select the GEMM implementation: "blas" (default when built with one) or "portable" (always built). */
  setGemmImpl(impl: "blas" | "portable"): void;
  /** batch × (C = alpha·op(A)·op(B) + beta·C); bDtype 0 = f32, 1 = f16, 2 = bf16. */
  gemm(
    a: Float32Array,
    b: Float32Array | Uint16Array,
    bDtype: number,
    c: Float32Array,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    alpha: number,
    beta: number,
    batch: number,
  ): void;
  /** op 0 = add, 1 = mul; b broadcast with period b.length. */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array): void;
  scale(a: Float32Array, s: number, out: Float32Array): void;
  axpby(alpha: number, a: Float32Array, beta: number, b: Float32Array, out: Float32Array): void;
  rmsNorm(
    x: Float32Array,
    w: Float32Array | Uint16Array,
    wDtype: number,
    out: Float32Array,
    d: number,
    eps: number,
    /** Added to w (Gemma: 1). */
    wOffset: number,
  ): void;
  rope(
    x: Float32Array,
    positions: Int32Array,
    invFreq: Float32Array,
    tokens: number,
    heads: number,
    headDim: number,
  ): void;
  /** queries = 0: no mask; window = 0: no sliding window. */
  softmax(x: Float32Array, out: Float32Array, n: number, queries: number, offset: number, window: number): void;
  silu(x: Float32Array, out: Float32Array): void;
  siluGate(gate: Float32Array, up: Float32Array, out: Float32Array): void;
  /** cap·tanh(x / cap) (absent in add-ons built before issue 22, as are rmsNorm's wOffset and softmax's window). */
  tanhSoftcap?(x: Float32Array, cap: number, out: Float32Array): void;
  /** gelu_tanh(gate)·up (absent in add-ons built before issue 22). */
  geluTanhGate?(gate: Float32Array, up: Float32Array, out: Float32Array): void;
  topK(x: Float32Array, n: number, k: number, values: Float32Array, indices: Int32Array): void;
  gatherRows(table: Float32Array | Uint16Array, dtype: number, indices: Int32Array, out: Float32Array, d: number): void;
  scatterAddRows(target: Float32Array, indices: Int32Array, src: Float32Array, d: number): void;
  /** op 0 = sum, 1 = mean, 2 = max, 3 = argmax (out is Int32Array). x viewed as [outer, len, inner]. */
  reduce(op: number, x: Float32Array, out: Float32Array | Int32Array, outer: number, len: number, inner: number): void;
  /** Float ↔ float conversion; dtype codes as gemm. */
  convert(src: Float32Array | Uint16Array, srcDtype: number, dst: Float32Array | Uint16Array, dstDtype: number): void;
  /** Best k of z + bias per row, and best kc among the candidate columns (kc = 0: none). */
  biasTopK(
    z: Float32Array,
    bias: Float32Array,
    k: number,
    values: Float32Array,
    indices: Int32Array,
    candidates: Int32Array,
    kc: number,
    candValues: Float32Array,
    candIndices: Int32Array,
  ): void;
  /** out[r] += alpha·Σ relu(values)·table[indices]; rows = out.length / d. */
  sparseDecode(
    out: Float32Array,
    indices: Int32Array,
    values: Float32Array,
    table: Float32Array,
    d: number,
    alpha: number,
  ): void;
  /** Transposed accumulation of a k-sparse code (Backend.sparseCodesBackward); V = gBias.length. */
  sparseBackward(
    indices: Int32Array,
    values: Float32Array,
    g: Float32Array,
    x: Float32Array,
    table: Float32Array,
    gTable: Float32Array,
    gEnc: Float32Array,
    gBias: Float32Array,
    touched: Uint8Array,
    overwriteUntouched: boolean,
  ): void;
  /** Zeroed memory for a large array, 2 MiB-aligned and advised for huge pages (absent in older add-ons). */
  allocLarge?(bytes: number): ArrayBuffer;
  /** Revision of the kernels' semantics (absent before 1; see native/addon-machine.c). */
  kernelsRevision?(): number;
  /** Adam in place; empty rowMask = every row. */
  adam(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    cols: number,
    rowMask: Uint8Array,
    clearGrad: boolean,
    stepSize: number,
    bc2Sqrt: number,
    beta1: number,
    beta2: number,
    eps: number,
  ): void;
  projectOutRows(g: Float32Array, w: Float32Array, d: number, rowMask: Uint8Array): void;
  normalizeRows(w: Float32Array, d: number, eps: number): void;
  /** projectOutRows, adam and normalizeRows in one pass per row (absent in add-ons built before it). */
  adamUnitRows?(
    w: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    d: number,
    rowMask: Uint8Array,
    stepSize: number,
    bc2Sqrt: number,
    beta1: number,
    beta2: number,
    eps: number,
    normEps: number,
  ): void;
  /** Read-only private mapping of a whole file; the ArrayBuffer unmaps when collected. */
  mmapFile(path: string): ArrayBuffer;
  /** The ISA path of our blocked GEMM (absent in add-ons built before it existed). */
  isa?(): NativeIsa;
  /** Switch the blocked GEMM's ISA path; throws when this CPU lacks it (DIFFLENS_ISA does the same at load). */
  setIsa?(path: IsaPath): void;
  /** Per core for `path` on this CPU: f32 FLOP/cycle, and the clock measured by this call (~80 ms; 0: unknown). */
  peak?(path: IsaPath): { flopsPerCycle: number; clockGhz: number };
  /** Private mapping of bytes [offset, offset + length) of an open file (absent in add-ons built before it existed). */
  mmapRange?(fd: number, offset: number, length: number): ArrayBuffer;
}

// This module sits one folder below the package root both as src/native-addon.ts (workspace) and as
// dist/native-addon.js (installed package), so the same relative URLs reach the add-on and its build script.
/** Where node-gyp puts the add-on, relative to this package. */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL("../build/Release/difflens_tensor.node", import.meta.url));
const BUILD_SCRIPT = fileURLToPath(new URL("../scripts/build-native.mjs", import.meta.url));

let loaded: { addon: NativeAddon | null; reason?: string } | undefined;
/** log2 of OpenBLAS's spin-wait in timestamp ticks (OpenBLAS clamps it to 4–30; its default is 28). */
export const OPENBLAS_THREAD_TIMEOUT_LOG2 = "16";

/**
 * Load the add-on once (lazily, on first need). Set DIFFLENS_NO_NATIVE=1 to pretend it is absent.
 * Never throws: failure is reported as `reason`.
 */
export function loadNativeAddon(): { addon: NativeAddon | null; reason?: string } {
  if (loaded) return loaded;
  if (process.env.DIFFLENS_NO_NATIVE === "1") {
    loaded = { addon: null, reason: "disabled by DIFFLENS_NO_NATIVE=1" };
  } else if (!existsSync(NATIVE_ADDON_PATH)) {
    const fix = `reinstall the package or run \`node ${BUILD_SCRIPT}\``;
    loaded = { addon: null, reason: `add-on not built (${NATIVE_ADDON_PATH} missing; ${fix})` };
  } else {
    try {
      // OpenBLAS's idle workers spin for 2^28 timestamp ticks (~0.1 s) after each call, holding cores the kernels
      // that follow need (our pool: top-k, sparse decode, Adam; an SAE step interleaves them with the encoder GEMM).
      // 2^16 ticks (~20 µs) still covers back-to-back BLAS calls. OpenBLAS reads this once, when the add-on (which
      // links it) loads; a value the user set wins.
      process.env.OPENBLAS_THREAD_TIMEOUT ??= OPENBLAS_THREAD_TIMEOUT_LOG2;
      const require = createRequire(import.meta.url);
      loaded = { addon: require(NATIVE_ADDON_PATH) as NativeAddon };
    } catch (error) {
      loaded = { addon: null, reason: `add-on failed to load: ${(error as Error).message.split("\n")[0]}` };
    }
  }
  return loaded;
}

/**
 * Memory-map a file read-only through the add-on: an ArrayBuffer over the file's pages (unmapped when
 * garbage-collected), or null when the add-on is unavailable. Throws (naming the file) if mapping fails.
 */
export function nativeMmap(path: string): ArrayBuffer | null {
  const { addon } = loadNativeAddon();
  return addon ? addon.mmapFile(path) : null;
}

/**
 * Memory-map bytes [offset, offset + length) of the file open as `fd` (private copy-on-write, unmapped when the
 * ArrayBuffer is collected; the file may be closed meanwhile), or null when the add-on (or this function of it) is
 * unavailable. Maps files too large for one ArrayBuffer piece by piece. Throws if the range is not in the file.
 */
export function nativeMmapRange(fd: number, offset: number, length: number): ArrayBuffer | null {
  const { addon } = loadNativeAddon();
  return addon?.mmapRange ? addon.mmapRange(fd, offset, length) : null;
}
