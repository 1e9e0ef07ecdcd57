import type { Backend } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";
import { ropeInverseFrequencies } from "../js/rows.ts";
import type { GpuContext } from "./context.ts";
import { HostArrays } from "./host-arrays.ts";
import { grid1d, main1d, packUniforms } from "./kernel-util.ts";

/*
 * Rotary embedding (split halves), in place on x [tokens, heads, headDim]: one invocation per (token, head, pair).
 * The inverse frequencies come from the host (the f32 values HF computes, shared with the js backend, or the caller's
 * invFreq from RoPE scaling, uploaded again only when its contents change) and the angle
 * is f32(pos · invFreq) as there; sin/cos are our own (Cody–Waite reduction to [−π/4, π/4] and minimax polynomials,
 * ~1e-7 relative): WGSL's built-in sin/cos only promise 2^-11 absolute error, and only on [−π, π], while angles here
 * reach the context length.
 */

const SINCOS = `fn sincos(a: f32) -> vec2f {
  let t = abs(a);
  let j = (u32(t * 1.27323954473516) + 1u) & ~1u;
  let y = f32(j);
  let x = ((t - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  let z = x * x;
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * x + x;
  let c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
  var r: vec2f;
  switch (j & 7u) {
    case 0u: { r = vec2f(s, c); }
    case 2u: { r = vec2f(c, -s); }
    case 4u: { r = vec2f(-s, -c); }
    default: { r = vec2f(-c, s); }
  }
  return vec2f(select(r.x, -r.x, a < 0.0), r.y);
}`;

const ROPE = `@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> positions: array<i32>;
@group(0) @binding(2) var<storage, read> inv_freq: array<f32>;
struct U { pairs: u32, half: u32, heads: u32, head_dim: u32 }
@group(0) @binding(3) var<uniform> u: U;
${SINCOS}
${main1d("u.pairs")}
  let p = i % u.half;
  let th = i / u.half;
  let token = th / u.heads;
  let base = th * u.head_dim;
  let sc = sincos(f32(positions[token]) * inv_freq[p]);
  let x1 = x[base + p];
  let x2 = x[base + p + u.half];
  x[base + p] = x1 * sc.y - x2 * sc.x;
  x[base + p + u.half] = x2 * sc.y + x1 * sc.x;
}`;

export function ropeKernels(ctx: GpuContext): Pick<Backend, "ropeInPlace"> {
  const inverseFrequencies = new Map<string, Tensor>();
  const hostArrays = new HostArrays(ctx);
  return {
    ropeInPlace(x: Tensor, positions: Int32Array, theta: number, rotaryDim?: number, invFreq?: Float32Array): Tensor {
      const [tokens, heads, headDim] = x.shape as [number, number, number];
      const half = (rotaryDim ?? headDim) / 2;
      const pairs = tokens * heads * half;
      if (pairs === 0) return x;
      const key = `${theta}/${half * 2}`;
      let inv = invFreq ? hostArrays.get(invFreq) : inverseFrequencies.get(key);
      if (!inv) {
        inv = ctx.fromHost("f32", [half], ropeInverseFrequencies(theta, half * 2));
        inverseFrequencies.set(key, inv);
      }
      const pos = hostArrays.get(positions);
      const uniforms = packUniforms([
        ["u32", pairs],
        ["u32", half],
        ["u32", heads],
        ["u32", headDim],
      ]);
      ctx.dispatch(
        ctx.pipeline("ropeInPlace", () => ROPE),
        [x, pos, inv],
        uniforms,
        grid1d(ctx, pairs),
      );
      return x;
    },
  };
}
