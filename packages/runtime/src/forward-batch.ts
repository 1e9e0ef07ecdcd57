/** What every family's forward pass takes: a prepared call (batch.ts `prepareBatch`) and which logits to compute. */

/** A prepared call: ids, mask and position ids, each [batch·seq]. */
export interface ForwardBatch {
  readonly ids: Int32Array;
  readonly batch: number;
  readonly seq: number;
  readonly attentionMask: Uint8Array;
  readonly positionIds: Int32Array;
  /** Any padding in this call (then attention masks pad keys explicitly). */
  readonly padded: boolean;
}

/** "all": [batch, seq, vocab]; "last": [batch, 1, vocab] (the last position of each row); "none": stop after the blocks. */
export type LogitsMode = "all" | "last" | "none";
