import { gemm } from "@difflens/tensor";
import { SaeError } from "../errors.ts";
import type { SparseCodes } from "../sparse-codes.ts";
import type { CrosscoderKind } from "./config.ts";
import { type CrosscoderParams, decoderNorms } from "./state.ts";
import { f32 } from "./step-common.ts";

/** What an inference crosscoder is: sizes, sparsity and where its activations come from. */
export interface CrosscoderSpec {
  dIn: number;
  dSae: number;
  kind: CrosscoderKind;
  /** BatchTopK: mean active latents per row in training. */
  k: number;
  /** BatchTopK: inference threshold on a·(‖d^base‖ + ‖d^chat‖) (raw activations); null = never trained. */
  threshold: number | null;
  hookName: string | null;
}

/** Rows per encoder GEMM. */
const CHUNK_ROWS = 256;

/**
 * A crosscoder over raw activations of two models at one hook (weights as saved: any training input scale folded
 * in). Layouts as CrosscoderParams: row j of wEnc / wDec is [base half | chat half].
 *
 * Encoding: f = ReLU([x_base | x_chat]·Wencᵀ + bEnc); BatchTopK keeps latent j where f_j·(‖d_j^base‖ + ‖d_j^chat‖)
 * exceeds the learned threshold (no dependence on the rest of the batch); L1 keeps every positive f_j.
 */
export class Crosscoder {
  readonly norms: { base: Float32Array; chat: Float32Array };

  constructor(
    readonly spec: CrosscoderSpec,
    readonly weights: CrosscoderParams,
  ) {
    const { dIn, dSae } = spec;
    const want: Record<keyof CrosscoderParams, number> = {
      wEnc: dSae * 2 * dIn,
      bEnc: dSae,
      wDec: dSae * 2 * dIn,
      bDec: 2 * dIn,
    };
    for (const [name, n] of Object.entries(want) as [keyof CrosscoderParams, number][])
      if (weights[name].length !== n)
        throw new SaeError(
          "SHAPE_MISMATCH",
          `Crosscoder: ${name} has ${weights[name].length} values, expected ${n} (dIn=${dIn}, dSae=${dSae})`,
          { field: name, expected: n, got: weights[name].length },
        );
    if (spec.kind === "batchtopk" && spec.threshold === null)
      throw new SaeError("CONFIG_INVALID", "Crosscoder: a BatchTopK crosscoder needs its inference threshold", {
        field: "threshold",
      });
    this.norms = decoderNorms(weights.wDec, dIn);
  }

  /** Codes of paired rows base, chat [rows, dIn] (raw activations). */
  encode(base: Float32Array, chat: Float32Array, rows: number): SparseCodes {
    const { dIn: d, dSae: S } = this.spec;
    const w = 2 * d;
    if (base.length !== rows * d || chat.length !== rows * d)
      throw new SaeError(
        "SHAPE_MISMATCH",
        `Crosscoder.encode: expected base and chat of ${rows} × ${d} values, got ${base.length} and ${chat.length}`,
        { expected: rows * d },
      );
    const p = this.weights;
    const theta = this.spec.kind === "batchtopk" ? this.spec.threshold! : 0;
    const n = new Float32Array(S);
    for (let j = 0; j < S; j++) n[j] = this.norms.base[j]! + this.norms.chat[j]!;
    const indptr = new Int32Array(rows + 1);
    const indices: number[] = [],
      values: number[] = [];
    const x = new Float32Array(Math.min(rows, CHUNK_ROWS) * w),
      z = new Float32Array(Math.min(rows, CHUNK_ROWS) * S);
    for (let r0 = 0; r0 < rows; r0 += CHUNK_ROWS) {
      const m = Math.min(CHUNK_ROWS, rows - r0);
      for (let r = 0; r < m; r++) {
        x.set(base.subarray((r0 + r) * d, (r0 + r + 1) * d), r * w);
        x.set(chat.subarray((r0 + r) * d, (r0 + r + 1) * d), r * w + d);
      }
      gemm(f32([m, w], x.subarray(0, m * w)), f32([S, w], p.wEnc), {
        transB: true,
        out: f32([m, S], z.subarray(0, m * S)),
      });
      for (let r = 0; r < m; r++) {
        for (let j = 0; j < S; j++) {
          const a = Math.fround(z[r * S + j]! + p.bEnc[j]!);
          if (a > 0 && a * n[j]! > theta) {
            indices.push(j);
            values.push(a);
          }
        }
        indptr[r0 + r + 1] = indices.length;
      }
    }
    return { rows, dSae: S, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
  }

  /** Reconstructions of both models from codes: base, chat [rows, dIn] each (decoder bias included). */
  decode(codes: SparseCodes): { base: Float32Array; chat: Float32Array } {
    const d = this.spec.dIn,
      w = 2 * d;
    const { wDec, bDec } = this.weights;
    const base = new Float32Array(codes.rows * d),
      chat = new Float32Array(codes.rows * d);
    for (let r = 0; r < codes.rows; r++) {
      const o = r * d;
      for (let i = 0; i < d; i++) {
        base[o + i] = bDec[i]!;
        chat[o + i] = bDec[d + i]!;
      }
      for (let q = codes.indptr[r]!; q < codes.indptr[r + 1]!; q++) {
        const a = codes.values[q]!,
          row = codes.indices[q]! * w;
        for (let i = 0; i < d; i++) {
          base[o + i] = base[o + i]! + a * wDec[row + i]!;
          chat[o + i] = chat[o + i]! + a * wDec[row + d + i]!;
        }
      }
    }
    return { base, chat };
  }

  /** Latent j's decoder direction in one model [dIn] (a view into the weights). */
  decoderRow(j: number, model: "base" | "chat"): Float32Array {
    const d = this.spec.dIn,
      o = j * 2 * d + (model === "chat" ? d : 0);
    return this.weights.wDec.subarray(o, o + d);
  }
}
