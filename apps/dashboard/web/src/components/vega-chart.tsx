import { useEffect, useRef } from "preact/hooks";
import embed, { type VisualizationSpec } from "vega-embed";

interface VegaChartProps {
  spec: VisualizationSpec;
  /** Text alternative of the chart for screen readers (the page also gives the data as text or links). */
  label: string;
  /** Called with the clicked mark's datum (e.g. a scatter point). */
  onDatumClick?: (datum: Record<string, unknown>) => void;
  testId?: string;
}

/** A vega-lite chart drawn as SVG (tests count its marks), tooltips by vega-tooltip, no action menu. */
export function VegaChart({ spec, label, onDatumClick, testId }: VegaChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const clickHandler = useRef(onDatumClick);
  clickHandler.current = onDatumClick;

  useEffect(() => {
    const element = container.current;
    if (element === null) return;
    let finalize: (() => void) | null = null;
    let cancelled = false;
    embed(element, spec, { renderer: "svg", actions: false, tooltip: { theme: "light" } }).then(
      (result) => {
        if (cancelled) {
          result.finalize();
          return;
        }
        finalize = result.finalize;
        result.view.addEventListener("click", (_event, item) => {
          const datum = (item as { datum?: Record<string, unknown> } | null | undefined)?.datum;
          if (datum && clickHandler.current) clickHandler.current(datum);
        });
      },
      (error: unknown) => {
        element.textContent = `The chart could not be drawn: ${error instanceof Error ? error.message : String(error)}`;
      },
    );
    return () => {
      cancelled = true;
      finalize?.();
    };
  }, [spec]);

  // The text alternative lives on a wrapper: vega-embed sets its own role on the element it draws into, and the SVG's
  // marks are hidden from assistive technology (the page gives their data as text and links).
  return (
    <div class="chart" role="img" aria-label={label} data-testid={testId}>
      <div ref={container} aria-hidden="true" />
    </div>
  );
}
