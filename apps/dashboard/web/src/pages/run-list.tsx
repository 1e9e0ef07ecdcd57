import type { RunListResponse, RunSummary } from "../../../src/api/run-types.ts";
import { formatDate } from "../format.ts";
import { href } from "../router.ts";

const KIND_LABELS: Record<RunSummary["kind"], string> = {
  diffing: "diffing",
  "readouts-sae-conditions": "readouts · SAE conditions",
  "readouts-attention-marker": "readouts · attention marker",
  "readouts-steer": "readouts · steer",
  "readouts-follow-up": "readouts · follow-up",
  unknown: "other",
};

/** Every run folder under the served root: kind, name, date, a few config facts, lineage, error badges. */
export function RunListPage({ list }: { list: RunListResponse }) {
  return (
    <>
      <h1>Runs in {list.root}</h1>
      <p class="lede">
        {list.runs.length} run folder{list.runs.length === 1 ? "" : "s"}
        {list.live ? " · live mode available on diffing runs" : " · live mode off"}
      </p>
      {list.runs.length === 0 ? <p>No run folder (a folder with run.json) was found here.</p> : null}
      <ul class="run-list">
        {list.runs.map((run) => (
          <RunRow run={run} key={run.id} />
        ))}
      </ul>
    </>
  );
}

function RunRow({ run }: { run: RunSummary }) {
  const facts = Object.entries(run.facts);
  return (
    <li class="run-row card" data-testid="run-row">
      <div class="run-head">
        <a class="run-link" href={href.run(run.id)}>
          {run.name}
        </a>
        <span class={`kind kind-${run.kind}`}>{KIND_LABELS[run.kind]}</span>
        {run.errors.length > 0 ? (
          <span class="error-badge" title={run.errors.map((e) => `${e.file}: ${e.message}`).join("\n")}>
            {run.errors.length} error{run.errors.length === 1 ? "" : "s"}
          </span>
        ) : null}
      </div>
      <p class="run-meta">
        <code>{run.id}</code> · {formatDate(run.updatedAt ?? run.createdAt)}
      </p>
      {facts.length > 0 ? (
        <dl class="facts">
          {facts.map(([key, value]) => (
            <div key={key}>
              <dt>{key}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      {run.lineage.length > 0 ? (
        <p class="lineage">
          <span class="muted">from</span> {run.lineage.join(" · ")}
        </p>
      ) : null}
      {run.errors.length > 0 ? (
        <ul class="run-errors">
          {run.errors.map((e, i) => (
            <li key={i}>
              <code>{e.file}</code>
              {e.field ? ` (${e.field})` : ""}: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}
