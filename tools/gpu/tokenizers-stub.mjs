// Stands in for the npm `tokenizers` package (a native add-on) in the GPU bundles: bench:webgpu and selfcheck never
// tokenize, and carrying its binary would cost megabytes of the device call's 64 MiB. Using it throws, saying so.
const unavailable = () => {
  throw new Error("tokenizers is not part of the GPU bundle (tools/gpu/prepare.sh): this run cannot tokenize text");
};
export default new Proxy({}, { get: unavailable });
