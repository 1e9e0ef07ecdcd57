/**
 * A methods pair of real models (no toy): its windows are the pipeline's text and chat windows, interleaved in whole
 * forwards (one length per forward) with the text share spread evenly; chat windows keep their region labels, so the
 * assistant content is found.
 */
import * as path from "node:path";
import { type ModelPair, qwenTokenizerFile } from "@difflens/app-kit";
import { bundledChatTemplate } from "@difflens/chat";
import { loadTokenizer } from "@difflens/tokenizer";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../src/cli/pipeline-commands.ts";
import { loadDiffingConfig, resolveDiffingConfig } from "../src/config/diffing-config.ts";
import type { PairedWindow } from "../src/methods/paired-harvest.ts";
import { methodsPair } from "../src/methods-run/methods-pair.ts";

describe("methods pair of real models", () => {
  it("names the configured models and interleaves text and chat windows in whole forwards", async () => {
    const { file, toy: _t, ...demo } = loadDiffingConfig(DEFAULT_CONFIG);
    const config = resolveDiffingConfig(
      {
        ...demo,
        baseModel: "../../models/base",
        chatModel: { path: "../../models/base", adapter: "../../models/lora" },
        methods: {
          hook: "blocks.0.hook_resid_post",
          harvest: { windows: 10, windowsPerForward: 2, textFraction: 0.4 },
        },
      },
      path.dirname(DEFAULT_CONFIG),
      file,
    );
    const pair = await methodsPair(config, config.methods!, () => {});
    expect(pair.toy).toBeNull();
    expect(pair.hook).toBe("blocks.0.hook_resid_post");
    expect(pair.chat.adapter).toBe(path.resolve(path.dirname(DEFAULT_CONFIG), "../../models/lora"));
    const tokenizer = loadTokenizer(path.dirname(qwenTokenizerFile()));
    const models = { tokenizer, template: bundledChatTemplate("qwen1.5-chat") } as unknown as ModelPair;
    const windows: PairedWindow[] = [];
    for await (const w of pair.windows(models)) windows.push(w);
    const lengths = windows.map((w) => w.ids.length);
    // 5 forwards of 2, 2 of them text (context 64), spread out: chat, chat, text, chat, text (chat: context 128).
    expect(lengths).toEqual([128, 128, 128, 128, 64, 64, 128, 128, 64, 64]);
    // Chats cut at the context before their answer have no assistant start; the others start at its first token.
    const starts = windows.filter((w) => w.regions).map((w) => [w, pair.assistantStart(w)] as const);
    expect(starts.filter(([, s]) => s !== null).length).toBeGreaterThan(2);
    for (const [w, s] of starts) if (s !== null) expect(w.regions![s]).toBe("assistant:content");
    expect(pair.assistantStart(windows[4]!)).toBeNull(); // text
    expect(pair.decode(models)(151644)).toBe("<|im_start|>");
  });
});
