import { describe, expect, test } from "vitest";
import { configFromFlags } from "../src/cli/pipeline-commands.ts";
import { DEFAULT_CONFIG, loadDiffingConfig, resolveDiffingConfig } from "../src/index.ts";

describe("features.latents and --latents", () => {
  const { file: _file, ...defaults } = loadDiffingConfig(DEFAULT_CONFIG);
  const withLatents = (latents: unknown) =>
    resolveDiffingConfig({ ...defaults, features: { ...defaults.features, latents } }, "/tmp").features.latents;

  test('config: "all", a list, or null (the top of the ranking)', () => {
    expect(withLatents("all")).toBe("all");
    expect(withLatents([3, 5])).toEqual([3, 5]);
    expect(withLatents(null)).toBeNull();
    expect(() => withLatents("most")).toThrow(/features\.latents/);
  });

  test("--latents all | N,N overrides the config; anything else is a usage error naming the flag", () => {
    expect(configFromFlags({ latents: "all" }).config.features.latents).toBe("all");
    expect(configFromFlags({ latents: "4, 9" }).config.features.latents).toEqual([4, 9]);
    expect(() => configFromFlags({ latents: "4,x" })).toThrow(/--latents: expected "all" or latent indices/);
  });
});
