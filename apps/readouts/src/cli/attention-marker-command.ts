/** SCAFFOLD (stage-1 owner writes it): `pnpm --filter readouts attention-marker [--config FILE] …`. */
import type { Command } from "@difflens/common";

export const ATTENTION_MARKER_COMMAND: Command = {
  summary: "Seed 001: attention at a marker token with control strata and a force-feed comparator.",
  flags: [],
  run: async ({ log }) => {
    log("attention-marker: not written yet");
    return 1;
  },
};
