import type { RefObject } from "preact";
import { useEffect, useState } from "preact/hooks";

/**
 * The element's content width in `step`-pixel steps (null until measured), kept current by a ResizeObserver: specs
 * that wrap titles to the chart's width are rebuilt when a window resize or a phone's rotation changes it, and
 * rounding keeps a one-pixel jitter from redrawing the chart.
 */
export function useWidth(ref: RefObject<HTMLElement | null>, step = 20): number | null {
  const [width, setWidth] = useState<number | null>(null);
  useEffect(() => {
    const element = ref.current;
    if (element === null) return;
    const measure = () => setWidth(Math.max(step, Math.floor(element.clientWidth / step) * step));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref, step]);
  return width;
}
