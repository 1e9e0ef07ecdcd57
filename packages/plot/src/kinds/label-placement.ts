import { measureTextWidth } from "../font.ts";

/** A label to place next to a point, in plot-area pixels (origin top-left). */
export interface LabelRequest {
  px: number;
  py: number;
  text: string;
}

/** Where a label went: its left-centre anchor, and whether a leader line back to the point is needed. */
export interface PlacedLabel {
  /** Left edge of the text, px. */
  lx: number;
  /** Vertical centre of the text, px. */
  ly: number;
  leader: boolean;
  /** Where a leader line from the point meets the label's box, px. */
  endX: number;
  endY: number;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const POINT_CLEARANCE = 4;

/**
 * Greedy label placement: for each label in turn, try positions around its point at growing distances
 * (right, left, above, below, then diagonals) and keep the first whose box stays inside the plot and overlaps no
 * placed label and no labelled point; when every candidate collides, keep the least-overlapping one.
 * Written here because vega's own label transform needs a canvas to rasterise the marks it avoids, which headless
 * rendering does not have. Deterministic: same inputs, same placement.
 */
export function placeLabels(
  requests: readonly LabelRequest[],
  width: number,
  height: number,
  fontSize: number,
): PlacedLabel[] {
  const textHeight = fontSize * 1.2;
  const obstacles: Box[] = requests.map((r) => ({
    x0: r.px - POINT_CLEARANCE,
    y0: r.py - POINT_CLEARANCE,
    x1: r.px + POINT_CLEARANCE,
    y1: r.py + POINT_CLEARANCE,
  }));
  const placedBoxes: Box[] = [];
  return requests.map((request) => {
    const w = measureTextWidth(request.text, fontSize);
    let best: { box: Box; cost: number; leader: boolean } | undefined;
    for (const distance of [6, 14, 26, 40, 56, 76]) {
      for (const [dx, dy] of directions(distance, w, textHeight)) {
        const x0 = request.px + dx;
        const yc = request.py + dy;
        const box = { x0, y0: yc - textHeight / 2, x1: x0 + w, y1: yc + textHeight / 2 };
        const outside =
          Math.max(0, -box.x0) + Math.max(0, box.x1 - width) + Math.max(0, -box.y0) + Math.max(0, box.y1 - height);
        let cost = outside * 10 + distance * 0.01;
        for (const other of placedBoxes) cost += overlap(box, other);
        for (const point of obstacles) cost += overlap(box, point);
        if (!best || cost < best.cost) best = { box, cost, leader: distance > 6 };
      }
      if (best && best.cost < 1) break;
    }
    const box = best!.box;
    placedBoxes.push(box);
    const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
    return {
      lx: box.x0,
      ly: (box.y0 + box.y1) / 2,
      leader: best!.leader,
      endX: clamp(request.px, box.x0 - 1, box.x1 + 1),
      endY: clamp(request.py, box.y0, box.y1),
    };
  });
}

/** Offsets (left edge, vertical centre) of candidate boxes around a point, nearest-looking first. */
function directions(d: number, w: number, h: number): [number, number][] {
  return [
    [d, 0],
    [-d - w, 0],
    [-w / 2, -d - h / 2],
    [-w / 2, d + h / 2],
    [d * 0.7, -d * 0.7 - h / 2],
    [-d * 0.7 - w, -d * 0.7 - h / 2],
    [d * 0.7, d * 0.7 + h / 2],
    [-d * 0.7 - w, d * 0.7 + h / 2],
  ];
}

function overlap(a: Box, b: Box): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0;
}
