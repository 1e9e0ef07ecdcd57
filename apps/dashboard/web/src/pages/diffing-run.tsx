import { useMemo } from "preact/hooks";
import type { DiffingRunResponse } from "../../../src/api/diffing-types.ts";
import { binsFigure, figureSpec } from "../charts/figure-spec.ts";
import { DataTable } from "../components/data-table.tsx";
import { ErrorPanels } from "../components/error-panels.tsx";
import { PathText } from "../components/path-text.tsx";
import { VegaChart } from "../components/vega-chart.tsx";
import { fileUrl } from "../data/api.ts";
import { href } from "../router.ts";
import { LiveBox } from "./live-box.tsx";
import { ScatterPanel } from "./scatter-panel.tsx";

/** A diffing run: scatter, top latents, stages, density histograms, figures, live box. */
export function DiffingRunPage({ data, live }: { data: DiffingRunResponse; live: boolean }) {
  return (
    <>
      <h1>
        {data.name} <span class="muted">· diffing run</span>
      </h1>
      <p class="lede">
        <code>{data.run}</code>
        {data.hook ? (
          <>
            {" "}
            · hook <code>{data.hook}</code>
          </>
        ) : null}
        {data.dSae !== null ? ` · ${data.dSae} latents` : ""}
        {live ? (
          <>
            {" "}
            · <a href={href.live(data.run)}>live page</a>
          </>
        ) : null}
      </p>
      <ErrorPanels errors={data.errors} />
      <div class="grid-2">
        <ScatterPanel run={data.run} />
        <div class="stack">
          <StagesTable data={data} />
          <TopLists data={data} />
        </div>
      </div>
      <DensityHistograms data={data} />
      {data.figures.length > 0 ? (
        <section class="card" aria-labelledby="figures-heading">
          <h2 id="figures-heading">Figures</h2>
          <div class="figure-grid">
            {data.figures.map((figure) => (
              <figure key={figure.file}>
                {figure.png ? (
                  <img src={fileUrl(data.run, figure.png)} alt={figure.title ?? figure.file} loading="lazy" />
                ) : null}
                <figcaption>
                  {figure.title ?? figure.file} ·{" "}
                  <a href={fileUrl(data.run, figure.png ?? figure.file)}>{figure.png ? "PNG" : "data"}</a>
                </figcaption>
              </figure>
            ))}
          </div>
        </section>
      ) : null}
      <LiveBox run={data.run} live={live} />
    </>
  );
}

function StagesTable({ data }: { data: DiffingRunResponse }) {
  return (
    <section class="card wrap-cells" aria-labelledby="stages-heading">
      <h2 id="stages-heading">Stages</h2>
      <DataTable
        caption="Stage checkpoints of this run"
        columns={["stage", "status", "model", "step", "checkpoint"]}
        numeric={[false, false, false, true, false]}
        rows={data.stages.map((s) => [
          <strong key="s">{s.stage}</strong>,
          <span key="st" class={s.status === "done" ? "status-ok" : "status-other"}>
            {s.status}
          </span>,
          s.model ? <PathText key="m" text={s.model} /> : "—",
          s.step ?? "—",
          s.checkpoint ? (
            <code key="c">
              <PathText text={s.checkpoint} />
            </code>
          ) : (
            "—"
          ),
        ])}
      />
    </section>
  );
}

function TopLists({ data }: { data: DiffingRunResponse }) {
  const list = (title: string, latents: number[]) => (
    <div>
      <h3>{title}</h3>
      {latents.length === 0 ? (
        <p class="muted">none stored</p>
      ) : (
        <p class="chips">
          {latents.map((latent) => (
            <a class="chip" href={href.feature(data.run, "MF", latent)} key={latent}>
              {latent}
            </a>
          ))}
        </p>
      )}
    </div>
  );
  return (
    <section class="card" aria-labelledby="ranking-heading">
      <h2 id="ranking-heading">Ranking</h2>
      {list("Decoder ranking (compare/ranking.json)", data.top)}
      {list("Encoder ranking", data.encoderTop)}
    </section>
  );
}

function DensityHistograms({ data }: { data: DiffingRunResponse }) {
  if (data.densityHistograms.length === 0) return null;
  return (
    <section class="card" aria-labelledby="density-heading">
      <h2 id="density-heading">Activation density</h2>
      <p class="muted">Latents by log10 firing frequency over the features dataset, one histogram per stage.</p>
      <div class="density-grid">
        {data.densityHistograms.map((h) => (
          <StageDensity histogram={h} key={h.stage} />
        ))}
      </div>
    </section>
  );
}

function StageDensity({ histogram }: { histogram: DiffingRunResponse["densityHistograms"][number] }) {
  const spec = useMemo(
    () => (chartWidth: number) =>
      figureSpec(
        binsFigure(`Stage ${histogram.stage}`, "log10 firing frequency", "latents", [
          { name: `stage ${histogram.stage}`, edges: histogram.edgesLog10, counts: histogram.counts },
        ]),
        { height: 150, chartWidth },
      ),
    [histogram],
  );
  const dead = `${histogram.dead} dead latent${histogram.dead === 1 ? "" : "s"} (never fired) over ${histogram.tokens.toLocaleString("en")} tokens`;
  return (
    <figure>
      <VegaChart
        spec={spec}
        label={`Stage ${histogram.stage}: histogram of the latents' log10 firing frequency; ${dead}.`}
      />
      <figcaption>{dead}</figcaption>
    </figure>
  );
}
