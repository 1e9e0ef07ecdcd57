/** Analysis helpers: logit lens, direct logit attribution, per-token loss, KL between runs. */
import { gemm, rmsNorm, softmax, Tensor, toFloat32Array } from "@difflens/tensor";
import { InputError } from "../errors.ts";
import type { Model } from "../model.ts";
import { fmtShape } from "../tensor-utils.ts";

/**
 * Logit lens: a residual stream [..., dModel] (any hook with dModel last, e.g. blocks.L.hook_resid_post) through
 * the final RMSNorm and the unembedding → logits [..., vocab].
 */
export function logitLens(model: Model, resid: Tensor): Tensor {
  const d = model.config.dModel;
  if (resid.shape[resid.shape.length - 1] !== d)
    throw new InputError("BAD_ARGUMENT", `logitLens: expected [..., ${d}], got ${fmtShape(resid.shape)}`, {
      expected: d,
      got: resid.shape,
    });
  const rows = resid.size / d;
  const normed = rmsNorm(
    new Tensor("f32", [rows, d], toFloat32Array(resid)),
    model.weights.finalNorm,
    model.config.rmsNormEps,
  );
  return gemm(normed, model.weights.lmHead, { transB: true }).reshape([
    ...resid.shape.slice(0, -1),
    model.config.vocabSize,
  ]);
}

/**
 * Direct logit attribution: how much each component writes to each token's logit through the final norm, using
 * the norm's scale of the full residual stream (as TransformerLens' apply_ln_to_stack does):
 *   dla[r, t] = Σ_i component[r, i] / rms(finalResid[r]) · normWeight[i] · W_U[token_t, i]
 * components, finalResid: [rows, dModel] (or with leading dims) → [rows, tokens.length].
 */
export function directLogitAttribution(
  model: Model,
  components: Tensor,
  finalResid: Tensor,
  tokens: readonly number[],
): Tensor {
  const { dModel: d, vocabSize, rmsNormEps } = model.config;
  if (components.size !== finalResid.size || components.shape[components.shape.length - 1] !== d) {
    throw new InputError(
      "BAD_ARGUMENT",
      `directLogitAttribution: components ${fmtShape(components.shape)} and finalResid ${fmtShape(finalResid.shape)} must both be [..., ${d}]`,
      { got: [components.shape, finalResid.shape] },
    );
  }
  for (const t of tokens)
    if (!Number.isInteger(t) || t < 0 || t >= vocabSize)
      throw new InputError("TOKEN_OUT_OF_RANGE", `directLogitAttribution: token ${t} outside [0, ${vocabSize})`, {
        got: t,
      });
  const rows = components.size / d;
  const comp = toFloat32Array(components);
  const resid = toFloat32Array(finalResid);
  const w = toFloat32Array(model.weights.finalNorm);
  const head = model.weights.lmHead;
  const unembed = tokens.map((t) =>
    toFloat32Array(new Tensor(head.dtype, [d], head.data.subarray(t * d, (t + 1) * d) as never)),
  );
  const out = new Float32Array(rows * tokens.length);
  for (let r = 0; r < rows; r++) {
    let ms = 0;
    for (let i = 0; i < d; i++) ms += resid[r * d + i]! ** 2;
    const inv = 1 / Math.sqrt(ms / d + rmsNormEps);
    tokens.forEach((_, k) => {
      const u = unembed[k]!;
      let acc = 0;
      for (let i = 0; i < d; i++) acc += comp[r * d + i]! * w[i]! * u[i]!;
      out[r * tokens.length + k] = acc * inv;
    });
  }
  return new Tensor("f32", [rows, tokens.length], out);
}

function logSoftmaxRow(x: Float32Array, off: number, n: number): { max: number; lse: number } {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, x[off + i]!);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(x[off + i]! - max);
  return { max, lse: max + Math.log(s) };
}

/**
 * Next-token cross-entropy per position: loss[b, s] = −log p(ids[b, s+1] | ≤ s), in nats (f64 log-sum-exp).
 * logits [batch, seq, vocab], ids [batch][seq] → [batch, seq−1]; with a mask, positions whose target or input is
 * padding get NaN.
 */
export function perTokenLoss(
  logits: Tensor,
  ids: readonly (readonly number[])[],
  attentionMask?: readonly (readonly number[])[],
): Tensor {
  const [B, S, V] = logits.shape as [number, number, number];
  if (ids.length !== B || ids.some((r) => r.length !== S))
    throw new InputError("BATCH_SHAPE", `perTokenLoss: ids must be [${B}][${S}] like the logits`, { expected: [B, S] });
  const x = toFloat32Array(logits);
  const out = new Float32Array(B * Math.max(S - 1, 0));
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S - 1; s++) {
      if (attentionMask && (!attentionMask[b]![s] || !attentionMask[b]![s + 1])) {
        out[b * (S - 1) + s] = NaN;
        continue;
      }
      const off = (b * S + s) * V;
      const { lse } = logSoftmaxRow(x, off, V);
      out[b * (S - 1) + s] = lse - x[off + ids[b]![s + 1]!]!;
    }
  }
  return new Tensor("f32", [B, S - 1], out);
}

/**
 * KL(P ‖ Q) per position between two runs' logits (P = softmax(logitsP)), in nats. [..., vocab] → [...].
 * The exponentials run in the tensor backend's softmax (f32); the sum Σ p_i·(log p_i − log q_i) is f64, with
 * log p_i = x_i − lse(x) and lse(x) read back at the row's argmax (where p ≥ 1/vocab, so the log is well conditioned).
 */
export function klDivergence(logitsP: Tensor, logitsQ: Tensor): Tensor {
  if (logitsP.shape.join() !== logitsQ.shape.join())
    throw new InputError(
      "BATCH_SHAPE",
      `klDivergence: shapes ${fmtShape(logitsP.shape)} and ${fmtShape(logitsQ.shape)} differ`,
      { got: [logitsP.shape, logitsQ.shape] },
    );
  const V = logitsP.shape[logitsP.shape.length - 1]!;
  const x = toFloat32Array(logitsP);
  const y = toFloat32Array(logitsQ);
  const p = softmax(new Tensor("f32", logitsP.shape, x)).data as Float32Array;
  const q = softmax(new Tensor("f32", logitsQ.shape, y)).data as Float32Array;
  const rows = x.length / V;
  const out = new Float32Array(rows);
  const lse = (logits: Float32Array, probs: Float32Array, off: number): number => {
    let j = off;
    for (let i = off + 1; i < off + V; i++) if (logits[i]! > logits[j]!) j = i;
    return logits[j]! - Math.log(probs[j]!);
  };
  for (let r = 0; r < rows; r++) {
    const off = r * V;
    const shift = lse(y, q, off) - lse(x, p, off); // log p_i − log q_i = x_i − y_i + shift
    let kl = 0;
    for (let i = off; i < off + V; i++) kl += p[i]! * (x[i]! - y[i]! + shift);
    out[r] = Math.max(kl, 0);
  }
  return new Tensor("f32", logitsP.shape.slice(0, -1), out);
}
