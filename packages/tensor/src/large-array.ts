import { loadNativeAddon } from "./native-addon.ts";

/** Below this, a plain Float32Array (a huge page is 2 MiB; the arrays that gain are the 100 MB matrices). */
const LARGE_BYTES = 4 << 20;

/**
 * A zeroed Float32Array for a large matrix that kernels read a row at a time in random order (an SAE's decoder and
 * encoder, their gradients and Adam moments). With the native add-on on Linux its memory is 2 MiB-aligned and
 * advised for transparent huge pages (`native/mmap.c`): with 4 KiB pages nearly every row such a kernel visits costs
 * a TLB miss. Elsewhere, and for small arrays, it is `new Float32Array(length)`. Either way an ordinary Float32Array.
 */
export function largeFloat32Array(length: number): Float32Array<ArrayBuffer> {
  if (!Number.isInteger(length) || length < 0)
    throw new RangeError(`largeFloat32Array: length must be a non-negative integer, got ${length}`);
  if (length * 4 < LARGE_BYTES) return new Float32Array(length);
  const { addon } = loadNativeAddon();
  if (addon?.allocLarge) {
    try {
      return new Float32Array(addon.allocLarge(length * 4));
    } catch {
      // A runtime that refuses external ArrayBuffers (or a failed mapping): ordinary memory serves the same.
    }
  }
  return new Float32Array(length);
}

/** A copy of `values` in largeFloat32Array memory. */
export function largeFloat32Copy(values: Float32Array): Float32Array<ArrayBuffer> {
  const out = largeFloat32Array(values.length);
  out.set(values);
  return out;
}
