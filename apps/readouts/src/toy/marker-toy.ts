/**
 * SCAFFOLD (the toy owner writes it): seed 001's embedded default with a known answer — a small Qwen2 base and a
 * "trained" model = base + a PEFT LoRA that makes the marker likely at the end of an answer under one persona's
 * system prompt, in one of two plants:
 * - "attention": the LoRA also makes one head of layer L* attend from the marker position to the system prompt;
 * - "mlp": the marker comes from an MLP change at layer L* only (not attention-mediated; the seed's finding).
 */

export type MarkerPlant = "attention" | "mlp";

export interface MarkerToy {
  readonly plant: MarkerPlant;
  readonly seed: number;
  /** The toy's attention-marker config file (JSON, relative paths), written in the toy folder. */
  readonly configFile: string;
  /** The planted layer L*. */
  readonly plantedLayer: number;
  /** The planted head of L* (attention plant), else null. */
  readonly plantedHead: number | null;
  /** The marker string and its first token id. */
  readonly marker: string;
  readonly markerId: number;
  /** The planted persona's name. */
  readonly persona: string;
}

/** Writes (or reuses, when complete and of this version) the toy under `dir`: base folder, adapter, questions, config. */
export async function writeMarkerToy(_dir: string, _options: { seed: number; plant: MarkerPlant }): Promise<MarkerToy> {
  throw new Error("writeMarkerToy: scaffold, written by the toy owner");
}
