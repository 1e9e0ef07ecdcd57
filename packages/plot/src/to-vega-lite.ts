import type { TopLevelSpec } from "vega-lite";
import type { Figure } from "./figure.ts";
import { barsToVegaLite } from "./kinds/bars.ts";
import { heatmapToVegaLite } from "./kinds/heatmap.ts";
import { histogramToVegaLite } from "./kinds/histogram.ts";
import { linesToVegaLite } from "./kinds/lines.ts";
import { scatterToVegaLite } from "./kinds/scatter.ts";
import { baseConfig } from "./theme.ts";

/**
 * The vega-lite specification of a resolved figure, theme and titles included. Public so a caller can adjust a
 * figure beyond this package's options and render it with vega directly.
 */
export function toVegaLite(fig: Figure): TopLevelSpec {
  let spec: TopLevelSpec;
  switch (fig.kind) {
    case "heatmap":
      spec = heatmapToVegaLite(fig);
      break;
    case "lines":
      spec = linesToVegaLite(fig);
      break;
    case "scatter":
      spec = scatterToVegaLite(fig);
      break;
    case "bars":
      spec = barsToVegaLite(fig);
      break;
    case "histogram":
      spec = histogramToVegaLite(fig);
      break;
  }
  const title =
    fig.title || fig.subtitle
      ? { title: { text: fig.title ?? "", ...(fig.subtitle ? { subtitle: fig.subtitle } : {}) } }
      : {};
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...title,
    ...spec,
    config: baseConfig(),
  } as TopLevelSpec;
}
