import { DTYPE_BYTES, type DType, type Storage } from "./dtype.ts";
import { TensorError } from "./errors.ts";

/** Where a tensor's storage lives: host memory (js and native backends) or a GPU (webgpu backend). */
export type Device = "cpu" | "webgpu";

/**
 * Storage on a device, owned by the backend that made it (a GPU buffer for webgpu). Opaque to everyone else:
 * only that backend's kernels read `handle`. Views (`reshape`) share it.
 */
export interface DeviceStorage {
  readonly device: Exclude<Device, "cpu">;
  /** The backend's own object (for webgpu: its buffer record). */
  readonly handle: unknown;
}

/**
 * A shaped, typed block of numbers. Storage is owned by its backend (DESIGN §3): a typed array on the CPU
 * (`data`), a device buffer elsewhere (`storage`). Code that reads `data` is CPU code by definition — on a device
 * tensor it throws, naming the tensor, and says to `await toHost(t)`. Row-major, contiguous.
 */
export class Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly device: Device;
  /** Device storage (undefined on the CPU). */
  readonly storage: DeviceStorage | undefined;
  private readonly host: Storage<D> | undefined;
  private readonly elements: number;

  /** A CPU tensor over `data`, or (backends only) a device tensor over `DeviceStorage`. */
  constructor(dtype: D, shape: readonly number[], data: Storage<D> | DeviceStorage) {
    const size = shapeSize(shape);
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.elements = size;
    if (ArrayBuffer.isView(data)) {
      if (data.length !== size) {
        throw new ShapeError(
          `Tensor: ${dtype} storage has ${data.length} elements, shape [${shape.join(", ")}] needs ${size}`,
        );
      }
      this.host = data;
      this.device = "cpu";
      this.storage = undefined;
    } else {
      this.host = undefined;
      this.device = data.device;
      this.storage = data;
    }
  }

  /** A tensor whose storage lives on a device (backends call this; users get device tensors from kernels). */
  static onDevice<D extends DType>(dtype: D, shape: readonly number[], storage: DeviceStorage): Tensor<D> {
    return new Tensor(dtype, shape, storage);
  }

  /** The host typed array. Throws on a device tensor: read it with `await toHost(t)`. */
  get data(): Storage<D> {
    if (this.host === undefined) {
      throw new DeviceError(
        `tensor ${this.dtype} [${this.shape.join(", ")}] lives on ${this.device}; its values are read with \`await toHost(tensor)\` (kernels take it as it is)`,
      );
    }
    return this.host;
  }

  get size(): number {
    return this.elements;
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
    if (this.storage) return Tensor.onDevice(this.dtype, resolved, this.storage);
    return new Tensor(this.dtype, resolved, this.host!);
  }
}

/** A tensor used where its device does not fit (host code reading a GPU tensor, kernels mixing devices). */
export class DeviceError extends TensorError<"DEVICE_MISMATCH"> {
  constructor(message: string) {
    super("DEVICE_MISMATCH", message);
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
