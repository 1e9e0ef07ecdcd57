import { useMemo, useState } from "preact/hooks";
import type { ScatterPoint, ScatterResponse } from "../../../src/api/diffing-types.ts";
import { scatterSpec } from "../charts/scatter-spec.ts";
import { AsyncView } from "../components/async-view.tsx";
import { ErrorPanels } from "../components/error-panels.tsx";
import { VegaChart } from "../components/vega-chart.tsx";
import { api } from "../data/api.ts";
import { useAsync } from "../data/use-async.ts";
import { decimalsForRange, formatNumber } from "../format.ts";
import { href } from "../router.ts";

const LISTED_LATENTS = 20;

/** The two-stage scatter with its decoder/encoder toggle, and the top latents as a keyboard-reachable list. */
export function ScatterPanel({ run }: { run: string }) {
  const [space, setSpace] = useState<"decoder" | "encoder">("decoder");
  const state = useAsync(() => api.scatter(run, space), [run, space]);
  return (
    <section class="card scatter-panel" aria-labelledby="scatter-heading">
      <div class="section-head">
        <h2 id="scatter-heading">Two-stage scatter</h2>
        <fieldset class="toggle">
          <legend class="visually-hidden">Cosines of</legend>
          {(["decoder", "encoder"] as const).map((option) => (
            <label key={option}>
              <input
                type="radio"
                name="space"
                value={option}
                checked={space === option}
                onChange={() => setSpace(option)}
              />
              {option}
            </label>
          ))}
        </fieldset>
      </div>
      <AsyncView state={state} request={`api/diffing/scatter?space=${space}`}>
        {(scatter) => <ScatterView scatter={scatter} />}
      </AsyncView>
    </section>
  );
}

function ScatterView({ scatter }: { scatter: ScatterResponse }) {
  const [showThreshold, setShowThreshold] = useState(false);
  const spec = useMemo(
    () => (chartWidth: number) => scatterSpec(scatter, { showThreshold, chartWidth }),
    [scatter, showThreshold],
  );
  const top = useMemo(() => [...scatter.points].sort((a, b) => a.rank - b.rank).slice(0, LISTED_LATENTS), [scatter]);
  const spread = (values: number[]) => Math.max(...values) - Math.min(...values);
  const digits = decimalsForRange(
    Math.min(spread(scatter.points.map((p) => p.x)), spread(scatter.points.map((p) => p.y))),
  );
  const below = scatter.points.filter((p) => p.x < scatter.threshold || p.y < scatter.threshold).length;
  const thresholdNote =
    below === 0 && !showThreshold ? " The threshold lines lie outside the points' range (zoom out to see them)." : "";
  const summary =
    `${scatter.points.length} latents of ${scatter.hook}: ${scatter.xTitle} against ${scatter.yTitle} (${scatter.space} rows). ` +
    `${below} fall below the threshold ${scatter.threshold} on either axis. Latents with stored contexts are diamonds.${thresholdNote}`;
  const open = (datum: Record<string, unknown>) => {
    if (typeof datum.latent === "number") location.hash = href.feature(scatter.run, "MF", datum.latent);
  };
  return (
    <>
      <ErrorPanels errors={scatter.errors} />
      <figure class="scatter-figure">
        <VegaChart spec={spec} label={summary} onDatumClick={open} testId="scatter" />
        <figcaption>
          {summary} Hover a point for its values, click it to open its feature page (stage MF); drag to pan, scroll to
          zoom, double-click to reset.
        </figcaption>
      </figure>
      <label class="inline-check">
        <input type="checkbox" checked={showThreshold} onChange={(e) => setShowThreshold(e.currentTarget.checked)} />
        Fit the view to the threshold lines ({scatter.threshold}) too
      </label>
      <h3 id="top-latents-heading">Most rotated latents (rank by {scatter.space} cosines)</h3>
      <ol class="latent-list" aria-labelledby="top-latents-heading">
        {top.map((point) => (
          <LatentItem point={point} run={scatter.run} digits={digits} key={point.latent} />
        ))}
      </ol>
    </>
  );
}

function LatentItem({ point, run, digits }: { point: ScatterPoint; run: string; digits: number }) {
  return (
    <li>
      <a href={href.feature(run, "MF", point.latent)} data-testid="latent-link">
        latent {point.latent}
      </a>
      <span class="muted">
        {" "}
        #{point.rank} · x {formatNumber(point.x, digits)} · y {formatNumber(point.y, digits)}
        {point.hasContexts ? " · contexts" : ""}
      </span>
    </li>
  );
}
