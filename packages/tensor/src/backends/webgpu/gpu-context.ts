/// <reference types="@webgpu/types" preserve="true" />
import { DTYPE_BYTES, type DType } from "../../dtype.ts";
import { TensorError } from "../../errors.ts";
import { DeviceError, type DeviceStorage, shapeSize, Tensor } from "../../tensor.ts";
import {
  describeAdapter,
  type GpuFlags,
  LIMITS_REQUESTED,
  requestGpuAdapter,
  type WebgpuAdapterReport,
} from "./adapter.ts";
import { BufferPool } from "./buffer-pool.ts";
import { CommandStream } from "./command-stream.ts";
import type { BufferSlice, GpuContext } from "./context.ts";
import { deviceBytes, packForDevice, unpackFromDevice } from "./packing.ts";

/** The backend's record behind a device tensor's `storage.handle`. `buffer` is undefined once released. */
interface GpuStorage {
  readonly context: WebgpuContext;
  buffer: GPUBuffer | undefined;
  /** The tensor's padded size on the device (≤ buffer.size, which is a pool bucket). */
  readonly bytes: number;
}

/** Free pooled buffers kept for reuse; beyond this freed buffers are destroyed. */
const POOL_FREE_BYTES = 1024 * 1024 * 1024;

export interface OpenOptions {
  /** Bind at most this many bytes per storage binding (tests of kernels that split weights); default: the adapter's. */
  maxBindingBytes?: number;
  /** Bytes of freed buffers kept for reuse (default 1 GiB); beyond it freed buffers are destroyed. */
  poolFreeBytes?: number;
}

/** Opens the adapter's device with its own limits (and shader-f16 / subgroups when offered). */
export async function openGpuContext(options: OpenOptions = {}): Promise<WebgpuContext> {
  const { adapter, flags } = await requestGpuAdapter();
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS_REQUESTED)
    requiredLimits[name] = (adapter.limits as unknown as Record<string, number>)[name]!;
  const requiredFeatures = (["shader-f16", "subgroups"] as const).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: "difflens" });
  return new WebgpuContext(device, flags, describeAdapter(adapter), options);
}

/**
 * One WebGPU device and everything kernels need from it (see GpuContext): buffers from a pool, pipelines compiled
 * once, work recorded into the CommandStream (submitted in batches, at `sync` and before a read). The first device error
 * (validation, out of memory) is kept and thrown at the next `sync`/`read`; after a device loss every call throws
 * DEVICE_LOST with the reason.
 */
export class WebgpuContext implements GpuContext {
  readonly limits: GPUSupportedLimits;
  readonly hasF16: boolean;
  /** See GpuContext; tests of the kernels that split lower it for a while (same device, compiled pipelines kept). */
  maxBindingBytes: number;
  /**
   * Time to create each pipeline, in creation order. Drivers may compile later, at the first dispatch (lavapipe
   * does: ~0.1–0.3 s per simple kernel, 1–3 s per workgroup reduction, cold), so first-dispatch time is the real cost.
   */
  readonly compileMs: { key: string; ms: number }[] = [];

  private readonly pool: BufferPool;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new WeakMap<GPUComputePipeline, GPUBindGroupLayout>();
  private readonly finalizer = new FinalizationRegistry<GpuStorage>((s) => this.recycle(s));
  private readonly lostSignal: Promise<never>;
  private lostReason: string | undefined;
  private firstError: TensorError | undefined;

  private readonly stream: CommandStream;

  constructor(
    readonly device: GPUDevice,
    private readonly flags: GpuFlags,
    readonly adapter: WebgpuAdapterReport,
    options: OpenOptions,
  ) {
    this.limits = device.limits;
    this.hasF16 = device.features.has("shader-f16");
    this.maxBindingBytes = Math.min(options.maxBindingBytes ?? Infinity, device.limits.maxStorageBufferBindingSize);
    const { STORAGE, COPY_SRC, COPY_DST } = flags.usage;
    this.stream = new CommandStream(device, flags);
    this.pool = new BufferPool(
      device,
      STORAGE | COPY_SRC | COPY_DST,
      options.poolFreeBytes ?? POOL_FREE_BYTES,
      device.limits.maxBufferSize,
      (b) => this.stream.retire(b),
    );
    this.lostSignal = device.lost.then((info) => {
      this.lostReason = `${info.reason}${info.message ? `: ${info.message}` : ""}`;
      throw this.lostError("a pending read");
    });
    this.lostSignal.catch(() => {});
    device.onuncapturederror = (event) => {
      const error = event.error;
      const code = error.constructor.name === "GPUOutOfMemoryError" ? "DEVICE_LIMIT" : "DEVICE_ERROR";
      this.firstError ??= new TensorError(code, `webgpu device error: ${error.message}`);
    };
  }

  buffer(t: Tensor, op: string, arg: string): GPUBuffer {
    return this.storageOf(t, op, arg).buffer!;
  }

  alloc(dtype: DType, shape: readonly number[], zero = false): Tensor {
    this.live("alloc");
    const bytes = this.checkedBytes(dtype, shape);
    const storage: GpuStorage = { context: this, buffer: this.pool.take(bytes), bytes };
    if (zero) this.stream.commands().clearBuffer(storage.buffer!, 0, bytes);
    return this.track(dtype, shape, storage);
  }

  fromHost(dtype: DType, shape: readonly number[], data: ArrayBufferView): Tensor {
    const t = this.alloc(dtype, shape);
    const bytes = this.storageOf(t, "upload", "t").bytes;
    if (bytes === 0) return t;
    // Staged through the command stream (not queue.writeBuffer), so a pooled buffer is never overwritten before
    // the commands already recorded against its previous tensor have run.
    this.stream.upload(this.buffer(t, "upload", "t"), packForDevice(dtype, data, bytes));
    return t;
  }

  pipeline(key: string, wgsl: () => string): GPUComputePipeline {
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      this.live(`compile ${key}`);
      const start = performance.now();
      const module = this.device.createShaderModule({ label: key, code: wgsl() });
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      this.compileMs.push({ key, ms: performance.now() - start });
      this.pipelines.set(key, pipeline);
      this.layouts.set(pipeline, pipeline.getBindGroupLayout(0));
    }
    return pipeline;
  }

  dispatch(
    pipeline: GPUComputePipeline,
    bindings: readonly (Tensor | BufferSlice)[],
    uniforms: ArrayBuffer | ArrayBufferView | undefined,
    workgroups: readonly [number, number?, number?],
  ): void {
    this.live(`dispatch ${pipeline.label}`);
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (workgroups.some((w) => w !== undefined && (!Number.isInteger(w) || w < 0 || w > max)))
      throw new TensorError(
        "DEVICE_LIMIT",
        `webgpu ${pipeline.label}: workgroups [${workgroups.join(", ")}] exceed maxComputeWorkgroupsPerDimension ${max}`,
      );
    const entries: GPUBindGroupEntry[] = bindings.map((b, i) => ({
      binding: i,
      resource: this.bufferBinding(b, pipeline.label, i),
    }));
    if (uniforms !== undefined)
      entries.push({
        binding: entries.length,
        resource: this.stream.uniform(uniforms, this.limits.minUniformBufferOffsetAlignment),
      });
    const group = this.device.createBindGroup({ layout: this.layouts.get(pipeline)!, entries });
    this.stream.dispatch(pipeline, group, workgroups);
  }

  copyBytes(src: Tensor, srcOffset: number, dst: Tensor, dstOffset: number, bytes: number): void {
    this.live("copy");
    if (bytes === 0) return;
    this.stream
      .commands()
      .copyBufferToBuffer(
        this.buffer(src, "copy", "src"),
        srcOffset,
        this.buffer(dst, "copy", "dst"),
        dstOffset,
        bytes,
      );
  }

  async read(t: Tensor): Promise<Tensor> {
    this.live("download");
    const { bytes } = this.storageOf(t, "download", "t");
    if (bytes === 0) return new Tensor(t.dtype, t.shape, unpackFromDevice(t.dtype, 0, new ArrayBuffer(0)));
    const staging = this.device.createBuffer({
      size: bytes,
      usage: this.flags.usage.MAP_READ | this.flags.usage.COPY_DST,
    });
    this.stream.commands().copyBufferToBuffer(this.buffer(t, "download", "t"), 0, staging, 0, bytes);
    await this.stream.flushSoon();
    try {
      await Promise.race([staging.mapAsync(this.flags.mapRead), this.lostSignal]);
      this.throwFirstError();
      return new Tensor(t.dtype, t.shape, unpackFromDevice(t.dtype, t.size, staging.getMappedRange()));
    } catch (error) {
      if (this.lostReason !== undefined) throw this.lostError("download");
      throw error;
    } finally {
      if (staging.mapState === "mapped") staging.unmap();
      staging.destroy();
    }
  }

  /** Submits everything recorded and waits for the device; throws the first device error since the last check. */
  async sync(): Promise<void> {
    this.live("sync");
    this.stream.flush();
    await Promise.race([this.device.queue.onSubmittedWorkDone(), this.lostSignal]);
    this.throwFirstError();
  }

  release(t: Tensor): void {
    const storage = this.storageOf(t, "release", "t");
    this.finalizer.unregister(storage);
    this.recycle(storage);
  }

  /** Submits the recorded commands now (kernels never need to; reads and sync do it). */
  flush(): void {
    this.stream.flush();
  }

  private bufferBinding(b: Tensor | BufferSlice, label: string, i: number): GPUBufferBinding {
    if (b instanceof Tensor) {
      const storage = this.storageOf(b, label, `binding ${i}`);
      if (storage.bytes > this.maxBindingBytes)
        throw new TensorError(
          "DEVICE_LIMIT",
          `webgpu ${label}: binding ${i}, tensor ${b.dtype} [${b.shape.join(", ")}] of ${storage.bytes} bytes exceeds the largest storage binding, ${this.maxBindingBytes} bytes (maxStorageBufferBindingSize); the kernel must split it`,
        );
      // An empty tensor still binds 4 bytes (its pool buffer has at least 16): a binding may not be empty.
      return { buffer: storage.buffer!, offset: 0, size: Math.max(4, storage.bytes) };
    }
    const storage = this.storageOf(b.tensor, label, `binding ${i}`);
    if (b.offset + b.size > storage.bytes || b.size > this.maxBindingBytes)
      throw new TensorError(
        "DEVICE_LIMIT",
        `webgpu ${label}: binding ${i}, bytes [${b.offset}, ${b.offset + b.size}) of tensor [${b.tensor.shape.join(", ")}] (${storage.bytes} bytes, binding limit ${this.maxBindingBytes})`,
      );
    return { buffer: storage.buffer!, offset: b.offset, size: b.size };
  }

  private storageOf(t: Tensor, op: string, arg: string): GpuStorage {
    const storage = t.storage?.handle as GpuStorage | undefined;
    if (t.device !== "webgpu" || !storage)
      throw new DeviceError(
        `${op}(${arg}): tensor ${t.dtype} [${t.shape.join(", ")}] lives on ${t.device}, the webgpu backend takes webgpu tensors — toDevice(t) first`,
      );
    if (storage.context !== this)
      throw new DeviceError(
        `${op}(${arg}): tensor ${t.dtype} [${t.shape.join(", ")}] belongs to another webgpu device`,
      );
    if (!storage.buffer)
      throw new DeviceError(
        `${op}(${arg}): tensor ${t.dtype} [${t.shape.join(", ")}] was released (release(t) frees it for good)`,
      );
    return storage;
  }

  private checkedBytes(dtype: DType, shape: readonly number[]): number {
    const bytes = deviceBytes(dtype, shapeSize(shape));
    const max = this.limits.maxBufferSize;
    if (bytes > max)
      throw new TensorError(
        "DEVICE_LIMIT",
        `webgpu: a ${dtype} tensor [${shape.join(", ")}] needs ${bytes} bytes on the device (${DTYPE_BYTES[dtype]} per element, u8/bool widened to 4), more than this adapter's maxBufferSize ${max} bytes`,
      );
    return bytes;
  }

  private track(dtype: DType, shape: readonly number[], storage: GpuStorage): Tensor {
    const deviceStorage: DeviceStorage = { device: "webgpu", handle: storage };
    // Views share deviceStorage, so the buffer returns to the pool only when the last view is gone.
    this.finalizer.register(deviceStorage, storage, storage);
    return Tensor.onDevice(dtype, shape, deviceStorage);
  }

  private recycle(storage: GpuStorage): void {
    if (!storage.buffer) return;
    if (this.lostReason === undefined) this.pool.give(storage.buffer);
    storage.buffer = undefined;
  }

  private live(op: string): void {
    if (this.lostReason !== undefined) throw this.lostError(op);
  }

  private lostError(op: string): TensorError {
    return new TensorError(
      "DEVICE_LOST",
      `webgpu device lost (${this.lostReason}); ${op} cannot run — its tensors are gone: await useBackend("webgpu") opens a new device (or restart the process); upload again`,
    );
  }

  private throwFirstError(): void {
    const error = this.firstError;
    if (error === undefined) return;
    this.firstError = undefined;
    throw error;
  }
}
