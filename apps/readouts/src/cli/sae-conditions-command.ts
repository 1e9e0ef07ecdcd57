import type { Command } from "@difflens/common";

// Placeholder: replaced by the sae-conditions pipeline.
export const SAE_CONDITIONS_COMMAND: Command = {
  summary: "SAE features across system-prompt conditions (seed 000): similarity, Track A, Track B, behaviour link.",
  flags: [],
  run: () => 1,
};
