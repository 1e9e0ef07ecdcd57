import type { Tensor } from "./tensor.ts";

/**
 * Activations in batches: an async iterable of f32 tensors [batch, dIn]. Declared here so the runtime
 * (harvest), the data package (activation stores) and the SAE trainer share it without importing each other.
 */
export interface ActivationSource extends AsyncIterable<Tensor> {
  /** Width of every batch. */
  readonly dIn: number;
}
