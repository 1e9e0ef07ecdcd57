/** Analysis helpers: logit lens, direct logit attribution, per-token loss, KL between runs. */
import { release, Tensor, toDevice, toFloat32Array, toHost } from "@difflens/tensor";
import { InputError } from "../errors.ts";
import type { Model } from "../model.ts";
import { fmtShape } from "../tensor-utils.ts";

/**
 * Logit lens: a residual stream [..., dModel] (any hook with dModel last, e.g. blocks.L.hook_resid_post) through
 * the family's tail — final norm, unembedding and any final soft-cap (`family.unembed`) → logits [..., vocab] on the
 * host. Runs on the model's device (hence async).
 */
export async function logitLens(model: Model, resid: Tensor): Promise<Tensor> {
  const d = model.config.dModel;
  if (resid.shape[resid.shape.length - 1] !== d)
    throw new InputError("BAD_ARGUMENT", `logitLens: expected [..., ${d}], got ${fmtShape(resid.shape)}`, {
      expected: d,
      got: resid.shape,
    });
  const rows = resid.size / d;
  const x = resid.device === "cpu" ? new Tensor("f32", [rows, d], toFloat32Array(resid)) : resid.reshape([rows, d]);
  const onDevice = toDevice(x);
  const logits = model.family.unembed(model.config, model.weights, onDevice); // [rows, vocab]
  const host = await toHost(logits);
  if (logits !== host) release(logits);
  if (onDevice !== resid && onDevice !== x) release(onDevice);
  return host.reshape([...resid.shape.slice(0, -1), model.config.vocabSize]);
}

/**
 * Direct logit attribution: how much each component writes to each token's logit through the final norm, using
 * the norm's scale of the full residual stream (as TransformerLens' apply_ln_to_stack does):
 *   dla[r, t] = Σ_i component[r, i] / rms(finalResid[r]) · (offset + normWeight[i]) · W_U[token_t, i]
 * (offset: the family's `normWeightOffset`, 1 for Gemma). A final logit soft-cap is not linear and is left out (the
 * attribution is to the pre-cap logits). components, finalResid: [rows, dModel] (or with leading dims) →
 * [rows, tokens.length]. Host arithmetic (f64) on the model's host weights.
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
  const offset = model.family.normWeightOffset ?? 0;
  const w = Float64Array.from(toFloat32Array(model.hostWeights.finalNorm), (v) => offset + v);
  const head = model.hostWeights.lmHead;
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
 * Host arithmetic in f64: log p_i = x_i − lse(x), so KL = Σ p_i·(x_i − lse(x) − y_i + lse(y)) (exactly 0 for equal
 * logits).
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
  const rows = x.length / V;
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const off = r * V;
    const lseP = logSoftmaxRow(x, off, V).lse;
    const shift = logSoftmaxRow(y, off, V).lse - lseP; // log p_i − log q_i = x_i − y_i + shift
    let kl = 0;
    for (let i = off; i < off + V; i++) kl += Math.exp(x[i]! - lseP) * (x[i]! - y[i]! + shift);
    out[r] = Math.max(kl, 0);
  }
  return new Tensor("f32", logitsP.shape.slice(0, -1), out);
}
