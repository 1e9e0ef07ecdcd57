/** Per token, the strongest latents of an SAE's sparse codes. */
import type { SparseCodes } from "@difflens/sae";

/** Row r's active latents (value > 0), largest first (ties: lower latent first), at most `k`. */
export function topLatents(codes: SparseCodes, row: number, k: number): { latent: number; value: number }[] {
  const out: { latent: number; value: number }[] = [];
  for (let j = codes.indptr[row]!; j < codes.indptr[row + 1]!; j++) {
    const value = codes.values[j]!;
    if (value > 0) out.push({ latent: codes.indices[j]!, value });
  }
  out.sort((a, b) => b.value - a.value || a.latent - b.latent);
  return out.slice(0, k);
}
