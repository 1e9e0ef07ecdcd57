/**
 * Top positive and negative output logits of every latent's decoder direction: W_dec[i] · W_Uᵀ, the direct effect of
 * the latent on the logits — the decoder row as stored, through the model's lm_head, with **no final norm** and no
 * later layers. What the others do: sae_vis / SAELens (and so Neuronpedia's dashboards) take `feature_resid_dir @
 * W_U` the same way, without normalising by the residual's scale; their W_U is TransformerLens's, which by default
 * has the final norm's per-channel weight folded in (fold_ln) and is centred over the vocabulary (center_unembed:
 * a shift per latent that leaves the ranking alone). Ours is the raw lm_head, so the tokens can differ from theirs
 * only through that per-channel weight of the final RMSNorm. Either way the numbers are comparable across latents
 * but are not the logit change of a real forward pass.
 * Computed for all latents in chunks: one [chunk, dModel] × [dModel, vocab] GEMM and a per-row top-k each, so the
 * [dSae, vocab] matrix never exists whole. They run where lm_head lives (a device: only the top-k come back).
 */
import { gemm, release, scale, Tensor, toDevice, toHostAll, topK } from "@difflens/tensor";

export interface DecoderLogits {
  readonly dSae: number;
  readonly topN: number;
  /** [dSae, topN] token ids, largest logit first. */
  readonly positiveIds: Int32Array;
  readonly positiveValues: Float32Array;
  /** [dSae, topN] token ids, most negative logit first. */
  readonly negativeIds: Int32Array;
  readonly negativeValues: Float32Array;
}

export const LOGITS_TOP_N = 20;

/**
 * @param wDec [dSae, dModel] decoder rows
 * @param unembedding [vocab, dModel] the model's lm_head (any float dtype), on the current backend's device
 */
export async function decoderLogits(
  wDec: Float32Array,
  dSae: number,
  unembedding: Tensor,
  topN = LOGITS_TOP_N,
  chunk = 64,
): Promise<DecoderLogits> {
  const [vocab, dModel] = unembedding.shape as [number, number];
  if (wDec.length !== dSae * dModel)
    throw new Error(`decoderLogits: W_dec has ${wDec.length} values, expected dSae ${dSae} × dModel ${dModel}`);
  const n = Math.min(topN, vocab);
  const out = {
    dSae,
    topN: n,
    positiveIds: new Int32Array(dSae * n),
    positiveValues: new Float32Array(dSae * n),
    negativeIds: new Int32Array(dSae * n),
    negativeValues: new Float32Array(dSae * n),
  };
  for (let from = 0; from < dSae; from += chunk) {
    const rows = Math.min(chunk, dSae - from);
    const dec = toDevice(new Tensor("f32", [rows, dModel], wDec.subarray(from * dModel, (from + rows) * dModel)));
    const logits = gemm(dec, unembedding, { transB: true }); // [rows, vocab]
    const negated = scale(logits, -1);
    const pos = topK(logits, n);
    const neg = topK(negated, n);
    const [posIds, posValues, negIds, negTop] = await toHostAll([pos.indices, pos.values, neg.indices, neg.values]);
    for (const t of [dec, logits, negated, pos.indices, pos.values, neg.indices, neg.values]) release(t);
    out.positiveIds.set(posIds!.data as Int32Array, from * n);
    out.positiveValues.set(posValues!.data as Float32Array, from * n);
    out.negativeIds.set(negIds!.data as Int32Array, from * n);
    const negValues = negTop!.data as Float32Array;
    for (let j = 0; j < negValues.length; j++) out.negativeValues[from * n + j] = -negValues[j]!;
  }
  return out;
}
