import { ROW_THREADS } from "./sparse-common.ts";

/**
 * `fn sortSegment(s: u32, n: u32, lid: u32)`: sorts order[s, s + n) ascending in place, with the ROW_THREADS threads
 * of one workgroup (the module declares `order: array<u32>` read_write). Call from uniform control flow with
 * uniform s and n (e.g. through workgroupUniformLoad).
 *
 * A bitonic network whose comparators all point the same way (the first step of each merge compares mirror
 * positions, i ^ (k − 1), the others i ^ h), over the segment virtually padded to a power of two with +∞: a
 * comparator that touches the padding would never swap, so it is skipped. O(n log² n / threads) steps, all in place
 * in the storage buffer (storageBarrier between steps); segments are usually a handful of entries.
 */
export const WGSL_SORT_SEGMENT = /* wgsl */ `
fn sortSegment(s: u32, n: u32, lid: u32) {
  for (var k = 2u; k < 2u * n; k <<= 1u) {      // k runs over the powers of two ≤ n's ceiling power of two
    for (var h = k >> 1u; h > 0u; h >>= 1u) {
      for (var i = lid; i < n; i += ${ROW_THREADS}u) {
        let l = select(i ^ h, i ^ (k - 1u), h == (k >> 1u));
        if (l > i && l < n) {
          let a = order[s + i];
          let b = order[s + l];
          if (a > b) { order[s + i] = b; order[s + l] = a; }
        }
      }
      storageBarrier();
    }
  }
}
`;
