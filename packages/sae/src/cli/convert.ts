// pnpm difflens-convert SRC DST [--to sparsify|saelens]: convert an SAE folder (SAELens, sparsify,
// dictionary_learning ae.pt) once into a sparsify (default) or SAELens folder.
import { type CliOptions, type Command, isMainModule, runCommand, UsageError } from "@difflens/common";
import { convertSae } from "../formats/convert.ts";

const TARGETS = ["sparsify", "saelens"] as const;

const CONVERT: Command = {
  summary: "Convert an SAE folder (SAELens, sparsify, dictionary_learning ae.pt) into a sparsify or SAELens folder.",
  positionals: [
    { name: "src", help: "the SAE folder to read (format detected)" },
    { name: "dst", help: "the folder to write" },
  ],
  flags: [{ name: "to", kind: "string", value: "FORMAT", help: "sparsify (default) | saelens" }],
  notes: ["Prints what was read and written as JSON. Exit status: 0 converted, 1 a run error, 2 bad usage."],
  run: async ({ flags, positionals }) => {
    const to = (flags["to"] as string | undefined) ?? "sparsify";
    if (!(TARGETS as readonly string[]).includes(to)) {
      throw new UsageError("USAGE", `difflens-convert: --to must be sparsify or saelens, got "${to}"`, {
        field: "--to",
        got: to,
        expected: [...TARGETS],
      });
    }
    const [src, dst] = [positionals["src"] as string, positionals["dst"] as string];
    console.log(JSON.stringify(await convertSae(src, dst, to as (typeof TARGETS)[number])));
    return 0;
  },
};

/** Runs the CLI on `argv` (without the program name); resolves to the exit status. */
export async function main(argv: readonly string[], io: Pick<CliOptions, "out" | "log"> = {}): Promise<number> {
  return runCommand(CONVERT, { program: "difflens-convert", argv, ...io });
}

if (isMainModule(import.meta.url)) main(process.argv.slice(2)).then((code) => process.exit(code));
