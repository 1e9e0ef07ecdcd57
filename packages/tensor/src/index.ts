// @difflens/tensor: Tensors, dtypes, compute kernels (js and native backends) and safetensors I/O.
// Public names only; no import-time side effects (backends are chosen by useBackend).

export type { DType, Storage, StorageMap } from "./dtype.ts";
export { DTYPE_BYTES, isFloat } from "./dtype.ts";
export { Tensor, ShapeError, shapeSize } from "./tensor.ts";
export type { Device } from "./tensor.ts";
export { TensorError, type TensorErrorCode } from "./errors.ts";
export type { Backend, GemmOptions, SoftmaxOptions, TopKOutput, TopKAmong, SparseCodesGrads, AdamStep } from "./backend.ts";
export type { ActivationSource } from "./activation-source.ts";

export { zeros, fromArray, toFloat32Array, randn, randUniform } from "./construct.ts";
export {
  f32ToBf16, bf16ToF32, f32ToF16, f16ToF32,
  f32ArrayToBf16, bf16ArrayToF32, f32ArrayToF16, f16ArrayToF32,
} from "./convert.ts";
export { Rng } from "./rng.ts";
export type { RngState } from "./rng.ts";

export { useBackend, currentBackend, nativeAvailable } from "./registry.ts";
export { loadNativeAddon, nativeMmap, type NativeAddon } from "./native-addon.ts";

export {
  gemm, batchedGemm, add, mul, scale, axpby, rmsNorm, ropeInPlace, softmax, silu, siluGate,
  topK, gatherRows, scatterAddRows, sum, mean, max, argmax, cast,
} from "./ops.ts";
export { biasTopK, sparseDecode, sparseCodesBackward, adamUpdate, projectOutRows, normalizeRows } from "./ops-sparse.ts";
export type { AdamHyperparameters } from "./ops-sparse.ts";

// safetensors — owned by the safetensors helper; uncomment when src/safetensors/index.ts exists.
export * from "./safetensors/index.ts";
