import { useEffect, useMemo, useRef } from "preact/hooks";
import embed, { type VisualizationSpec } from "vega-embed";
import { useWidth } from "./use-width.ts";

/** A spec, or one built for the chart's measured width (titles wrapped to it); memoize the builder. */
export type ChartSpec = VisualizationSpec | ((chartWidth: number) => VisualizationSpec);

interface VegaChartProps {
  spec: ChartSpec;
  /** Text alternative of the chart for screen readers (the page also gives the data as text or links). */
  label: string;
  /** Called with the clicked mark's datum (e.g. a scatter point). */
  onDatumClick?: (datum: Record<string, unknown>) => void;
  testId?: string;
  /**
   * Keep the chart's own size and scroll sideways inside its card when it is wider (heatmaps: shrinking them would
   * shrink their cell text); the wrapper is then focusable, so the scrolling works from the keyboard too.
   */
  scroll?: boolean;
}

/** A vega-lite chart drawn as SVG (tests count its marks), tooltips by vega-tooltip, no action menu. */
export function VegaChart({ spec: specOrBuilder, label, onDatumClick, testId, scroll }: VegaChartProps) {
  const wrapper = useRef<HTMLDivElement>(null);
  const container = useRef<HTMLDivElement>(null);
  const width = useWidth(wrapper);
  const spec = useMemo(
    () => (typeof specOrBuilder === "function" ? (width === null ? null : specOrBuilder(width)) : specOrBuilder),
    [specOrBuilder, width],
  );
  const clickHandler = useRef(onDatumClick);
  clickHandler.current = onDatumClick;

  useEffect(() => {
    const element = container.current;
    if (element === null || spec === null) return;
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
    <div
      ref={wrapper}
      class={scroll ? "chart scroll-x" : "chart"}
      role="img"
      aria-label={label}
      data-testid={testId}
      tabIndex={scroll ? 0 : undefined}
    >
      <div ref={container} aria-hidden="true" />
    </div>
  );
}
