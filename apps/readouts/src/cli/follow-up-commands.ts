/** SCAFFOLD (follow-ups owner writes it): logit-lens, dla, patch, ablate-mlp over an attention-marker run's positives. */
import type { Command } from "@difflens/common";

const notYet = (name: string): Command => ({
  summary: `${name} over an attention-marker run's saved positives`,
  flags: [],
  run: async ({ log }) => {
    log(`${name}: not written yet`);
    return 1;
  },
});

export const FOLLOW_UP_COMMANDS: Readonly<Record<string, Command>> = {
  "logit-lens": notYet("logit-lens"),
  dla: notYet("dla"),
  patch: notYet("patch"),
  "ablate-mlp": notYet("ablate-mlp"),
};
