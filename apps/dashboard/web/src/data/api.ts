import type {
  DiffingRunResponse,
  FeaturePageResponse,
  ScatterResponse,
  StageName,
} from "../../../src/api/diffing-types.ts";
import type { LiveRequest, LiveResponse } from "../../../src/api/live-types.ts";
import type { ReadoutsRunResponse } from "../../../src/api/readouts-types.ts";
import { ROUTES, type RouteName, staticDataKey } from "../../../src/api/routes.ts";
import type { RunListResponse } from "../../../src/api/run-types.ts";
import { ApiError, errorFromBody } from "./api-error.ts";
import { dashboardMode } from "./mode.ts";
import { loadStaticData } from "./static-data.ts";

type Query = Record<string, string | number>;

/** A route's URL relative to the page, so the dashboard also works when served under a path prefix. */
export function routeUrl(route: RouteName, query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) params.set(key, String(value));
  const search = params.toString();
  return search === "" ? ROUTES[route].slice(1) : `${ROUTES[route].slice(1)}?${search}`;
}

async function getJson<T>(route: RouteName, query: Query): Promise<T> {
  if (dashboardMode() === "static") return (await loadStaticData(staticDataKey(route, query))) as T;
  return (await request(routeUrl(route, query), undefined)) as T;
}

async function request(url: string, init: RequestInit | undefined): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError("NETWORK_ERROR", `The dashboard server did not answer (${reason}). Is it still running?`, 0);
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    if (response.ok) throw new ApiError("BAD_RESPONSE", `${url} did not answer JSON.`, response.status);
  }
  if (!response.ok) throw errorFromBody(response.status, body);
  return body;
}

export const api = {
  runs: () => getJson<RunListResponse>("runs", {}),
  run: (run: string) => getJson<DiffingRunResponse | ReadoutsRunResponse>("run", { run }),
  scatter: (run: string, space: "decoder" | "encoder") => getJson<ScatterResponse>("scatter", { run, space }),
  feature: (run: string, stage: StageName, latent: number) =>
    getJson<FeaturePageResponse>("feature", { latent, run, stage }),
  featureExport: (run: string, stage: StageName, latent: number) =>
    getJson<object>("featureExport", { latent, run, stage }),
  generations: (run: string, offset: number, limit: number) =>
    getJson<ReadoutsRunResponse["generations"]>("generations", { limit, offset, run }),
  live: (body: LiveRequest) =>
    request(ROUTES.live.slice(1), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }) as Promise<LiveResponse>,
};

/** A file of a run folder: the server's file route, or the export's copy under files/<run>/<path>. */
export function fileUrl(run: string, path: string): string {
  if (dashboardMode() === "static") {
    const segments = [...run.split("/"), ...path.split("/")].filter((s) => s !== "." && s !== "");
    return `files/${segments.map(encodeURIComponent).join("/")}`;
  }
  return routeUrl("file", { path, run });
}

/** The Neuronpedia-style export's URL in server mode (static mode downloads the loaded data instead). */
export function featureExportUrl(run: string, stage: StageName, latent: number): string {
  return routeUrl("featureExport", { latent, run, stage });
}
