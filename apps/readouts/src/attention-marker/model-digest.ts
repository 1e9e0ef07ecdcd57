/**
 * A model's identity for stage fingerprints: the sha256 of app-kit's model fingerprint (config, weights, tokenizer
 * and adapter bytes; files in a Hub cache by their blob names, others hashed once per process).
 */
import { fingerprintDigest, type ModelRef, modelFingerprint } from "@difflens/app-kit";

export function modelDigest(ref: ModelRef): string {
  return fingerprintDigest(modelFingerprint(ref));
}
