import { useMemo } from "preact/hooks";
import {
  type FeatureContexts,
  type FeaturePageResponse,
  type LogitEntry,
  STAGES,
  type StageName,
} from "../../../src/api/diffing-types.ts";
import { binsFigure, figureSpec } from "../charts/figure-spec.ts";
import { AsyncView } from "../components/async-view.tsx";
import { DataTable } from "../components/data-table.tsx";
import { ErrorPanels } from "../components/error-panels.tsx";
import { VegaChart } from "../components/vega-chart.tsx";
import { api, featureExportUrl } from "../data/api.ts";
import { dashboardMode } from "../data/mode.ts";
import { useAsync } from "../data/use-async.ts";
import { formatNumber, formatPercent, visibleToken } from "../format.ts";
import { href } from "../router.ts";
import { TokenContext } from "./token-context.tsx";

/** `#/run/<id>/feature/<stage>/<latent>`: contexts base|chat, cosines, logits, density, links. */
export function FeaturePage(props: { run: string; stage: StageName; latent: number }) {
  const state = useAsync(
    () => api.feature(props.run, props.stage, props.latent),
    [props.run, props.stage, props.latent],
  );
  return (
    <div data-testid="feature-page">
      <AsyncView
        state={state}
        request={`api/diffing/feature?stage=${props.stage}&latent=${props.latent}`}
        pageHeading={`Latent ${props.latent} · stage ${props.stage}`}
      >
        {(feature) => <FeatureView feature={feature} />}
      </AsyncView>
    </div>
  );
}

function FeatureView({ feature }: { feature: FeaturePageResponse }) {
  const { run, stage, latent } = feature;
  return (
    <>
      <h1>
        Latent {latent} <span class="muted">· stage {stage}</span>
      </h1>
      <p class="lede">
        <a href={href.run(run)}>{run}</a> · <code>{feature.hook}</code>
        {feature.rank !== null ? ` · rank ${feature.rank} of ${feature.dSae}` : ""}
      </p>
      <nav class="feature-nav" aria-label="Latent and stage">
        {latent > 0 ? <a href={href.feature(run, stage, latent - 1)}>← latent {latent - 1}</a> : null}
        {latent + 1 < feature.dSae ? <a href={href.feature(run, stage, latent + 1)}>latent {latent + 1} →</a> : null}
        <span class="stage-links">
          Stages:{" "}
          {STAGES.filter((s) => s === stage || feature.otherStages.includes(s)).map((s) =>
            s === stage ? (
              <strong class="chip current" aria-current="page" key={s}>
                {s}
              </strong>
            ) : (
              <a class="chip" href={href.feature(run, s, latent)} data-testid="stage-link" key={s}>
                {s}
              </a>
            ),
          )}
        </span>
        <ExportLink run={run} stage={stage} latent={latent} />
      </nav>
      <ErrorPanels errors={feature.errors} />
      <section class="card" aria-labelledby="contexts-heading">
        <h2 id="contexts-heading">Max-activating contexts</h2>
        {feature.contexts.note ? <p class="muted">{feature.contexts.note}</p> : null}
        <div class="grid-2">
          <ContextColumn side={feature.contexts.base} title="Base model (D)" testId="contexts-base" />
          <ContextColumn side={feature.contexts.chat} title="Chat model (MF)" testId="contexts-chat" />
        </div>
      </section>
      <div class="grid-3 wide-middle">
        <CosinesTable cosines={feature.cosines} />
        <LogitsTables logits={feature.logits} stage={stage} />
        <DensityChart density={feature.density} />
      </div>
    </>
  );
}

function ContextColumn({ side, title, testId }: { side: FeatureContexts | null; title: string; testId: string }) {
  return (
    <div class="context-column" data-testid={testId}>
      <h3>{title}</h3>
      {side === null ? (
        <p class="muted">No contexts stored for this side.</p>
      ) : (
        <>
          <p class="muted">
            Stage {side.stage} on the {side.model} model · fires on {formatPercent(side.density)} of tokens · max{" "}
            {formatNumber(side.maxValue)}
          </p>
          {side.examples.length === 0 ? <p class="muted">It never fired on the features dataset.</p> : null}
          <ol class="contexts">
            {side.examples.map((context, i) => (
              <TokenContext context={context} max={side.maxValue} key={i} />
            ))}
          </ol>
        </>
      )}
    </div>
  );
}

function CosinesTable({ cosines }: { cosines: FeaturePageResponse["cosines"] }) {
  const pairs = [...new Set([...Object.keys(cosines.decoder), ...Object.keys(cosines.encoder)])];
  const cell = (value: number | undefined) => (value === undefined ? "—" : formatNumber(value));
  return (
    <section class="card" aria-labelledby="cosines-heading">
      <h2 id="cosines-heading">Cosines across stages</h2>
      <DataTable
        caption="This latent's decoder and encoder rows, parent → child stage"
        columns={["stages", "decoder", "encoder"]}
        numeric={[false, true, true]}
        rows={pairs.map((pair) => [pair, cell(cosines.decoder[pair]), cell(cosines.encoder[pair])])}
      />
    </section>
  );
}

function LogitsTables({ logits, stage }: { logits: FeaturePageResponse["logits"]; stage: StageName }) {
  const table = (caption: string, entries: LogitEntry[]) => (
    <DataTable
      caption={caption}
      columns={["token", "id", "logit"]}
      numeric={[false, true, true]}
      rows={entries.map((e) => [<code key="t">{visibleToken(e.token)}</code>, e.id, formatNumber(e.value)])}
    />
  );
  return (
    <section class="card" aria-labelledby="logits-heading">
      <h2 id="logits-heading">Output logits</h2>
      {logits === null ? (
        <p class="muted">Not stored for stage {stage}.</p>
      ) : (
        <>
          <p>
            Decoder direction of stage {stage} through the <strong>{logits.unembedding} model's unembedding</strong>.
          </p>
          <div class="grid-2 tight token-cells">
            {table("Top positive", logits.positive)}
            {table("Top negative", logits.negative)}
          </div>
        </>
      )}
    </section>
  );
}

function DensityChart({ density }: { density: FeaturePageResponse["density"] }) {
  const spec = useMemo(
    () =>
      density === null
        ? null
        : (chartWidth: number) =>
            figureSpec(
              binsFigure("Nonzero activations", "activation", "tokens", [
                { name: "activations", edges: density.edges, counts: density.counts },
              ]),
              { chartWidth },
            ),
    [density],
  );
  return (
    <section class="card" aria-labelledby="density-heading">
      <h2 id="density-heading">Activation density</h2>
      {density === null || spec === null ? (
        <p class="muted">Not stored for this stage.</p>
      ) : (
        <>
          <p>
            Fires on {formatPercent(density.frequency)} of {density.tokens.toLocaleString("en")} tokens.
          </p>
          <VegaChart
            spec={spec}
            label={`Histogram of this latent's nonzero activations over ${density.tokens} tokens.`}
          />
        </>
      )}
    </section>
  );
}

function ExportLink({ run, stage, latent }: { run: string; stage: StageName; latent: number }) {
  const fileName = `${run.replace(/[^A-Za-z0-9._-]+/g, "_")}-${stage}-${latent}.json`;
  // A static export has the data as a script, not a file: download what that script defines.
  const downloadStatic = async (event: Event) => {
    if (dashboardMode() !== "static") return;
    event.preventDefault();
    const data = await api.featureExport(run, stage, latent);
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    const anchor = document.createElement("a");
    anchor.href = url;
    anchor.download = fileName;
    anchor.click();
    URL.revokeObjectURL(url);
  };
  return (
    <a class="export-link" href={featureExportUrl(run, stage, latent)} download={fileName} onClick={downloadStatic}>
      Export (Neuronpedia JSON)
    </a>
  );
}
