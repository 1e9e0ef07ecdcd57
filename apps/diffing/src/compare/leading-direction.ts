/**
 * The leading direction of a stack of vectors: the top right singular vector of X [rows, d], computed as the top
 * eigenvector of XᵀX by cyclic Jacobi rotations in float64 (stats' symmetricEigen; exact to rounding for the
 * d ≤ a few thousand used here).
 */
import { symmetricEigen } from "@difflens/stats";

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
  const top = 0; // values come sorted, largest first
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
