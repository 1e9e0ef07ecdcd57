import type { Backend } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";
import type { GpuContext } from "./context.ts";
import { grid1d, jointRowSlices, main1d, packUniforms, writeTo } from "./kernel-util.ts";

/*
 * Elementwise kernels: one invocation per element, consecutive invocations on consecutive elements (coalesced).
 * All f32 (ops.ts checks dtypes). `b` of add/mul is broadcast as a suffix of a's shape: b[i mod |b|]. One pipeline
 * serves every op (the op is a uniform: memory-bound, so the branch is free, and there is one compilation, not eight).
 */

const OP = { add: 0, mul: 1, scale: 2, axpby: 3, silu: 4, siluGate: 5, tanhSoftcap: 6, geluTanhGate: 7 } as const;

/**
 * WGSL tanh, the algorithm of native/activations.h (its accuracy: ~1e-7 absolute, exactly ±1 from |x| = 10 on):
 * x + x³·P(x²) below |x| = 0.625, else (1 − e)/(1 + e) with e = exp(−2|x|) by Cody–Waite reduction and Cephes'
 * polynomial — not WGSL's tanh or exp, whose accuracy is implementation-defined (tanh may be sinh/cosh, which
 * overflows to NaN). round() replaces the CPU's add-a-shifter trick, which a shader compiler may reassociate away.
 */
const TANH = `fn tanh_f32(x: f32) -> f32 {
  let ax = min(abs(x), 10.0);
  let y = -2.0 * ax;
  let n = round(y * 1.44269504088896341);
  var r = y - n * 0.693359375;
  r = r - n * -2.12194440e-4;
  var p = 1.9875691500e-4;
  p = p * r + 1.3981999507e-3;
  p = p * r + 8.3334519073e-3;
  p = p * r + 4.1665795894e-2;
  p = p * r + 1.6666665459e-1;
  p = p * r + 5.0000001201e-1;
  let e = (p * r * r + r + 1.0) * bitcast<f32>(u32(i32(n) + 127) << 23u);
  let large = (1.0 - e) / (1.0 + e);
  let z = ax * ax;
  var q = -0.005718891508877277;
  q = q * z + 0.02065306343138218;
  q = q * z + -0.053744640201330185;
  q = q * z + 0.13331513106822968;
  q = q * z + -0.3333328664302826;
  let t = select(large, ax + ax * z * q, ax < 0.625);
  return bitcast<f32>(bitcast<u32>(t) | (bitcast<u32>(x) & 0x80000000u));
}
fn gelu_tanh(g: f32) -> f32 { return 0.5 * g * (1.0 + tanh_f32(0.7978845608028654 * g * (1.0 + 0.044715 * g * g))); }`;

const ELEMENTWISE = `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct U { n: u32, period: u32, op: u32, alpha: f32, beta: f32, b_offset: u32 }
@group(0) @binding(3) var<uniform> u: U;
fn silu(x: f32) -> f32 { return x / (1.0 + exp(-x)); }
${TANH}
${main1d("u.n")}
  let x = a[i];
  // A broadcast b is indexed modulo its size; otherwise b is read like a (no integer division, which CPUs and
  // lavapipe do one lane at a time). The branch is uniform: it costs nothing on a GPU.
  var bi = i;
  if (u.period != u.n) { bi = (u.b_offset + i) % u.period; }
  let y = b[bi];
  var r: f32;
  switch (u.op) {
    case ${OP.add}u: { r = x + y; }
    case ${OP.mul}u: { r = x * y; }
    case ${OP.scale}u: { r = x * u.alpha; }
    case ${OP.axpby}u: { r = u.alpha * x + u.beta * y; }
    case ${OP.silu}u: { r = silu(x); }
    case ${OP.siluGate}u: { r = silu(x) * y; }
    case ${OP.tanhSoftcap}u: { r = u.alpha * tanh_f32(x / u.alpha); }
    default: { r = gelu_tanh(x) * y; }
  }
  out[i] = r;
}`;

/** out = op(a, b); a unary op binds `a` as `b` too (read-only twice is allowed). */
function run(
  ctx: GpuContext,
  name: keyof typeof OP,
  a: Tensor,
  b: Tensor | undefined,
  out: Tensor | undefined,
  alpha = 0,
  beta = 0,
): Tensor {
  const inputs = b ? [a, b] : [a];
  // The pipeline is shared, so errors about a tensor are raised here, under the op's own name.
  for (const [arg, t] of [
    ["a", a],
    ["b", b],
    ["out", out],
  ] as const)
    if (t) ctx.buffer(t, name, arg);
  return writeTo(ctx, out, a.shape, inputs, (target) => {
    if (a.size === 0) return;
    const pipeline = ctx.pipeline("elementwise", () => ELEMENTWISE);
    // b of a's size (or a itself, for a unary op) is sliced with a; a broadcast b is bound whole.
    const bWhole = b !== undefined && b.size !== a.size;
    const parts = [a, ...(b && !bWhole ? [b] : []), target].map((tensor) => ({ tensor, rowBytes: 4 }));
    for (const slice of jointRowSlices(ctx, a.size, parts)) {
      const [sa, ...rest] = slice.bindings;
      const sb = bWhole ? b! : b ? rest[0]! : sa!;
      const uniforms = packUniforms([
        ["u32", slice.rowCount],
        ["u32", bWhole ? b!.size : slice.rowCount],
        ["u32", OP[name]],
        ["f32", alpha],
        ["f32", beta],
        ["u32", bWhole ? slice.rowStart : 0],
      ]);
      ctx.dispatch(pipeline, [sa!, sb, rest.at(-1)!], uniforms, grid1d(ctx, slice.rowCount));
    }
  });
}

export function elementwiseKernels(
  ctx: GpuContext,
): Pick<Backend, "add" | "mul" | "scale" | "axpby" | "silu" | "siluGate" | "tanhSoftcap" | "geluTanhGate"> {
  return {
    add: (a, b, out) => run(ctx, "add", a, b, out),
    mul: (a, b, out) => run(ctx, "mul", a, b, out),
    scale: (a, s, out) => run(ctx, "scale", a, undefined, out, s),
    axpby: (alpha, a, beta, b, out) => run(ctx, "axpby", a, b, out, alpha, beta),
    silu: (x, out) => run(ctx, "silu", x, undefined, out),
    siluGate: (gate, up, out) => run(ctx, "siluGate", gate, up, out),
    tanhSoftcap: (x, cap, out) => run(ctx, "tanhSoftcap", x, undefined, out, cap),
    geluTanhGate: (gate, up, out) => run(ctx, "geluTanhGate", gate, up, out),
  };
}
