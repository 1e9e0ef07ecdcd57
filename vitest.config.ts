import { defineConfig } from "vitest/config";

// One vitest run over the whole workspace: on a 2-core machine a single runner with two forks beats
// one runner per package. Packages resolve to their TypeScript sources through the "@difflens/source"
// condition of their `exports`, so tests never need a build.
export default defineConfig({
  // Tests run in vite's server environment; these are its default conditions with ours first.
  ssr: { resolve: { conditions: ["@difflens/source", "module", "node", "development|production"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts", "tests/**/*.test.ts"],
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
