import { currentBackend, hostBackend, Tensor } from "@difflens/tensor";
import { SaeError } from "./errors.ts";
import type { SparseCodes } from "./sparse-codes.ts";
import { TopKSelector } from "./topk-select.ts";

/**
 * How pre-activations become latent activations.
 * - topk: keep the k largest per row, then ReLU (what we train).
 * - relu: ReLU of every pre-activation (SAELens "standard").
 * - jumprelu: keep pre > threshold[i] (SAELens JumpReLU).
 * - batchtopk: dictionary_learning BatchTopKSAE — at inference keep pre > threshold (a scalar learned
 *   in training) or, with `useThreshold: false`, the per-row top k.
 */
export type SaeActivation =
  | { kind: "topk"; k: number }
  | { kind: "relu" }
  | { kind: "jumprelu"; threshold: Float32Array }
  | { kind: "batchtopk"; k: number; threshold: number; useThreshold: boolean };

/**
 * Per-token input normalisation a loaded SAE applies before encoding and undoes after decoding
 * (SAELens `normalize_activations`): none, layer_norm ((x−μ)/σ, output·σ+μ) or constant_norm_rescale
 * (x·√dIn/‖x‖, output·‖x‖/√dIn). Our own SAEs fold scaling into the weights and use none.
 */
export type InputNormalization = "none" | "layer_norm" | "constant_norm_rescale";

export interface SaeWeights {
  /** [dSae, dIn] row i = encoder direction of latent i (= SAELens W_enc transposed, sparsify encoder.weight). */
  wEnc: Float32Array;
  /** [dSae] */
  bEnc: Float32Array;
  /** [dSae, dIn] row i = decoder direction of latent i (SAELens and sparsify W_dec). */
  wDec: Float32Array;
  /** [dIn] */
  bDec: Float32Array;
}

export interface SaeSpec {
  dIn: number;
  dSae: number;
  activation: SaeActivation;
  /** Subtract bDec from inputs before the encoder (SAELens apply_b_dec_to_input; true for TopK SAEs). */
  applyBDecToInput?: boolean;
  inputNormalization?: InputNormalization;
  /** Hook point the SAE reads (TransformerLens name), when known. */
  hookName?: string | null;
}

/** Rows per encoder GEMM chunk: bounds the [rows, dSae] pre-activation buffer. */
const ENCODE_CHUNK_ROWS = 256;

/** A sparse autoencoder (inference): encode, sparse decode, forward, feature directions. */
export class Sae {
  readonly dIn: number;
  readonly dSae: number;
  readonly activation: SaeActivation;
  readonly applyBDecToInput: boolean;
  readonly inputNormalization: InputNormalization;
  readonly hookName: string | null;
  readonly weights: SaeWeights;

  constructor(spec: SaeSpec, weights: SaeWeights) {
    const { dIn, dSae } = spec;
    if (!Number.isInteger(dIn) || dIn < 1 || !Number.isInteger(dSae) || dSae < 1) {
      throw new SaeError("CONFIG_INVALID", `Sae: dIn and dSae must be positive integers, got dIn=${dIn}, dSae=${dSae}`);
    }
    const want: Record<keyof SaeWeights, number> = { wEnc: dSae * dIn, bEnc: dSae, wDec: dSae * dIn, bDec: dIn };
    for (const key of Object.keys(want) as (keyof SaeWeights)[]) {
      if (weights[key].length !== want[key]) {
        throw new SaeError(
          "SHAPE_MISMATCH",
          `Sae: ${key} has ${weights[key].length} elements, expected ${want[key]} for dIn=${dIn}, dSae=${dSae}`,
          { field: key, expected: want[key], got: weights[key].length },
        );
      }
    }
    const act = spec.activation;
    if ((act.kind === "topk" || act.kind === "batchtopk") && (!Number.isInteger(act.k) || act.k < 1 || act.k > dSae)) {
      throw new SaeError("CONFIG_INVALID", `Sae: k must be an integer in [1, dSae=${dSae}], got ${act.k}`, {
        field: "k",
        got: act.k,
      });
    }
    if (act.kind === "jumprelu" && act.threshold.length !== dSae) {
      throw new SaeError(
        "SHAPE_MISMATCH",
        `Sae: jumprelu threshold has ${act.threshold.length} elements, expected dSae=${dSae}`,
      );
    }
    this.dIn = dIn;
    this.dSae = dSae;
    this.activation = act;
    this.applyBDecToInput = spec.applyBDecToInput ?? true;
    this.inputNormalization = spec.inputNormalization ?? "none";
    this.hookName = spec.hookName ?? null;
    this.weights = weights;
  }

  /** Active latents per row for topk-style activations, else undefined. */
  get k(): number | undefined {
    const a = this.activation;
    return a.kind === "topk" || a.kind === "batchtopk" ? a.k : undefined;
  }

  /** Pre-activations (x − bDec)·Wencᵀ + bEnc for rows [row0, row0+rows) of normalised x. → [rows, dSae] */
  private preActivations(xn: Float32Array, row0: number, rows: number): Float32Array {
    const { dIn, dSae } = this;
    const xc = new Float32Array(rows * dIn);
    const bDec = this.weights.bDec;
    for (let r = 0; r < rows; r++) {
      const src = (row0 + r) * dIn,
        dst = r * dIn;
      for (let i = 0; i < dIn; i++) xc[dst + i] = xn[src + i]! - (this.applyBDecToInput ? bDec[i]! : 0);
    }
    const pre = hostEncoderGemm(xc, this.weights.wEnc, rows, dIn, dSae);
    const bEnc = this.weights.bEnc;
    for (let r = 0; r < rows; r++) for (let j = 0; j < dSae; j++) pre[r * dSae + j]! += bEnc[j]!;
    return pre;
  }

  /** Dense pre-activations of a batch. x: [batch, dIn] → [batch, dSae] */
  preActivationsOf(x: Tensor): Tensor {
    const { rows, xn } = this.normalizedInput(x);
    return new Tensor("f32", [rows, this.dSae], this.preActivations(xn.data, 0, rows));
  }

  /** Sparse latent activations. x: [batch, dIn] → codes with `rows` = batch */
  encode(x: Tensor): SparseCodes {
    const { rows, xn } = this.normalizedInput(x);
    const { dSae } = this;
    const indptr = new Int32Array(rows + 1);
    const idxParts: Int32Array[] = [];
    const valParts: Float32Array[] = [];
    let nnz = 0;
    const act = this.activation;
    const topk = act.kind === "topk" || (act.kind === "batchtopk" && !act.useThreshold) ? act.k : 0;
    const selector = new TopKSelector(topk);
    const rowIdx = new Int32Array(topk > 0 ? topk : dSae);
    const rowVal = new Float32Array(topk > 0 ? topk : dSae);
    for (let row0 = 0; row0 < rows; row0 += ENCODE_CHUNK_ROWS) {
      const n = Math.min(ENCODE_CHUNK_ROWS, rows - row0);
      const pre = this.preActivations(xn.data, row0, n);
      for (let r = 0; r < n; r++) {
        let count = 0;
        const off = r * dSae;
        if (topk > 0) {
          selector.selectRow(pre, off, dSae, topk, rowIdx, rowVal, 0);
          for (let c = 0; c < topk; c++)
            if (rowVal[c]! > 0) {
              rowIdx[count] = rowIdx[c]!;
              rowVal[count++] = rowVal[c]!;
            }
        } else {
          for (let j = 0; j < dSae; j++) {
            const v = pre[off + j]!;
            const keep =
              act.kind === "relu"
                ? v > 0
                : act.kind === "jumprelu"
                  ? v > act.threshold[j]! && v > 0
                  : act.kind === "batchtopk"
                    ? v > act.threshold && v > 0
                    : false;
            if (keep) {
              rowIdx[count] = j;
              rowVal[count++] = v;
            }
          }
        }
        idxParts.push(rowIdx.slice(0, count));
        valParts.push(rowVal.slice(0, count));
        nnz += count;
        indptr[row0 + r + 1] = nnz;
      }
    }
    const indices = new Int32Array(nnz);
    const values = new Float32Array(nnz);
    let p = 0;
    for (let i = 0; i < idxParts.length; i++) {
      indices.set(idxParts[i]!, p);
      values.set(valParts[i]!, p);
      p += idxParts[i]!.length;
    }
    const codes: SparseCodes & { norm?: NormState } = { rows, dSae, indptr, indices, values };
    if (xn.norm) codes.norm = xn.norm;
    return codes;
  }

  /** Sparse decode: only the active rows of Wdec. codes → [rows, dIn] */
  decode(codes: SparseCodes): Tensor {
    const { dIn } = this;
    if (codes.dSae !== this.dSae)
      throw new SaeError("SHAPE_MISMATCH", `Sae.decode: codes have dSae=${codes.dSae}, this SAE has ${this.dSae}`);
    const out = new Float32Array(codes.rows * dIn);
    const { wDec, bDec } = this.weights;
    for (let r = 0; r < codes.rows; r++) {
      const o = r * dIn;
      for (let i = 0; i < dIn; i++) out[o + i] = bDec[i]!;
      for (let p = codes.indptr[r]!; p < codes.indptr[r + 1]!; p++) {
        const a = codes.values[p]!;
        const w = codes.indices[p]! * dIn;
        for (let i = 0; i < dIn; i++) out[o + i]! += a * wDec[w + i]!;
      }
    }
    const norm = (codes as { norm?: NormState }).norm;
    if (norm) denormalize(out, dIn, norm);
    return new Tensor("f32", [codes.rows, dIn], out);
  }

  /** Reconstruction of x through the SAE. x: [batch, dIn] → [batch, dIn] */
  forward(x: Tensor): Tensor {
    return this.decode(this.encode(x));
  }

  /** Decoder direction of latent i (unit norm for SAEs we train): what steering adds. → [dIn] copy */
  featureDirection(i: number): Float32Array {
    this.checkLatent(i);
    return this.weights.wDec.slice(i * this.dIn, (i + 1) * this.dIn);
  }

  /** Encoder direction of latent i. → [dIn] copy */
  encoderDirection(i: number): Float32Array {
    this.checkLatent(i);
    return this.weights.wEnc.slice(i * this.dIn, (i + 1) * this.dIn);
  }

  private checkLatent(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.dSae)
      throw new SaeError("CONFIG_INVALID", `latent index ${i} out of range [0, ${this.dSae})`);
  }

  private normalizedInput(x: Tensor): { rows: number; xn: { data: Float32Array; norm?: NormState } } {
    if (x.dtype !== "f32") throw new SaeError("SHAPE_MISMATCH", `Sae: expected f32 activations, got ${x.dtype}`);
    const last = x.shape[x.shape.length - 1];
    if (x.shape.length < 1 || last !== this.dIn) {
      throw new SaeError(
        "D_IN_MISMATCH",
        `Sae: activations have width ${last} (shape [${x.shape.join(", ")}]), this SAE expects dIn=${this.dIn}`,
        { expected: this.dIn, got: last },
      );
    }
    const data = x.data as Float32Array;
    const rows = data.length / this.dIn;
    if (this.inputNormalization === "none") return { rows, xn: { data } };
    const out = new Float32Array(data.length);
    const shift = new Float32Array(rows),
      mult = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const o = r * this.dIn;
      let mu = 0,
        ss = 0;
      if (this.inputNormalization === "layer_norm") {
        for (let i = 0; i < this.dIn; i++) mu += data[o + i]!;
        mu /= this.dIn;
        for (let i = 0; i < this.dIn; i++) ss += (data[o + i]! - mu) ** 2;
        // SAELens: x − μ divided by (unbiased std + 1e-6).
        const sd = Math.sqrt(ss / Math.max(1, this.dIn - 1)) + 1e-6;
        for (let i = 0; i < this.dIn; i++) out[o + i] = (data[o + i]! - mu) / sd;
        shift[r] = mu;
        mult[r] = sd;
      } else {
        for (let i = 0; i < this.dIn; i++) ss += data[o + i]! ** 2;
        const f = Math.sqrt(this.dIn) / Math.max(Math.sqrt(ss), 1e-12);
        for (let i = 0; i < this.dIn; i++) out[o + i] = data[o + i]! * f;
        shift[r] = 0;
        mult[r] = 1 / f;
      }
    }
    return { rows, xn: { data: out, norm: { shift, mult } } };
  }
}

/**
 * x·Wencᵀ on the host (x: [rows, dIn], Wenc: [dSae, dIn] → [rows, dSae]). Sae inference keeps its weights and results
 * on the host (its callers read codes synchronously): on the current backend when it is a CPU one, else on the host
 * backend (native, else js) while a device backend runs the model.
 */
function hostEncoderGemm(x: Float32Array, wEnc: Float32Array, rows: number, dIn: number, dSae: number): Float32Array {
  const current = currentBackend();
  const backend = current.device === "cpu" ? current : hostBackend();
  const xT = new Tensor("f32", [rows, dIn], x);
  return backend.gemm(xT, new Tensor("f32", [dSae, dIn], wEnc), { transB: true }).data as Float32Array;
}

interface NormState {
  shift: Float32Array;
  mult: Float32Array;
}

function denormalize(out: Float32Array, dIn: number, norm: NormState): void {
  for (let r = 0; r < norm.shift.length; r++) {
    const m = norm.mult[r]!,
      s = norm.shift[r]!;
    for (let i = 0; i < dIn; i++) out[r * dIn + i] = out[r * dIn + i]! * m + s;
  }
}
