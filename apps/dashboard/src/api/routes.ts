// The dashboard's HTTP API, one place. The web client builds URLs with these; the static export writes the same
// responses to files named by `staticDataKey` so the client can read them from disk without a server.

export const ROUTES = {
  /** GET → RunListResponse */
  runs: "/api/runs",
  /** GET ?run=ID → DiffingRunResponse | ReadoutsRunResponse (by kind) */
  run: "/api/run",
  /** GET ?run=ID&space=decoder|encoder → ScatterResponse */
  scatter: "/api/diffing/scatter",
  /** GET ?run=ID&stage=S|D|M|DF|MF&latent=N → FeaturePageResponse */
  feature: "/api/diffing/feature",
  /** GET ?run=ID&stage=…&latent=N → Neuronpedia-style JSON (download) */
  featureExport: "/api/diffing/feature-export",
  /** GET ?run=ID&offset=N&limit=M → ReadoutsRunResponse["generations"] */
  generations: "/api/readouts/generations",
  /** GET ?run=ID&path=REL → a file of the run folder (PNG/SVG/PDF/JSON/CSV/MD), read-only */
  file: "/api/file",
  /** POST LiveRequest → LiveResponse */
  live: "/api/live",
} as const;

export type RouteName = keyof typeof ROUTES;

/**
 * The file name (without extension) under `data/` of the static export for one GET request: route name and sorted
 * query, made filesystem-safe. Both the exporter and the client's static mode use this, so they cannot disagree.
 */
export function staticDataKey(route: RouteName, query: Record<string, string | number>): string {
  const parts = Object.keys(query)
    .sort()
    .map((key) => `${key}=${String(query[key])}`);
  const raw = [route, ...parts].join("__");
  return raw.replace(/[^A-Za-z0-9._=-]/g, (ch) => `~${ch.charCodeAt(0).toString(16)}`);
}

/** The global the static export's data scripts assign into: `window.__DIFFLENS_STATIC__[key] = response`. */
export const STATIC_GLOBAL = "__DIFFLENS_STATIC__";

/**
 * Generations per page of the readouts generations route, when the run page's first page is shorter: the client pages
 * with `limit = max(first page's length, this)` at offsets that are multiples of it, and the static export writes
 * exactly those pages.
 */
export const GENERATIONS_PAGE_SIZE = 20;
