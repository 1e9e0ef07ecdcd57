import type { Backend } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";
import type { GpuContext } from "./context.ts";
import { grid1d, main1d, packUniforms, type UniformField, writeTo } from "./kernel-util.ts";

/*
 * Elementwise kernels: one invocation per element, consecutive invocations on consecutive elements (coalesced).
 * All f32 (ops.ts checks dtypes). `b` of add/mul is broadcast as a suffix of a's shape: b[i mod |b|].
 */

interface Elementwise {
  /** Pipeline cache key. */
  key: string;
  /** Input names, bound in order as read-only f32 arrays. */
  inputs: readonly string[];
  /** Extra uniform fields after `n` (name: WGSL type). */
  params?: readonly (readonly [string, "u32" | "f32"])[];
  /** WGSL expression of out[i] (may use the inputs, `i` and `u.<param>`). */
  expr: string;
}

function shader(spec: Elementwise): string {
  const inputs = spec.inputs.map((name, b) => `@group(0) @binding(${b}) var<storage, read> ${name}: array<f32>;`);
  const params = (spec.params ?? []).map(([name, type]) => `${name}: ${type},`).join(" ");
  return `${inputs.join("\n")}
@group(0) @binding(${spec.inputs.length}) var<storage, read_write> out: array<f32>;
struct U { n: u32, ${params} }
@group(0) @binding(${spec.inputs.length + 1}) var<uniform> u: U;
fn silu(x: f32) -> f32 { return x / (1.0 + exp(-x)); }
${main1d("u.n")}
  out[i] = ${spec.expr};
}`;
}

function run(
  ctx: GpuContext,
  spec: Elementwise,
  inputs: readonly Tensor[],
  params: readonly number[],
  out: Tensor | undefined,
): Tensor {
  const a = inputs[0]!;
  return writeTo(ctx, out, a.shape, inputs, (target) => {
    if (a.size === 0) return;
    const pipeline = ctx.pipeline(spec.key, () => shader(spec));
    const fields: UniformField[] = [
      ["u32", a.size],
      ...(spec.params ?? []).map(([, type], j) => [type, params[j]!] as const),
    ];
    ctx.dispatch(pipeline, [...inputs, target], packUniforms(fields), grid1d(ctx, a.size));
  });
}

const ADD: Elementwise = {
  key: "add",
  inputs: ["a", "b"],
  params: [["period", "u32"]],
  expr: "a[i] + b[i % u.period]",
};
const MUL: Elementwise = {
  key: "mul",
  inputs: ["a", "b"],
  params: [["period", "u32"]],
  expr: "a[i] * b[i % u.period]",
};
const SCALE: Elementwise = { key: "scale", inputs: ["a"], params: [["s", "f32"]], expr: "a[i] * u.s" };
const AXPBY: Elementwise = {
  key: "axpby",
  inputs: ["a", "b"],
  params: [
    ["alpha", "f32"],
    ["beta", "f32"],
  ],
  expr: "u.alpha * a[i] + u.beta * b[i]",
};
const SILU: Elementwise = { key: "silu", inputs: ["x"], expr: "silu(x[i])" };
const SILU_GATE: Elementwise = { key: "siluGate", inputs: ["gate", "up"], expr: "silu(gate[i]) * up[i]" };

export function elementwiseKernels(
  ctx: GpuContext,
): Pick<Backend, "add" | "mul" | "scale" | "axpby" | "silu" | "siluGate"> {
  return {
    add: (a, b, out) => run(ctx, ADD, [a, b], [Math.max(1, b.size)], out),
    mul: (a, b, out) => run(ctx, MUL, [a, b], [Math.max(1, b.size)], out),
    scale: (a, s, out) => run(ctx, SCALE, [a], [s], out),
    axpby: (alpha, a, beta, b, out) => run(ctx, AXPBY, [a, b], [alpha, beta], out),
    silu: (x, out) => run(ctx, SILU, [x], [], out),
    siluGate: (gate, up, out) => run(ctx, SILU_GATE, [gate, up], [], out),
  };
}
