/**
 * The leading direction of a stack of vectors: the top right singular vector of X [rows, d], computed as the top
 * eigenvector of XᵀX by cyclic Jacobi rotations in float64 (exact to rounding for the d ≤ a few thousand used here).
 */
export interface LeadingDirection {
  /** Unit vector [d] (sign fixed so its largest-magnitude entry is positive). */
  readonly direction: Float64Array;
  /** Singular values, descending. */
  readonly singularValues: Float64Array;
  /** σ1² / Σσ²: how much of the stack the direction explains. */
  readonly explained: number;
}

export function leadingRightSingularVector(rows: readonly ArrayLike<number>[], d: number): LeadingDirection {
  const g = new Float64Array(d * d); // XᵀX
  for (const r of rows)
    for (let i = 0; i < d; i++) {
      const ri = r[i]!;
      if (ri === 0) continue;
      for (let j = 0; j < d; j++) g[i * d + j]! += ri * r[j]!;
    }
  const { values, vectors } = symmetricEigen(g, d);
  let top = 0;
  for (let i = 1; i < d; i++) if (values[i]! > values[top]!) top = i;
  const direction = new Float64Array(d);
  for (let i = 0; i < d; i++) direction[i] = vectors[i * d + top]!;
  let big = 0;
  for (let i = 1; i < d; i++) if (Math.abs(direction[i]!) > Math.abs(direction[big]!)) big = i;
  if (direction[big]! < 0) for (let i = 0; i < d; i++) direction[i] = -direction[i]!;
  const sorted = Float64Array.from(values, (v) => Math.sqrt(Math.max(0, v)))
    .sort()
    .reverse();
  const total = values.reduce((s, v) => s + Math.max(0, v), 0);
  return { direction, singularValues: sorted, explained: total > 0 ? Math.max(0, values[top]!) / total : 0 };
}

/** Eigen-decomposition of a symmetric [d, d] matrix (cyclic Jacobi). vectors[:, k] pairs with values[k]. */
export function symmetricEigen(input: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(input);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q]! - a[p * d + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]!,
            akq = a[k * d + q]!;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!,
            aqk = a[q * d + k]!;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!,
            vkq = v[k * d + q]!;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: d }, (_, i) => a[i * d + i]!), vectors: v };
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}
