import type { AttentionMask, Backend } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";
import { castOnDevice } from "./cast.ts";
import type { GpuContext } from "./context.ts";
import { HostArrays } from "./host-arrays.ts";
import { grid1d, main1d, packUniforms, writeTo } from "./kernel-util.ts";
import { deviceBytes } from "./packing.ts";

/*
 * Layout kernels of the model forward: copies (in the command stream where the bytes line up), 16-bit row slices
 * that start mid-word, the [a, b, c, d] → [a, c, b, d] transpose, the attention mask (causal, sliding window, padding)
 * and the KV-cache write.
 * One invocation per output element, consecutive invocations on consecutive outputs.
 */

/** Elements [start, start + n) of a packed 16-bit tensor, repacked from an odd start. */
const SLICE_HALVES = `@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
struct U { n: u32, start: u32, words: u32 }
@group(0) @binding(2) var<uniform> u: U;
fn half_at(i: u32) -> u32 { return (x[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu; }
${main1d("u.words")}
  var hi = 0u;
  if (2u * i + 1u < u.n) { hi = half_at(u.start + 2u * i + 1u); }
  out[i] = half_at(u.start + 2u * i) | (hi << 16u);
}`;

const SWAP_AXES_12 = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
struct U { n: u32, b: u32, c: u32, d: u32 }
@group(0) @binding(2) var<uniform> u: U;
${main1d("u.n")}
  let l = i % u.d;
  let j = (i / u.d) % u.b;
  let k = (i / (u.d * u.b)) % u.c;
  let a = i / (u.d * u.b * u.c);
  out[i] = x[((a * u.b + j) * u.c + k) * u.d + l];
}`;

const MASK_SCORES = `@group(0) @binding(0) var<storage, read_write> scores: array<f32>;
@group(0) @binding(1) var<storage, read> query_mask: array<u32>;
@group(0) @binding(2) var<storage, read> key_mask: array<u32>;
struct U { n: u32, heads: u32, queries: u32, keys: u32, past: u32, neg_inf: f32, window: u32 }
@group(0) @binding(3) var<uniform> u: U;
${main1d("u.n")}
  let j = i % u.keys;
  let q = (i / u.keys) % u.queries;
  let b = i / (u.keys * u.queries * u.heads);
  let future = j > u.past + q;
  let outside_window = u.window > 0u && u.past + q >= j + u.window; // window 0: none
  let padding = query_mask[b * u.queries + q] != 0u && key_mask[b * u.keys + j] == 0u;
  if (future || outside_window || padding) { scores[i] = u.neg_inf; }
}`;

const WRITE_SEQ = `@group(0) @binding(0) var<storage, read_write> cache: array<f32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
struct U { n: u32, seq: u32, heads: u32, d: u32, capacity: u32, start: u32 }
@group(0) @binding(2) var<uniform> u: U;
${main1d("u.n")}
  let l = i % u.d;
  let h = (i / u.d) % u.heads;
  let s = (i / (u.d * u.heads)) % u.seq;
  let b = i / (u.d * u.heads * u.seq);
  cache[((b * u.heads + h) * u.capacity + u.start + s) * u.d + l] = src[i];
}`;

export function layoutKernels(
  ctx: GpuContext,
): Pick<Backend, "copy" | "sliceRows" | "swapAxes12" | "maskScores" | "writeSeq"> {
  const masks = new HostArrays(ctx);
  return {
    copy: (x) => castOnDevice(ctx, x, "f32"),

    sliceRows(x: Tensor, start: number, count: number): Tensor {
      const rowSize = x.shape.slice(1).reduce((p, v) => p * v, 1);
      const n = count * rowSize;
      const out = ctx.alloc(x.dtype, [count, ...x.shape.slice(1)]);
      if (n === 0) return out;
      const first = start * rowSize;
      const packed = x.dtype === "f16" || x.dtype === "bf16";
      if (!packed || first % 2 === 0) {
        // Whole words: a copy in the command stream (a 16-bit slice of odd length reads the pad half, see packing.ts).
        ctx.copyBytes(x, deviceBytes(x.dtype, first), out, 0, deviceBytes(x.dtype, n));
        return out;
      }
      const words = Math.ceil(n / 2);
      const uniforms = packUniforms([
        ["u32", n],
        ["u32", first],
        ["u32", words],
      ]);
      ctx.dispatch(
        ctx.pipeline("sliceRows.halves", () => SLICE_HALVES),
        [x, out],
        uniforms,
        grid1d(ctx, words),
      );
      return out;
    },

    swapAxes12(x: Tensor, out?: Tensor): Tensor {
      const [a, b, c, d] = x.shape as [number, number, number, number];
      return writeTo(ctx, out, [a, c, b, d], [x], (target) => {
        if (x.size === 0) return;
        const uniforms = packUniforms([
          ["u32", x.size],
          ["u32", b],
          ["u32", c],
          ["u32", d],
        ]);
        ctx.dispatch(
          ctx.pipeline("swapAxes12", () => SWAP_AXES_12),
          [x, target],
          uniforms,
          grid1d(ctx, x.size),
        );
      });
    },

    maskScores(scores: Tensor, mask: AttentionMask): Tensor {
      const [, heads, queries, keys] = scores.shape as [number, number, number, number];
      if (scores.size === 0) return scores;
      const uniforms = packUniforms([
        ["u32", scores.size],
        ["u32", heads],
        ["u32", queries],
        ["u32", keys],
        ["u32", mask.past],
        ["f32", -Infinity],
        ["u32", mask.window ?? 0],
      ]);
      const bindings = [scores, masks.get(mask.queryMask), masks.get(mask.keyMask)];
      ctx.dispatch(
        ctx.pipeline("maskScores", () => MASK_SCORES),
        bindings,
        uniforms,
        grid1d(ctx, scores.size),
      );
      return scores;
    },

    writeSeq(cache: Tensor, src: Tensor, start: number): void {
      const [, heads, capacity, d] = cache.shape as [number, number, number, number];
      if (src.size === 0) return;
      const uniforms = packUniforms([
        ["u32", src.size],
        ["u32", src.shape[1]!],
        ["u32", heads],
        ["u32", d],
        ["u32", capacity],
        ["u32", start],
      ]);
      ctx.dispatch(
        ctx.pipeline("writeSeq", () => WRITE_SEQ),
        [cache, src],
        uniforms,
        grid1d(ctx, src.size),
      );
    },
  };
}
