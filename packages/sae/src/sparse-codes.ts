/**
 * Latent activations of a batch in compressed-row form: row r's active latents are
 * indices[indptr[r] .. indptr[r+1]) with their values. TopK rows hold at most k entries.
 */
export interface SparseCodes {
  readonly rows: number;
  readonly dSae: number;
  /** [rows + 1] */
  readonly indptr: Int32Array;
  /** [nnz] latent ids */
  readonly indices: Int32Array;
  /** [nnz] activations (> 0) */
  readonly values: Float32Array;
}

/** Dense [rows, dSae] copy of sparse codes (for small batches, tests and exports). */
export function codesToDense(codes: SparseCodes): Float32Array {
  const out = new Float32Array(codes.rows * codes.dSae);
  for (let r = 0; r < codes.rows; r++) {
    for (let p = codes.indptr[r]!; p < codes.indptr[r + 1]!; p++)
      out[r * codes.dSae + codes.indices[p]!] = codes.values[p]!;
  }
  return out;
}

/** Mean number of active latents per row. */
export function codesL0(codes: SparseCodes): number {
  return codes.rows === 0 ? 0 : codes.indices.length / codes.rows;
}
