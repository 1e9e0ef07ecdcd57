import { STAGES, type StageName } from "../../src/api/diffing-types.ts";

/** The pages, parsed from the location hash (hash routing works from disk in a static export too). */
export type Route =
  | { page: "runs" }
  | { page: "run"; run: string }
  | { page: "live"; run: string }
  | { page: "feature"; run: string; stage: StageName; latent: number }
  | { page: "not-found"; hash: string };

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, "").replace(/^\/+|\/+$/g, "");
  if (path === "") return { page: "runs" };
  const parts = path.split("/");
  if (parts[0] !== "run" || parts.length < 2) return { page: "not-found", hash };
  let run: string;
  try {
    run = decodeURIComponent(parts[1]!);
  } catch {
    return { page: "not-found", hash };
  }
  if (parts.length === 2) return { page: "run", run };
  if (parts.length === 3 && parts[2] === "live") return { page: "live", run };
  if (parts.length === 5 && parts[2] === "feature") {
    const stage = parts[3] as StageName;
    const latent = Number(parts[4]);
    if (STAGES.includes(stage) && Number.isInteger(latent) && latent >= 0)
      return { page: "feature", run, stage, latent };
  }
  return { page: "not-found", hash };
}

export const href = {
  runs: () => "#/",
  run: (run: string) => `#/run/${encodeURIComponent(run)}`,
  live: (run: string) => `#/run/${encodeURIComponent(run)}/live`,
  feature: (run: string, stage: StageName, latent: number) =>
    `#/run/${encodeURIComponent(run)}/feature/${stage}/${latent}`,
};
