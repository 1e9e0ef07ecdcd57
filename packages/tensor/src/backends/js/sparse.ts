import type { SparseCodesGrads, TopKAmong, TopKOutput } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";
import { ranksBefore } from "./select.ts";

/**
 * Bounded selection of the best entries (ranking of topK: NaN first, −0 = +0, ties lower index) with
 * a min-heap whose root is the worst kept entry; emits them best first.
 */
class Selector {
  private val: Float64Array;
  private idx: Int32Array;
  private size = 0;
  constructor(private readonly k: number) {
    this.val = new Float64Array(Math.max(1, k));
    this.idx = new Int32Array(Math.max(1, k));
  }

  reset(): void {
    this.size = 0;
  }

  offer(v: number, j: number): void {
    const hv = this.val,
      hi = this.idx;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!ranksBefore(hv[p]!, hi[p]!, v, j)) break;
        hv[i] = hv[p]!;
        hi[i] = hi[p]!;
        i = p;
      }
      hv[i] = v;
      hi[i] = j;
    } else if (this.k > 0 && ranksBefore(v, j, hv[0]!, hi[0]!)) {
      this.siftDown(v, j, this.k);
    }
  }

  /** Put (v, j) at the root and sift it down within the first `size` slots. */
  private siftDown(v: number, j: number, size: number): void {
    const hv = this.val,
      hi = this.idx;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const w = r < size && ranksBefore(hv[l]!, hi[l]!, hv[r]!, hi[r]!) ? r : l; // the worse child
      if (!ranksBefore(v, j, hv[w]!, hi[w]!)) break;
      hv[i] = hv[w]!;
      hi[i] = hi[w]!;
      i = w;
    }
    hv[i] = v;
    hi[i] = j;
  }

  /** Writes the kept entries best first (pops the worst into the last slot) and empties the heap. */
  emit(values: Float32Array, indices: Int32Array, offset: number): void {
    while (this.size > 0) {
      const last = --this.size;
      values[offset + last] = this.val[0]!;
      indices[offset + last] = this.idx[0]!;
      if (last > 0) this.siftDown(this.val[last]!, this.idx[last]!, last);
    }
  }
}

/** Per row: best k of z + bias (f32 sums), and optionally the best among.k over the candidate columns. */
export function biasTopK(z: Tensor, bias: Tensor, k: number, out: TopKOutput, among?: TopKAmong): void {
  const zs = z.data as Float32Array,
    bs = bias.data as Float32Array;
  const n = bs.length,
    rows = zs.length / n;
  const sel = new Selector(k);
  const vals = out.values.data as Float32Array,
    idxs = out.indices.data as Int32Array;
  const cand = among ? (among.candidates.data as Int32Array) : new Int32Array(0);
  const kc = among?.k ?? 0;
  const csel = new Selector(kc);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    if (k > 0) {
      sel.reset();
      for (let j = 0; j < n; j++) sel.offer(Math.fround(zs[o + j]! + bs[j]!), j);
      sel.emit(vals, idxs, r * k);
    }
    if (among && kc > 0) {
      csel.reset();
      for (let c = 0; c < cand.length; c++) {
        const j = cand[c]!;
        csel.offer(Math.fround(zs[o + j]! + bs[j]!), j);
      }
      csel.emit(among.values.data as Float32Array, among.indices.data as Int32Array, r * kc);
    }
  }
}

/** out[r] += alpha·Σ_c relu(values[r, c])·table[indices[r, c]]: pairs with value ≤ 0 (or NaN) are skipped. */
export function sparseDecode(out: Tensor, indices: Tensor, values: Tensor, table: Tensor, alpha: number): Tensor {
  const o = out.data as Float32Array,
    t = table.data as Float32Array;
  const idx = indices.data as Int32Array,
    val = values.data as Float32Array;
  const d = table.shape[1]!,
    rows = out.shape[0]!,
    kk = rows === 0 ? 0 : idx.length / rows;
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    for (let c = r * kk; c < (r + 1) * kk; c++) {
      const a = val[c]!;
      if (!(a > 0)) continue;
      const coef = Math.fround(alpha * a);
      const w = idx[c]! * d;
      for (let i = 0; i < d; i++) o[base + i] = o[base + i]! + coef * t[w + i]!;
    }
  }
  return out;
}

/** See SparseCodesGrads: transposed accumulation over the active pairs in increasing row order. */
export function sparseCodesBackward(
  indices: Tensor,
  values: Tensor,
  g: Tensor,
  x: Tensor,
  table: Tensor,
  grads: SparseCodesGrads,
): void {
  const idx = indices.data as Int32Array,
    val = values.data as Float32Array;
  const gs = g.data as Float32Array,
    xs = x.data as Float32Array,
    w = table.data as Float32Array;
  const gT = grads.table.data as Float32Array,
    gE = grads.encoder.data as Float32Array,
    gB = grads.bias.data as Float32Array;
  const d = table.shape[1]!,
    rows = g.shape[0]!,
    kk = rows === 0 ? 0 : idx.length / rows;
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    for (let c = r * kk; c < (r + 1) * kk; c++) {
      const a = val[c]!;
      if (!(a > 0)) continue;
      const j = idx[c]!,
        base = j * d;
      if (grads.overwriteUntouched && !grads.touched[j]) {
        gT.fill(0, base, base + d);
        gE.fill(0, base, base + d);
        gB[j] = 0;
      }
      grads.touched[j] = 1;
      let dz = 0;
      for (let i = 0; i < d; i++) {
        const gi = gs[o + i]!;
        dz += gi * w[base + i]!;
        gT[base + i] = gT[base + i]! + a * gi;
      }
      gB[j] = gB[j]! + dz;
      for (let i = 0; i < d; i++) gE[base + i] = gE[base + i]! + dz * xs[o + i]!;
    }
  }
}
