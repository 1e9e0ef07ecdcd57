// @difflens/tensor: Tensors, dtypes, compute kernels (js and native backends) and safetensors I/O.
// Public names only; no import-time side effects (backends are chosen by useBackend).

export type { ActivationSource } from "./activation-source.ts";
export type {
  AdamStep,
  AttentionMask,
  Backend,
  BackendName,
  GemmOptions,
  RmsNormOptions,
  RopeOptions,
  SoftmaxOptions,
  SparseCodesGrads,
  TopKAmong,
  TopKOutput,
} from "./backend.ts";
// The adapter report only: the webgpu backend itself loads through useBackend("webgpu") (Dawn is optional).
export { type WebgpuAdapterReport, webgpuAdapterReport } from "./backends/webgpu/adapter.ts";
// The adapter report as selfcheck prints it (also used by bench:webgpu).
export {
  type AdapterReport,
  adapterLines,
  isSoftwareAdapter,
  type WebgpuReport,
  webgpuReport,
} from "./cli/selfcheck-adapter.ts";
export { fromArray, randn, randUniform, toFloat32Array, zeros } from "./construct.ts";
export {
  bf16ArrayToF32,
  bf16ToF32,
  f16ArrayToF32,
  f16ToF32,
  f32ArrayToBf16,
  f32ArrayToF16,
  f32ToBf16,
  f32ToF16,
} from "./convert.ts";
export type { DType, Storage, StorageMap } from "./dtype.ts";
export { DTYPE_BYTES, isFloat } from "./dtype.ts";
export { TensorError, type TensorErrorCode } from "./errors.ts";
export { largeFloat32Array, largeFloat32Copy } from "./large-array.ts";
export { type IsaPath, loadNativeAddon, type NativeAddon, type NativeIsa, nativeMmap } from "./native-addon.ts";
export {
  add,
  argmax,
  axpby,
  batchedGemm,
  cast,
  gatherRows,
  gemm,
  max,
  mean,
  mul,
  rmsNorm,
  ropeInPlace,
  scale,
  scatterAddRows,
  softmax,
  sum,
  topK,
} from "./ops.ts";
export { geluTanhGate, silu, siluGate, tanhSoftcap } from "./ops-activations.ts";
export { copy, maskScores, sliceRows, swapAxes12, writeSeq } from "./ops-layout.ts";
export type { AdamHyperparameters } from "./ops-sparse.ts";
export {
  adamUpdate,
  adamUpdateUnitRows,
  biasTopK,
  normalizeRows,
  projectOutRows,
  sparseCodesBackward,
  sparseDecode,
} from "./ops-sparse.ts";
export { type IsaPeak, isaPeak } from "./peak.ts";
export { currentBackend, hostBackend, nativeAvailable, selectBackend, useBackend } from "./registry.ts";
export type { RngState } from "./rng.ts";
export { Rng } from "./rng.ts";
// safetensors — owned by the safetensors helper; uncomment when src/safetensors/index.ts exists.
export * from "./safetensors/index.ts";
export type { Device, DeviceStorage } from "./tensor.ts";
export { DeviceError, ShapeError, shapeSize, Tensor } from "./tensor.ts";
export { deviceZeros, release, sync, toDevice, toHost, toHostAll } from "./transfer.ts";
