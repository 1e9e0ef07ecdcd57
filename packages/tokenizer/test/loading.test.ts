import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hubCacheDir, hubRepoFolderName } from "@difflens/common";
import { describe, expect, it } from "vitest";
import { loadTokenizer, TokenizerError, tokenizerFromSources } from "../src/index.ts";
import { tinyTokenizerJson } from "./tiny-tokenizer.ts";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof TokenizerError) return e.code;
    throw e;
  }
  return undefined;
}

describe("loading", () => {
  it("resolves a Hub cache layout through refs/main, by folder and by repo id", () => {
    const cache = mkdtempSync(join(tmpdir(), "difflens-hub-"));
    const repo = join(cache, hubRepoFolderName("Qwen/Tiny-Chat"));
    expect(repo).toBe(join(cache, "models--Qwen--Tiny-Chat"));
    const snapshot = join(repo, "snapshots", "0123abcd");
    mkdirSync(snapshot, { recursive: true });
    mkdirSync(join(repo, "refs"));
    writeFileSync(join(repo, "refs", "main"), "0123abcd\n");
    // The Hub stores files as symlinks into blobs/; follow them as transformers does.
    const blobs = join(repo, "blobs");
    mkdirSync(blobs);
    writeFileSync(join(blobs, "aa11"), JSON.stringify(tinyTokenizerJson()));
    writeFileSync(join(blobs, "bb22"), JSON.stringify({ bos_token: "<s>", eos_token: "</s>" }));
    symlinkSync(join(blobs, "aa11"), join(snapshot, "tokenizer.json"));
    symlinkSync(join(blobs, "bb22"), join(snapshot, "tokenizer_config.json"));
    writeFileSync(join(snapshot, "generation_config.json"), JSON.stringify({ eos_token_id: [1, 0], pad_token_id: 2 }));
    const byFolder = loadTokenizer(repo);
    expect(byFolder.origin).toBe(snapshot);
    expect(byFolder.generation.eosTokenIds).toEqual([1, 0]);
    expect(byFolder.generation.padTokenId).toBe(2);
    expect(loadTokenizer("Qwen/Tiny-Chat", { cacheDir: cache }).eosTokenId).toBe(1);
    expect(loadTokenizer(repo, { revision: "0123abcd" }).origin).toBe(snapshot);
    const err = (() => {
      try {
        loadTokenizer(repo, { revision: "v2" });
      } catch (e) {
        return e as TokenizerError;
      }
      return null;
    })();
    expect(err?.code).toBe("HUB_SNAPSHOT_NOT_FOUND");
    expect(err?.message).toMatch(/0123abcd/);
  });

  it("finds the default cache from the environment given to it", () => {
    expect(hubCacheDir({ HF_HUB_CACHE: "/a" })).toBe("/a");
    expect(hubCacheDir({ HF_HOME: "/h" })).toBe(join("/h", "hub"));
  });

  it("lets special_tokens_map.json override tokenizer_config.json, and accepts {content} objects", () => {
    const tok = tokenizerFromSources({
      tokenizerJson: JSON.stringify(tinyTokenizerJson()),
      tokenizerConfig: { bos_token: "<s>", eos_token: "<s>", pad_token: null },
      specialTokensMap: { eos_token: { content: "</s>", lstrip: false }, pad_token: "<pad>" },
    });
    expect([tok.bosTokenId, tok.eosTokenId, tok.padTokenId]).toEqual([0, 1, 2]);
    expect(tok.specialTokenNames.eos).toBe("</s>");
  });

  it("reports missing and malformed files by name", () => {
    const empty = mkdtempSync(join(tmpdir(), "difflens-empty-"));
    expect(codeOf(() => loadTokenizer(empty))).toBe("TOKENIZER_FILE_MISSING");
    expect(() => loadTokenizer(empty)).toThrow(join(empty, "tokenizer.json"));
    expect(codeOf(() => loadTokenizer("/no/such/folder"))).toBe("TOKENIZER_FILE_MISSING");

    const truncated = mkdtempSync(join(tmpdir(), "difflens-bad-"));
    writeFileSync(join(truncated, "tokenizer.json"), '{"version": "1.0", "model": {');
    expect(codeOf(() => loadTokenizer(truncated))).toBe("TOKENIZER_FILE_MALFORMED");
    expect(() => loadTokenizer(truncated)).toThrow(join(truncated, "tokenizer.json"));

    writeFileSync(join(truncated, "tokenizer.json"), JSON.stringify({ version: "1.0", model: { type: "Nonsense" } }));
    expect(codeOf(() => loadTokenizer(truncated))).toBe("TOKENIZER_REJECTED");

    expect(codeOf(() => tokenizerFromSources({ tokenizerJson: tinyTokenizerJson(), tokenizerConfig: "{oops" }))).toBe(
      "TOKENIZER_FILE_MALFORMED",
    );
    expect(
      codeOf(() =>
        tokenizerFromSources({ tokenizerJson: tinyTokenizerJson(), tokenizerConfig: { eos_token: "<nope>" } }),
      ),
    ).toBe("UNKNOWN_SPECIAL_TOKEN");
    expect(
      codeOf(() => tokenizerFromSources({ tokenizerJson: tinyTokenizerJson(), tokenizerConfig: { eos_token: 5 } })),
    ).toBe("TOKENIZER_FILE_MALFORMED");
  });

  it("decodes a vocabulary with a hole only for ids that exist", async () => {
    const tok = tokenizerFromSources({ tokenizerJson: tinyTokenizerJson() });
    expect(tok.maxTokenId).toBe(9);
    expect(tok.idToToken(8)).toBeNull();
    expect(await tok.decode([4, 9], { skipSpecialTokens: true })).toBe("a d");
    await expect(tok.decode([8])).rejects.toThrow(/TOKEN_ID_OUT_OF_RANGE/);
  });
});
