import { useMemo } from "preact/hooks";
import type { ReadoutsRunResponse, TableData } from "../../../src/api/readouts-types.ts";
import type { FigureData } from "../../../src/api/run-types.ts";
import { figureSpec } from "../charts/figure-spec.ts";
import { DataTable } from "../components/data-table.tsx";
import { ErrorPanels } from "../components/error-panels.tsx";
import { VegaChart } from "../components/vega-chart.tsx";
import { fileUrl } from "../data/api.ts";
import { Generations } from "./generations.tsx";

/** A readouts run: summary lines, every figure drawn from its rows (PNG linked), tables, generations. */
export function ReadoutsRunPage({ data }: { data: ReadoutsRunResponse }) {
  return (
    <>
      <h1>
        {data.name} <span class="muted">· {data.kind.replace(/^readouts-/, "readouts · ")}</span>
      </h1>
      <p class="lede">
        <code>{data.run}</code>
      </p>
      <ErrorPanels errors={data.errors} />
      {data.summary.length > 0 ? (
        <section class="card" aria-labelledby="summary-heading">
          <h2 id="summary-heading">Summary</h2>
          <ul class="summary">
            {data.summary.map((line, i) => (
              <li key={i}>{line}</li>
            ))}
          </ul>
        </section>
      ) : null}
      {data.figures.length > 0 ? (
        <section aria-labelledby="figures-heading">
          <h2 id="figures-heading">Figures</h2>
          <div class="figure-grid">
            {data.figures.map((figure) => (
              <FigureCard figure={figure} run={data.run} key={figure.file} />
            ))}
          </div>
        </section>
      ) : null}
      {data.tables.map((table) => (
        <TableCard table={table} key={table.title} />
      ))}
      {data.generations ? <Generations run={data.run} first={data.generations} /> : null}
    </>
  );
}

function FigureCard({ figure, run }: { figure: FigureData; run: string }) {
  const spec = useMemo(() => (chartWidth: number) => figureSpec(figure, { chartWidth }), [figure]);
  const label = `${figure.kind} figure: ${figure.title ?? figure.file}${figure.subtitle ? `. ${figure.subtitle}` : ""}`;
  return (
    <figure class="card figure-card">
      <VegaChart spec={spec} label={label} scroll={figure.kind === "heatmap"} />
      <figcaption>
        {figure.note ? <p class="note">{figure.note}</p> : null}
        <p class="muted">
          <code>{figure.file}</code>
          {figure.png ? (
            <>
              {" "}
              · <a href={fileUrl(run, figure.png)}>PNG</a>
            </>
          ) : null}{" "}
          · <a href={fileUrl(run, figure.file)}>data (JSON)</a>
        </p>
      </figcaption>
    </figure>
  );
}

function TableCard({ table }: { table: TableData }) {
  const numeric = table.columns.map(
    (_, c) => table.rows.length > 0 && table.rows.every((row) => typeof row[c] === "number"),
  );
  return (
    <section class="card">
      <DataTable
        caption={<h2 class="caption-heading">{table.title}</h2>}
        columns={table.columns}
        numeric={numeric}
        rows={table.rows.map((row) =>
          row.map((cell) =>
            typeof cell === "object" ? (
              <a href={cell.href} rel={cell.href.startsWith("#") ? undefined : "noopener noreferrer"} key={cell.href}>
                {cell.text}
              </a>
            ) : typeof cell === "number" && !Number.isInteger(cell) ? (
              cell.toFixed(4)
            ) : (
              cell
            ),
          ),
        )}
      />
    </section>
  );
}
