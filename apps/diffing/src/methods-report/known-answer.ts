/**
 * The toy's known answer on the page: per method, the best |cos| of its headline directions to each plant, checked
 * where issue 21 asserts something (three-plant: the BatchTopK crosscoder and the diff-SAE find u and v, the ADL finds
 * u; control: every method finds w and nothing with |cos| > 0.5 to u). Unasserted pairs are shown without a verdict.
 */
import { cosine } from "../compare/leading-direction.ts";
import type { HeadlineDirection, MethodKey } from "./run-folder.ts";

/** |cos| at or above which a plant counts as found. */
export const FOUND_MIN = 0.9;
/** |cos| a plant that must not be found stays at or below. */
export const ABSENT_MAX = 0.5;

export type Expectation = "found" | "absent" | null;

/** directions.json's `method` (a folder name or a methods.json key) → the method key. */
export function methodKeyOf(method: string): MethodKey | null {
  const m = method.toLowerCase().replace(/[^a-z0-9]/g, "");
  const keys: Record<string, MethodKey> = {
    stagewise: "stagewise",
    crosscoderbatchtopk: "crosscoderBatchTopK",
    crosscoderl1: "crosscoderL1",
    diffsae: "diffSae",
    adl: "adl",
  };
  return keys[m] ?? null;
}

/** What issue 21 asserts for `plant` among `method`'s headline directions on a toy `variant` (null: nothing). */
export function expectation(variant: string, method: MethodKey | null, plant: string): Expectation {
  if (variant === "control") return plant === "u" ? "absent" : "found";
  if (variant !== "three-plant") return null;
  if (method === "crosscoderBatchTopK" || method === "diffSae") return plant === "u" || plant === "v" ? "found" : null;
  if (method === "adl") return plant === "u" ? "found" : null;
  return null;
}

export function verdict(expect: Expectation, absCos: number | null): boolean | null {
  if (expect === null) return null;
  const c = absCos ?? 0;
  return expect === "found" ? c >= FOUND_MIN : c <= ABSENT_MAX;
}

export interface PlantMatch {
  readonly plant: string;
  /** Best |cos| over the method's headline directions (null: it has none). */
  readonly bestAbsCos: number | null;
  /** The headline direction that achieves it. */
  readonly direction: string | null;
  readonly expect: Expectation;
  /** null where nothing is asserted. */
  readonly pass: boolean | null;
}

export interface MethodPlantRow {
  readonly method: string;
  readonly methodKey: MethodKey | null;
  readonly directions: number;
  readonly plants: PlantMatch[];
}

/** One row per method that has headline directions, in the order they are listed. */
export function plantTable(
  variant: string,
  plants: ReadonlyMap<string, Float32Array>,
  directions: readonly HeadlineDirection[],
): MethodPlantRow[] {
  const methods = [...new Set(directions.map((d) => d.method))];
  return methods.map((method) => {
    const own = directions.filter((d) => d.method === method);
    const key = methodKeyOf(method);
    return {
      method,
      methodKey: key,
      directions: own.length,
      plants: [...plants].map(([plant, p]) => {
        const best = bestMatch(p, own);
        const expect = expectation(variant, key, plant);
        return { plant, ...best, expect, pass: verdict(expect, best.bestAbsCos) };
      }),
    };
  });
}

function bestMatch(
  plant: Float32Array,
  own: readonly HeadlineDirection[],
): { bestAbsCos: number | null; direction: string | null } {
  let bestAbsCos: number | null = null,
    direction: string | null = null;
  for (const d of own) {
    const c = Math.abs(cosine(plant, d.vector));
    if (Number.isFinite(c) && (bestAbsCos === null || c > bestAbsCos)) {
      bestAbsCos = c;
      direction = d.name;
    }
  }
  return { bestAbsCos, direction };
}

/** |cos| of row i of `directions` [rows, d] to each plant, by plant name. */
export function plantCosines(
  plants: ReadonlyMap<string, Float32Array>,
  directions: Float32Array,
  rows: number,
): Record<string, number>[] {
  const d = directions.length / Math.max(1, rows);
  return Array.from({ length: rows }, (_, i) => {
    const v = directions.subarray(i * d, (i + 1) * d);
    return Object.fromEntries([...plants].map(([name, p]) => [name, Math.abs(cosine(p, v))]));
  });
}
