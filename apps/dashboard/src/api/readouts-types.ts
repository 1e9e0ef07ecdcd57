import type { ErrorPanel, FigureData } from "./run-types.ts";

/** A table the page shows as is: header and rows of cells; a cell may link to a feature page. */
export interface TableData {
  title: string;
  columns: string[];
  rows: (string | number | { text: string; href: string })[][];
}

/** One generation, its text split into segments so the page can highlight the marker (and say so in text). */
export interface GenerationView {
  persona: string;
  question: string;
  seed: number | string;
  segments: { text: string; marker: boolean }[];
  hasMarker: boolean;
}

/** Any readouts run page: sae-conditions, attention-marker, steer, follow-ups. */
export interface ReadoutsRunResponse {
  run: string;
  kind: string;
  name: string;
  /** Headline lines (verdicts, warnings) in order. */
  summary: string[];
  figures: FigureData[];
  tables: TableData[];
  /** attention-marker: generations (paged: `offset`, `total`). */
  generations: { items: GenerationView[]; offset: number; total: number } | null;
  errors: ErrorPanel[];
}
