/// <reference types="@webgpu/types" preserve="true" />
import type { DType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";

/**
 * What every WGSL kernel file of the webgpu backend uses: the device, tensor ↔ buffer, a pipeline cache and one
 * way to enqueue a dispatch. Kernels only enqueue; nothing here waits for the GPU except `read`.
 *
 * Storage conventions (all kernels): a device tensor's buffer holds its elements row-major from byte 0, padded to a
 * multiple of 4 bytes. f32 / i32 as themselves; f16 and bf16 packed two per u32 (element 2i in the low half), widened
 * in the shader; u8 / bool one per u32 on the device (upload widens, download narrows). i64 is refused.
 */
/**
 * A byte range of a device tensor's buffer, bound in place of the whole buffer (weights larger than one binding are
 * split by their kernels). offset: a multiple of limits.minStorageBufferOffsetAlignment; size: a multiple of 4,
 * ≤ maxBindingBytes.
 */
export interface BufferSlice {
  readonly tensor: Tensor;
  readonly offset: number;
  readonly size: number;
}

export interface GpuContext {
  readonly device: GPUDevice;
  /** Adapter limits as granted to the device (maxStorageBufferBindingSize, maxBufferSize, ...). */
  readonly limits: GPUSupportedLimits;
  /** Whether the device has the `shader-f16` feature (f16 weights can use `enable f16;`). */
  readonly hasF16: boolean;
  /**
   * The largest storage binding a dispatch may use, in bytes: limits.maxStorageBufferBindingSize unless the
   * context was opened with a smaller `maxBindingBytes` (tests of the kernels that split large weights).
   */
  readonly maxBindingBytes: number;

  /** The buffer behind a device tensor of this context; a DeviceError naming the tensor otherwise. */
  buffer(t: Tensor, op: string, arg: string): GPUBuffer;
  /** A new device tensor; zeroed when `zero` (else contents undefined). Throws DEVICE_LIMIT with the numbers when too large. */
  alloc(dtype: DType, shape: readonly number[], zero?: boolean): Tensor;
  /** Uploads host data into a new device tensor of `dtype` and `shape`. */
  fromHost(dtype: DType, shape: readonly number[], data: ArrayBufferView): Tensor;
  /** Compiles once per key (WGSL source → compute pipeline with `layout: "auto"`, entry point `main`). */
  pipeline(key: string, wgsl: () => string): GPUComputePipeline;
  /**
   * Enqueues one dispatch: `bindings` are bound in order at @group(0) @binding(0..n-1) (tensors → their storage
   * buffers, slices → that byte range), then, when `uniforms` is given, a uniform buffer at the next binding. `workgroups` [x, y?, z?] are
   * split across dimensions by the caller (each ≤ limits.maxComputeWorkgroupsPerDimension).
   */
  dispatch(
    pipeline: GPUComputePipeline,
    bindings: readonly (Tensor | BufferSlice)[],
    uniforms: ArrayBuffer | ArrayBufferView | undefined,
    workgroups: readonly [number, number?, number?],
  ): void;
  /** Reads a device tensor back into a new host tensor (waits for the queue). */
  read(t: Tensor): Promise<Tensor>;
  /** Enqueues a copy of `bytes` bytes between two device tensors' buffers (ordered with the dispatches). */
  copyBytes(src: Tensor, srcOffset: number, dst: Tensor, dstOffset: number, bytes: number): void;
  /** Returns a device tensor's buffer to the pool now; later use of the tensor (or its views) is a DeviceError. */
  release(t: Tensor): void;
}
