import { expectOnDevice } from "./device-check.ts";
import { TensorError } from "./errors.ts";
import { checkOut, expectDType, F32, fmt, sameShape } from "./ops-checks.ts";
import { currentBackend } from "./registry.ts";
import { ShapeError, type Tensor } from "./tensor.ts";

/* The elementwise activations of the MLPs and logit caps: f32 in, a new f32 tensor (or `out`) back. */

/** x · sigmoid(x). */
export function silu(x: Tensor, out?: Tensor): Tensor {
  expectOnDevice("silu", { x, out });
  expectDType("silu", "x", x, F32);
  checkOut("silu", out, x.shape);
  return currentBackend().silu(x, out);
}

/** silu(gate) · up. */
export function siluGate(gate: Tensor, up: Tensor, out?: Tensor): Tensor {
  expectOnDevice("siluGate", { gate, up, out });
  expectDType("siluGate", "gate", gate, F32);
  expectDType("siluGate", "up", up, F32);
  if (!sameShape(gate.shape, up.shape))
    throw new ShapeError(`siluGate(up): expected ${fmt(gate.shape)} like gate, got ${fmt(up.shape)}`);
  checkOut("siluGate", out, gate.shape);
  return currentBackend().siluGate(gate, up, out);
}

/** cap · tanh(x / cap) elementwise (logit soft-capping). x: f32, cap > 0 → like x. */
export function tanhSoftcap(x: Tensor, cap: number, out?: Tensor): Tensor {
  expectOnDevice("tanhSoftcap", { x, out });
  expectDType("tanhSoftcap", "x", x, F32);
  if (!(cap > 0) || !Number.isFinite(cap))
    throw new TensorError("BAD_ARGUMENT", `tanhSoftcap: cap must be a finite number > 0, got ${cap}`);
  checkOut("tanhSoftcap", out, x.shape);
  return currentBackend().tanhSoftcap(x, cap, out);
}

/** gelu_tanh(gate) · up (GeGLU), gelu_tanh(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). f32, same shapes. */
export function geluTanhGate(gate: Tensor, up: Tensor, out?: Tensor): Tensor {
  expectOnDevice("geluTanhGate", { gate, up, out });
  expectDType("geluTanhGate", "gate", gate, F32);
  expectDType("geluTanhGate", "up", up, F32);
  if (!sameShape(gate.shape, up.shape))
    throw new ShapeError(`geluTanhGate(up): expected ${fmt(gate.shape)} like gate, got ${fmt(up.shape)}`);
  checkOut("geluTanhGate", out, gate.shape);
  return currentBackend().geluTanhGate(gate, up, out);
}
