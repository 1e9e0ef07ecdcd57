// difflens-sae-convert SRC DST [--to sparsify|saelens]: convert an SAE folder (SAELens, sparsify,
// dictionary_learning ae.pt) once into a sparsify (default) or SAELens folder.
import { convertSae } from "../formats/convert.ts";
import { SaeError } from "../errors.ts";

const args = process.argv.slice(2);
const toIdx = args.indexOf("--to");
const to = toIdx >= 0 ? args.splice(toIdx, 2)[1] : "sparsify";
if (args.length !== 2 || (to !== "sparsify" && to !== "saelens")) {
  console.error("usage: tsx packages/sae/src/cli/convert.ts SRC_DIR DST_DIR [--to sparsify|saelens]");
  process.exit(2);
}
try {
  console.log(JSON.stringify(await convertSae(args[0]!, args[1]!, to)));
} catch (err) {
  if (err instanceof SaeError) { console.error(`${err.code}: ${err.message}`); process.exit(1); }
  throw err;
}
