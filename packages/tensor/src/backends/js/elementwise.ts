import { zeros } from "../../construct.ts";
import type { Tensor } from "../../tensor.ts";

/** out = f(a, b) with b broadcast over a's leading dims (b's shape is a suffix of a's shape). */
function broadcastBinary(a: Tensor, b: Tensor, out: Tensor | undefined, f: (x: number, y: number) => number): Tensor {
  const o = out ?? zeros(a.shape, "f32");
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  const z = o.data as Float32Array;
  const period = y.length;
  for (let start = 0; start < x.length; start += period) {
    for (let j = 0; j < period; j++) z[start + j] = f(x[start + j]!, y[j]!);
  }
  return o;
}

export function add(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  return broadcastBinary(a, b, out, (x, y) => x + y);
}

export function mul(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  return broadcastBinary(a, b, out, (x, y) => x * y);
}

export function scale(a: Tensor, s: number, out?: Tensor): Tensor {
  const o = out ?? zeros(a.shape, "f32");
  const x = a.data as Float32Array;
  const z = o.data as Float32Array;
  for (let i = 0; i < x.length; i++) z[i] = x[i]! * s;
  return o;
}

export function axpby(alpha: number, a: Tensor, beta: number, b: Tensor, out?: Tensor): Tensor {
  const o = out ?? zeros(a.shape, "f32");
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  const z = o.data as Float32Array;
  for (let i = 0; i < x.length; i++) z[i] = alpha * x[i]! + beta * y[i]!;
  return o;
}

/** silu(x) = x · sigmoid(x) = x / (1 + e^−x). */
export function silu(x: Tensor, out?: Tensor): Tensor {
  const o = out ?? zeros(x.shape, "f32");
  const v = x.data as Float32Array;
  const z = o.data as Float32Array;
  for (let i = 0; i < v.length; i++) z[i] = siluScalar(v[i]!);
  return o;
}

/** silu(gate) · up, the SwiGLU MLP's elementwise step. */
export function siluGate(gate: Tensor, up: Tensor, out?: Tensor): Tensor {
  const o = out ?? zeros(gate.shape, "f32");
  const g = gate.data as Float32Array;
  const u = up.data as Float32Array;
  const z = o.data as Float32Array;
  for (let i = 0; i < g.length; i++) z[i] = siluScalar(g[i]!) * u[i]!;
  return o;
}

function siluScalar(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** cap · tanh(x / cap), in float64 here (the oracle the other backends' vector tanh is checked against). */
export function tanhSoftcap(x: Tensor, cap: number, out?: Tensor): Tensor {
  const o = out ?? zeros(x.shape, "f32");
  const v = x.data as Float32Array;
  const z = o.data as Float32Array;
  for (let i = 0; i < v.length; i++) z[i] = cap * Math.tanh(v[i]! / cap);
  return o;
}

/** gelu_tanh(gate) · up, the GeGLU MLP's elementwise step (Gemma). */
export function geluTanhGate(gate: Tensor, up: Tensor, out?: Tensor): Tensor {
  const o = out ?? zeros(gate.shape, "f32");
  const g = gate.data as Float32Array;
  const u = up.data as Float32Array;
  const z = o.data as Float32Array;
  for (let i = 0; i < g.length; i++) z[i] = geluTanhScalar(g[i]!) * u[i]!;
  return o;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): saturates to exactly x (x ≫ 0) and 0 (x ≪ 0), never NaN for finite x. */
export function geluTanhScalar(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * x * (1 + 0.044715 * x * x)));
}
