import { useState } from "preact/hooks";
import type { GenerationView, ReadoutsRunResponse } from "../../../src/api/readouts-types.ts";
import { GENERATIONS_PAGE_SIZE } from "../../../src/api/routes.ts";
import { ErrorPanels } from "../components/error-panels.tsx";
import { api } from "../data/api.ts";
import { type ApiError, asApiError } from "../data/api-error.ts";

type Page = NonNullable<ReadoutsRunResponse["generations"]>;

/** The generations with the marker in `<mark>` (and said in text), paged through the generations route. */
export function Generations({ run, first }: { run: string; first: Page }) {
  const [page, setPage] = useState<Page>(first);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const limit = Math.max(first.items.length, GENERATIONS_PAGE_SIZE);

  const go = async (offset: number) => {
    setBusy(true);
    setError(null);
    try {
      const next = await api.generations(run, offset, limit);
      if (next) setPage(next);
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setBusy(false);
    }
  };
  const end = page.offset + page.items.length;
  return (
    <section class="card" aria-labelledby="generations-heading">
      <h2 id="generations-heading">Generations</h2>
      <p class="muted" aria-live="polite">
        {page.total === 0 ? "None stored." : `${page.offset + 1}–${end} of ${page.total}`}
      </p>
      <ErrorPanels errors={error ? [error.toPanel("api/readouts/generations")] : []} />
      <ol class="generations" start={page.offset + 1}>
        {page.items.map((item, i) => (
          <GenerationItem item={item} key={`${page.offset}-${i}`} />
        ))}
      </ol>
      <div class="pager">
        <button type="button" disabled={busy || page.offset === 0} onClick={() => go(Math.max(0, page.offset - limit))}>
          Previous
        </button>
        <button type="button" disabled={busy || end >= page.total} onClick={() => go(end)}>
          Next
        </button>
      </div>
    </section>
  );
}

function GenerationItem({ item }: { item: GenerationView }) {
  return (
    <li class="generation">
      <p class="generation-head">
        <strong>{item.persona}</strong> · seed {item.seed} ·{" "}
        <span class={item.hasMarker ? "badge-marker" : "badge-none"}>
          {item.hasMarker ? "marker present" : "no marker"}
        </span>
      </p>
      <p class="question">{item.question}</p>
      <p class="generation-text">
        {item.segments.map((segment, i) =>
          segment.marker ? (
            <mark key={i} title="the marker">
              {segment.text}
            </mark>
          ) : (
            <span key={i}>{segment.text}</span>
          ),
        )}
      </p>
    </li>
  );
}
