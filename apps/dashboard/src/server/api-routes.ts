/**
 * The GET routes of the API (routes.ts): each validates its query, finds the run by id (discovery's ids only) and
 * calls the page builder for the run's kind. Builders turn file problems into error panels; what reaches here as an
 * error is the request's fault (400/404) or a run that cannot be answered at all (422).
 */
import * as path from "node:path";
import { ROUTES } from "../api/routes.ts";
import type { RunListResponse } from "../api/run-types.ts";
import { DashboardError } from "../errors.ts";
import { diffingRun } from "../runs/diffing-run.ts";
import { diffingScatter } from "../runs/diffing-scatter.ts";
import type { DiscoveredRun } from "../runs/discovered-run.ts";
import { featureExport } from "../runs/feature-export.ts";
import { featurePage } from "../runs/feature-page.ts";
import { resolveRunPath } from "../runs/read-run-file.ts";
import { readoutsGenerations, readoutsRun } from "../runs/readouts-run.ts";
import { runSummary } from "../runs/run-summary.ts";
import { integerParam, oneOfParam, parseQuery, type Query, requiredParam, stageParam } from "./query.ts";
import type { RunRegistry } from "./run-registry.ts";

/** What a GET route answers: JSON, or a file of a run folder. */
export type GetResult =
  | { kind: "json"; body: unknown; headers?: Record<string, string> }
  | { kind: "file"; file: string };

export interface ApiContext {
  readonly registry: RunRegistry;
  readonly live: boolean;
}

type GetRoute = (search: string, context: ApiContext) => Promise<GetResult>;

/** Page sizes of the generations list. */
export const MAX_GENERATIONS_LIMIT = 200;
/** Latents beyond any SAE we train; the run's own width is checked when run.json states it. */
const MAX_LATENT = 1 << 24;

const json = (body: unknown, headers?: Record<string, string>): GetResult => ({
  kind: "json",
  body,
  ...(headers ? { headers } : {}),
});

export const GET_ROUTES: Readonly<Record<string, GetRoute>> = {
  [ROUTES.runs]: async (search, { registry, live }) => {
    parseQuery(search, []);
    const runs = await registry.refresh();
    const body: RunListResponse = { root: path.basename(registry.root) || "/", runs: runs.map(runSummary), live };
    return json(body);
  },
  [ROUTES.run]: async (search, { registry }) => {
    const run = await runOf(parseQuery(search, ["run"]), registry);
    return json(run.kind === "diffing" ? await diffingRun(run) : await readoutsRun(run));
  },
  [ROUTES.scatter]: async (search, { registry }) => {
    const query = parseQuery(search, ["run", "space"]);
    const run = diffing(await runOf(query, registry));
    return json(await diffingScatter(run, oneOfParam(query, "space", ["decoder", "encoder"] as const, "decoder")));
  },
  [ROUTES.feature]: async (search, { registry }) => {
    const { run, stage, latent } = await featureQuery(search, registry);
    return json(await featurePage(run, stage, latent));
  },
  [ROUTES.featureExport]: async (search, { registry }) => {
    const { run, stage, latent } = await featureQuery(search, registry);
    const name = `${path.basename(run.dir)}-${stage}-${latent}.json`.replace(/[^A-Za-z0-9._-]/g, "_");
    return json(await featureExport(run, stage, latent), { "Content-Disposition": `attachment; filename="${name}"` });
  },
  [ROUTES.generations]: async (search, { registry }) => {
    const query = parseQuery(search, ["run", "offset", "limit"]);
    const run = await runOf(query, registry);
    if (run.kind !== "readouts-attention-marker") {
      throw new DashboardError(
        "BAD_REQUEST",
        `run "${run.id}" is a ${run.kind} run: generations are an attention-marker run's`,
        {
          field: "run",
        },
      );
    }
    const offset = integerParam(query, "offset", { min: 0, max: 10_000_000, fallback: 0 });
    const limit = integerParam(query, "limit", { min: 1, max: MAX_GENERATIONS_LIMIT, fallback: 50 });
    return json(await readoutsGenerations(run, offset, limit));
  },
  [ROUTES.file]: async (search, { registry }) => {
    const query = parseQuery(search, ["run", "path"]);
    const run = await runOf(query, registry);
    return { kind: "file", file: await resolveRunPath(run, requiredParam(query, "path")) };
  },
};

async function runOf(query: Query, registry: RunRegistry): Promise<DiscoveredRun> {
  return registry.get(requiredParam(query, "run"));
}

function diffing(run: DiscoveredRun): DiscoveredRun {
  if (run.kind !== "diffing") {
    throw new DashboardError("BAD_REQUEST", `run "${run.id}" is a ${run.kind} run, not a diffing run`, {
      field: "run",
    });
  }
  return run;
}

async function featureQuery(search: string, registry: RunRegistry) {
  const query = parseQuery(search, ["run", "stage", "latent"]);
  const run = diffing(await runOf(query, registry));
  const stage = stageParam(query);
  const dSae = saeWidth(run);
  const latent = integerParam(query, "latent", { min: 0, max: (dSae ?? MAX_LATENT) - 1 });
  return { run, stage, latent };
}

/** config.sae.dSae of a diffing run.json, when stated. */
export function saeWidth(run: DiscoveredRun): number | null {
  const config = run.runJson?.["config"] as { sae?: { dSae?: unknown } } | undefined;
  const dSae = config?.sae?.dSae;
  return typeof dSae === "number" && Number.isSafeInteger(dSae) && dSae > 0 ? dSae : null;
}
