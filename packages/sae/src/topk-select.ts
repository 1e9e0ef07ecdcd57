/**
 * Top-k selection over one row of a Float32Array with a size-k min-heap: one compare per element
 * for the common case (value below the current k-th best), so a row of n costs ~n compares.
 * Results are written sorted by value descending (ties: lower index first), which makes them
 * independent of the scan order.
 */
export class TopKSelector {
  private readonly heapVal: Float32Array;
  private readonly heapIdx: Int32Array;
  constructor(readonly capacity: number) {
    this.heapVal = new Float32Array(Math.max(1, capacity));
    this.heapIdx = new Int32Array(Math.max(1, capacity));
  }

  /** Top k of src[offset .. offset+n); writes k indices (relative to offset) and values. */
  selectRow(
    src: Float32Array,
    offset: number,
    n: number,
    k: number,
    outIdx: Int32Array,
    outVal: Float32Array,
    outOffset: number,
  ): void {
    const hv = this.heapVal;
    const hi = this.heapIdx;
    for (let i = 0; i < k; i++) {
      hv[i] = src[offset + i]!;
      hi[i] = i;
    }
    for (let i = (k >> 1) - 1; i >= 0; i--) this.siftDown(i, k);
    let minVal = hv[0]!;
    for (let i = k; i < n; i++) {
      const v = src[offset + i]!;
      if (v > minVal) {
        hv[0] = v;
        hi[0] = i;
        this.siftDown(0, k);
        minVal = hv[0]!;
      }
    }
    this.emitSorted(k, outIdx, outVal, outOffset);
  }

  /** Top k of src[offset + candidates[c]] over the candidate list (AuxK over dead latents). */
  selectAmong(
    src: Float32Array,
    offset: number,
    candidates: Int32Array,
    count: number,
    k: number,
    outIdx: Int32Array,
    outVal: Float32Array,
    outOffset: number,
  ): void {
    const hv = this.heapVal;
    const hi = this.heapIdx;
    for (let c = 0; c < k; c++) {
      const j = candidates[c]!;
      hv[c] = src[offset + j]!;
      hi[c] = j;
    }
    for (let i = (k >> 1) - 1; i >= 0; i--) this.siftDown(i, k);
    let minVal = hv[0]!;
    for (let c = k; c < count; c++) {
      const j = candidates[c]!;
      const v = src[offset + j]!;
      if (v > minVal) {
        hv[0] = v;
        hi[0] = j;
        this.siftDown(0, k);
        minVal = hv[0]!;
      }
    }
    this.emitSorted(k, outIdx, outVal, outOffset);
  }

  // Min-heap on value; among equal values the larger index is "smaller" so lower indices survive.
  private less(a: number, b: number): boolean {
    const va = this.heapVal[a]!,
      vb = this.heapVal[b]!;
    return va < vb || (va === vb && this.heapIdx[a]! > this.heapIdx[b]!);
  }

  private siftDown(start: number, size: number): void {
    const hv = this.heapVal,
      hi = this.heapIdx;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) return;
      const r = l + 1;
      const m = r < size && this.less(r, l) ? r : l;
      if (!this.less(m, i)) return;
      const tv = hv[i]!;
      hv[i] = hv[m]!;
      hv[m] = tv;
      const ti = hi[i]!;
      hi[i] = hi[m]!;
      hi[m] = ti;
      i = m;
    }
  }

  private emitSorted(k: number, outIdx: Int32Array, outVal: Float32Array, outOffset: number): void {
    // Pop the min repeatedly, filling from the back: result is descending.
    let size = k;
    const hv = this.heapVal,
      hi = this.heapIdx;
    while (size > 0) {
      outIdx[outOffset + size - 1] = hi[0]!;
      outVal[outOffset + size - 1] = hv[0]!;
      size--;
      hv[0] = hv[size]!;
      hi[0] = hi[size]!;
      this.siftDown(0, size);
    }
  }
}
