/** The α-sweep line figure: KL to the reference and next-token KL against α (PNG + PDF + SVG + data). */
import { lines, saveFigure } from "@difflens/plot";
import type { SettingSummary } from "./run-steer.ts";

export async function writeSweepFigure(
  base: string,
  data: { base: SettingSummary; settings: readonly SettingSummary[]; swept: boolean },
): Promise<string[]> {
  const x = data.settings.map((s) => s.alpha ?? 0);
  const series = [];
  if (data.base.klToReference !== null) {
    series.push({ name: "KL(reference ‖ steered)", y: data.settings.map((s) => s.klToReference ?? Number.NaN) });
    series.push({ name: "KL(reference ‖ unsteered)", y: x.map(() => data.base.klToReference!), dashed: true });
  }
  series.push({ name: "next-token KL(steered ‖ unsteered)", y: data.settings.map((s) => s.nextTokenKl) });
  const figure = lines({
    title: "Steering: KL against α",
    subtitle: "means over prompts; KL to the reference over the force-fed text from the first steered position",
    x,
    series,
    xTitle: data.swept ? "α (the swept intervention)" : "clamp value / α",
    yTitle: "KL (nats)",
  });
  const written = await saveFigure(figure, base);
  return written.filter((f) => f.endsWith(".png"));
}
