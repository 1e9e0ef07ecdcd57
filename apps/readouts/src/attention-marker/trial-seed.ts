/**
 * The per-trial sampling seed of stage 1: a stable, documented hash of (run seed, trial, question), the same on every
 * machine and in every process (the seed's `hash(question) % 1000` was Python's process-salted string hash).
 *
 * trialSeed = FNV-1a 32-bit over the UTF-8 bytes of `${runSeed}\u0000${trial}\u0000${question}`:
 * h = 0x811c9dc5; for each byte b: h = (h XOR b) · 0x01000193 mod 2³². The result is an unsigned 32-bit integer.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a 32-bit of a byte string (unsigned). */
export function fnv1a32(bytes: Uint8Array): number {
  let h = FNV_OFFSET_BASIS;
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME);
  return h >>> 0;
}

const utf8 = new TextEncoder();

export function trialSeed(runSeed: number, trial: number, question: string): number {
  return fnv1a32(utf8.encode(`${runSeed}\u0000${trial}\u0000${question}`));
}
