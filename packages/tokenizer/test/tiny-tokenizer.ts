/**
 * A tiny WordLevel tokenizer with a BOS/EOS post-processor, written by hand for tests that need behaviour Qwen
 * lacks (a post-processor that adds tokens, a vocabulary hole).
 */
export function tinyTokenizerJson(): Record<string, unknown> {
  const added = (id: number, content: string, special = true) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special,
  });
  const spec = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const seq = (id: string) => ({ Sequence: { id, type_id: 0 } });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [added(0, "<s>"), added(1, "</s>"), added(2, "<pad>")],
    normalizer: null,
    pre_tokenizer: { type: "Whitespace" },
    post_processor: {
      type: "TemplateProcessing",
      single: [spec("<s>"), seq("A"), spec("</s>")],
      pair: [spec("<s>"), seq("A"), spec("</s>"), seq("B"), spec("</s>")],
      special_tokens: {
        "<s>": { id: "<s>", ids: [0], tokens: ["<s>"] },
        "</s>": { id: "</s>", ids: [1], tokens: ["</s>"] },
      },
    },
    decoder: null,
    // id 8 is a hole: no token has it
    model: {
      type: "WordLevel",
      vocab: { "<s>": 0, "</s>": 1, "<pad>": 2, "<unk>": 3, a: 4, b: 5, c: 6, d: 9 },
      unk_token: "<unk>",
    },
  };
}
