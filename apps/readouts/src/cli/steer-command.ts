import type { Command } from "@difflens/common";

// Placeholder: replaced by the steering command.
export const STEER_COMMAND: Command = {
  summary: "Generate under a condition with SAE-latent clamps or added directions active on every step.",
  flags: [],
  run: () => 1,
};
