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
