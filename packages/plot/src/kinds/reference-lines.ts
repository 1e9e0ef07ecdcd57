import { describeValue, PlotError } from "../errors.ts";
import { FONT_SIZES, THRESHOLD_COLOR } from "../theme.ts";
import { checkNumber, expectObject, join, optionalString, rejectUnknownKeys } from "../validate.ts";

/** A dashed reference line across the plot (a threshold, a chance level) with an optional label at its end. */
export interface ReferenceLine {
  value: number;
  label?: string;
}

/** Accepts `[0.7, { value: 0.9, label: "strict" }]`; a bare number is labelled with itself. */
export function resolveReferenceLines(value: unknown, path: string): ReferenceLine[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new PlotError("PLOT_INVALID_VALUE", "must be an array of numbers or { value, label }", {
      field: path,
      got: describeValue(value),
    });
  }
  return value.map((item, i) => {
    const itemPath = join(path, i);
    if (typeof item === "number") return { value: checkNumber(item, itemPath), label: String(item) };
    const obj = expectObject(item, itemPath);
    rejectUnknownKeys(obj, ["value", "label"], itemPath);
    const line: ReferenceLine = { value: checkNumber(obj["value"], join(itemPath, "value")) };
    const label = optionalString(obj, "label", itemPath);
    if (label !== undefined) line.label = label;
    return line;
  });
}

/**
 * Vega-lite layers drawing vertical (`axis: "x"`) or horizontal (`"y"`) reference lines with their labels.
 * Labels sit inside the plot at the top (vertical lines) or right end (horizontal lines).
 */
export function referenceLineLayers(lines: readonly ReferenceLine[], axis: "x" | "y", name: string): object[] {
  if (lines.length === 0) return [];
  const values = lines.map((l) => ({ value: l.value, label: l.label ?? "" }));
  const rule = {
    name,
    data: { values },
    mark: { type: "rule", strokeDash: [5, 4], color: THRESHOLD_COLOR, strokeWidth: 1.3, clip: true },
    encoding: { [axis]: { field: "value", type: "quantitative" } },
  };
  const text = {
    name: `${name}_labels`,
    data: { values: values.filter((v) => v.label !== "") },
    mark:
      axis === "x"
        ? {
            type: "text",
            align: "left",
            baseline: "top",
            dx: 4,
            y: 4,
            fontSize: FONT_SIZES.annotation,
            color: "#444444",
          }
        : {
            type: "text",
            align: "right",
            baseline: "bottom",
            dy: -3,
            x: { expr: "width - 4" },
            fontSize: FONT_SIZES.annotation,
            color: "#444444",
          },
    encoding: { [axis]: { field: "value", type: "quantitative" }, text: { field: "label", type: "nominal" } },
  };
  return [rule, text];
}
