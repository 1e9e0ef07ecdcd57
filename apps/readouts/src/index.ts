// readouts: readouts of a chat model (seed 000's SAE conditions, steering). The CLI is src/cli/main.ts.

export { COMMANDS, main } from "./cli/main.ts";
