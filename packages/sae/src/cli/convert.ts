#!/usr/bin/env node
// pnpm difflens-convert SRC DST [--to sparsify|saelens|difflens] [--force]: convert an SAE folder (SAELens,
// sparsify, dictionary_learning ae.pt, ours) once into a sparsify (default), SAELens or difflens checkpoint folder.
import { type CliOptions, type Command, isMainModule, runCommand, UsageError } from "@difflens/common";
import { CONVERT_TARGETS, type ConvertTarget, convertSae } from "../formats/convert.ts";

const PROGRAM = "difflens-convert";

const CONVERT: Command = {
  summary: "Convert an SAE folder (SAELens, sparsify, dictionary_learning ae.pt) to sparsify, SAELens or difflens.",
  positionals: [
    { name: "src", help: "the SAE folder to read (format detected)" },
    { name: "dst", help: "the folder to write (absent or empty unless --force; never inside SRC)" },
  ],
  flags: [
    { name: "to", kind: "string", value: "FORMAT", help: "sparsify (default) | saelens | difflens" },
    { name: "force", kind: "boolean", help: "replace an existing DST (the new folder is swapped in whole)" },
  ],
  notes: [
    "difflens writes our checkpoint layout (cfg.json with a difflens block + sae.safetensors): a finetune can start",
    "from it (optimizer reset); its lineage records the source's format, path and weights sha256.",
    "Prints what was read and written as JSON. Exit status: 0 converted, 1 a run error, 2 bad usage (an occupied",
    "DST without --force, or DST overlapping SRC, included).",
  ],
  run: async ({ flags, positionals }) => {
    const to = (flags["to"] as string | undefined) ?? "sparsify";
    if (!(CONVERT_TARGETS as readonly string[]).includes(to)) {
      throw new UsageError("USAGE", `${PROGRAM}: --to must be ${CONVERT_TARGETS.join(", ")}; got "${to}"`, {
        field: "--to",
        got: to,
        expected: [...CONVERT_TARGETS],
      });
    }
    const [src, dst] = [positionals["src"] as string, positionals["dst"] as string];
    const force = flags["force"] === true;
    console.log(JSON.stringify(await convertSae(src, dst, to as ConvertTarget, { force })));
    return 0;
  },
};

/** Runs the CLI on `argv` (without the program name); resolves to the exit status. */
export async function main(argv: readonly string[], io: Pick<CliOptions, "out" | "log"> = {}): Promise<number> {
  return runCommand(CONVERT, { program: PROGRAM, argv, usageCodes: ["OUTPUT_EXISTS", "OUTPUT_OVERLAPS_INPUT"], ...io });
}

if (isMainModule(import.meta.url)) main(process.argv.slice(2)).then((code) => process.exit(code));
