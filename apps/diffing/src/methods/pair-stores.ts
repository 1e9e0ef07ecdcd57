/**
 * Two single-model activation stores (harvested separately, on the same windows in the same order) read as one
 * paired source. Refused before any read when their lengths, widths or hooks differ — naming both folders.
 */
import { ActivationStore } from "@difflens/data";
import { type PairedActivationSource, pairSources, SaeError } from "@difflens/sae";

export function pairActivationStores(baseDir: string, chatDir: string, batchSize: number): PairedActivationSource {
  const base = ActivationStore.open(baseDir);
  const chat = ActivationStore.open(chatDir);
  const [b, c] = [base.manifest, chat.manifest];
  if (b.dIn !== c.dIn)
    throw new SaeError(
      "D_IN_MISMATCH",
      `paired stores: ${baseDir} has dIn=${b.dIn} but ${chatDir} has dIn=${c.dIn}; both models' activations must have one width`,
      { expected: b.dIn, got: c.dIn, field: "dIn" },
    );
  if (b.tokenCount !== c.tokenCount)
    throw new SaeError(
      "SHAPE_MISMATCH",
      `paired stores: ${baseDir} holds ${b.tokenCount} rows but ${chatDir} holds ${c.tokenCount}; they must be the same tokens`,
      { expected: b.tokenCount, got: c.tokenCount, field: "tokenCount" },
    );
  if (b.hook !== c.hook)
    throw new SaeError(
      "CHECKPOINT_MISMATCH",
      `paired stores: ${baseDir} is at ${b.hook} but ${chatDir} at ${c.hook}; pair activations of one hook`,
      { expected: b.hook, got: c.hook, field: "hook" },
    );
  // In order, unshuffled: row r of one store is row r of the other.
  const read = { batchSize, bufferRows: 0, seed: 0 };
  return pairSources(base.source(read), chat.source(read), { base: baseDir, chat: chatDir });
}
