import { DTYPE_BYTES, type DType, type Storage } from "./dtype.ts";
import { TensorError } from "./errors.ts";

export type Device = "cpu";

/**
 * A shaped, typed block of numbers. Storage is owned by its backend: a typed array on the CPU today,
 * device memory later (DESIGN §3) — so code that touches `data` directly is CPU code by definition.
 * Row-major, contiguous.
 */
export class Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: Storage<D>;
  readonly device: Device = "cpu";

  constructor(dtype: D, shape: readonly number[], data: Storage<D>) {
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new ShapeError(
        `Tensor: ${dtype} storage has ${data.length} elements, shape [${shape.join(", ")}] needs ${size}`,
      );
    }
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  get size(): number {
    return this.data.length;
  }
  get rank(): number {
    return this.shape.length;
  }
  get byteLength(): number {
    return this.size * DTYPE_BYTES[this.dtype];
  }

  /** A view with another shape over the same storage. */
  reshape(shape: readonly number[]): Tensor<D> {
    const resolved = resolveReshape(this.shape, shape);
    return new Tensor(this.dtype, resolved, this.data);
  }
}

/** A shape that does not fit where it is used; the message shows both shapes. */
export class ShapeError extends TensorError<"SHAPE_MISMATCH"> {
  constructor(message: string) {
    super("SHAPE_MISMATCH", message);
  }
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid dimension ${d} in shape [${shape.join(", ")}]`);
    n *= d;
  }
  return n;
}

function resolveReshape(from: readonly number[], to: readonly number[]): number[] {
  const size = shapeSize(from);
  const inferred = to.filter((d) => d === -1).length;
  if (inferred > 1) throw new ShapeError(`reshape: at most one -1 in [${to.join(", ")}]`);
  const known = to.reduce((n, d) => (d === -1 ? n : n * d), 1);
  const out = to.map((d) => (d === -1 ? size / known : d));
  if (shapeSize(out) !== size) {
    throw new ShapeError(`reshape: cannot view [${from.join(", ")}] (${size} elements) as [${to.join(", ")}]`);
  }
  return out;
}
