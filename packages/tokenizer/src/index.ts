// @difflens/tokenizer: Hugging Face tokenizers behind a typed API with exact UTF-16 offsets.
export {};
