// @difflens/sae: TopK sparse autoencoders: encode/decode, training, finetuning, formats, metrics.
export {};
