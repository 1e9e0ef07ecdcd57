// @difflens/tensor: Tensors, dtypes, compute kernels (js and native backends) and safetensors I/O.
export {};
