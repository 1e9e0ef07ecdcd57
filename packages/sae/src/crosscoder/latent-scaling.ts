import type { Crosscoder } from "./crosscoder.ts";
import type { PairedActivationSource } from "./paired-source.ts";

/**
 * Latent Scaling (Minder, Dumas et al. 2025, §3): how much of latent j's chat decoder direction d = d_j^chat, scaled
 * by its activation f_j(x), each model's activations actually hold. For a target yᵢ, the least-squares scale
 *
 *   β = argmin_β Σᵢ ‖β·f_j(xᵢ)·d − yᵢ‖² = Σᵢ f_j(xᵢ)·⟨d, yᵢ⟩ / (‖d‖²·Σᵢ f_j(xᵢ)²)      (closed form)
 *
 * is fitted for four targets, m ∈ {base, chat}:
 *   reconstruction  yᵢ = ĥ^m(xᵢ)                                  the crosscoder's reconstruction of model m
 *   error           yᵢ = h^m(xᵢ) − ĥ^m(xᵢ) + f_j(xᵢ)·d_j^m      model m's activation minus the reconstruction
 *                                                                 without latent j
 * and ν = β^base / β^chat for each. A truly chat-specific latent has ν^ε ≈ 0 and ν^r ≈ 0; a latent that the base
 * model also carries (an L1 artifact: Complete Shrinkage shows in ν^ε, Latent Decoupling in ν^r) has ν near 1.
 * Rows where f_j = 0 add nothing to either sum, so only the rows where j fires are visited.
 */
export interface LatentScalingResult {
  latent: number;
  /** Rows where the latent fired. */
  count: number;
  betaReconstruction: { base: number; chat: number };
  betaError: { base: number; chat: number };
  /** β^r,base / β^r,chat */
  nuReconstruction: number;
  /** β^ε,base / β^ε,chat */
  nuError: number;
}

export async function latentScaling(
  cc: Crosscoder,
  source: PairedActivationSource,
  latents: readonly number[],
): Promise<LatentScalingResult[]> {
  const d = cc.spec.dIn;
  const slot = new Map<number, number>(latents.map((j, q) => [j, q]));
  const L = latents.length;
  // Per latent: Σf², Σf⟨d,ĥ^b⟩, Σf⟨d,ĥ^c⟩, Σf⟨d,ε^b⟩, Σf⟨d,ε^c⟩, count (float64).
  const acc = new Float64Array(L * 6);
  const dChat = latents.map((j) => cc.decoderRow(j, "chat"));
  const dBase = latents.map((j) => cc.decoderRow(j, "base"));
  const dd = latents.map((_, q) => dot(dChat[q]!, dChat[q]!, 0));
  const dDotBase = latents.map((_, q) => dot(dChat[q]!, dBase[q]!, 0));
  for await (const batch of source) {
    const rows = batch.base.shape[0]!;
    const hb = batch.base.data as Float32Array,
      hc = batch.chat.data as Float32Array;
    const codes = cc.encode(hb, hc, rows);
    const rec = cc.decode(codes);
    for (let r = 0; r < rows; r++) {
      for (let p = codes.indptr[r]!; p < codes.indptr[r + 1]!; p++) {
        const q = slot.get(codes.indices[p]!);
        if (q === undefined) continue;
        const f = codes.values[p]!,
          v = dChat[q]!,
          o = r * d;
        const recB = dot(v, rec.base, o),
          recC = dot(v, rec.chat, o);
        // ⟨d, h − ĥ⟩ + f·⟨d, d^m⟩ — the error without latent j.
        const errB = dot(v, hb, o) - recB + f * dDotBase[q]!,
          errC = dot(v, hc, o) - recC + f * dd[q]!;
        const a = acc.subarray(q * 6, q * 6 + 6);
        a[0]! += f * f;
        a[1]! += f * recB;
        a[2]! += f * recC;
        a[3]! += f * errB;
        a[4]! += f * errC;
        a[5]! += 1;
      }
    }
  }
  return latents.map((latent, q) => {
    const a = acc.subarray(q * 6, q * 6 + 6);
    const den = dd[q]! * a[0]!;
    const beta = (num: number) => (den > 0 ? num / den : Number.NaN);
    const br = { base: beta(a[1]!), chat: beta(a[2]!) },
      be = { base: beta(a[3]!), chat: beta(a[4]!) };
    return {
      latent,
      count: a[5]!,
      betaReconstruction: br,
      betaError: be,
      nuReconstruction: br.base / br.chat,
      nuError: be.base / be.chat,
    };
  });
}

/** ⟨v, x[o .. o + v.length)⟩ in float64. */
function dot(v: Float32Array, x: Float32Array, o: number): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * x[o + i]!;
  return s;
}

/**
 * Our reading of ν (the paper plots distributions rather than fixing a cut): a chat-only latent is chat-specific when
 * both ratios are below `maxNu` (default 0.5: the base model holds less than half of what the chat model does), an
 * artifact otherwise.
 */
export function isChatSpecific(r: LatentScalingResult, maxNu = 0.5): boolean {
  return r.nuError < maxNu && r.nuReconstruction < maxNu;
}
