import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hubCacheDir, hubRepoFolderName, parseRepoId } from "../src/index.ts";

// huggingface_hub's order: HF_HUB_CACHE (legacy HUGGINGFACE_HUB_CACHE), HF_HOME/hub, XDG_CACHE_HOME/huggingface/hub,
// ~/.cache/huggingface/hub. Each row sets variables and says which one must win.
const HOME = "/home/researcher";
describe("hubCacheDir, variable by variable", () => {
  it.each([
    [{}, join(HOME, ".cache", "huggingface", "hub")],
    [{ XDG_CACHE_HOME: "/xdg" }, "/xdg/huggingface/hub"],
    [{ HF_HOME: "/hfhome", XDG_CACHE_HOME: "/xdg" }, "/hfhome/hub"],
    [{ HUGGINGFACE_HUB_CACHE: "/legacy", HF_HOME: "/hfhome", XDG_CACHE_HOME: "/xdg" }, "/legacy"],
    [
      { HF_HUB_CACHE: "/hubcache", HUGGINGFACE_HUB_CACHE: "/legacy", HF_HOME: "/hfhome", XDG_CACHE_HOME: "/xdg" },
      "/hubcache",
    ],
    [{ HF_HUB_CACHE: "", HF_HOME: "/hfhome" }, "/hfhome/hub"],
  ])("%j → %s", (env, want) => expect(hubCacheDir(env as NodeJS.ProcessEnv, HOME)).toBe(want));

  it("names repo folders and parses repo ids as the Hub does", () => {
    expect(hubRepoFolderName("Qwen/Qwen2.5-7B-Instruct")).toBe("models--Qwen--Qwen2.5-7B-Instruct");
    expect(parseRepoId("Qwen/Qwen1.5-0.5B@abc123")).toEqual({ repoId: "Qwen/Qwen1.5-0.5B", revision: "abc123" });
    expect(parseRepoId("Qwen/Qwen1.5-0.5B")).toEqual({ repoId: "Qwen/Qwen1.5-0.5B", revision: "main" });
    expect(parseRepoId("./models/qwen")).toBeUndefined();
    expect(parseRepoId("/abs/path")).toBeUndefined();
  });
});
