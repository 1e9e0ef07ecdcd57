import * as T from "@difflens/tensor";
import * as path from "node:path";
import { loadModel } from "./src/index.ts";
import { FIXTURES, ids2d, readExpected, relErr } from "./test/helpers.ts";
for (const be of ["js", "native"] as const) {
  T.useBackend(be);
  const name = "gqa-untied-f32";
  const model = await loadModel(path.join(FIXTURES, name));
  for (const seq of [1, 7, 64]) {
    const expected = await readExpected(`${name}/expected-seq${seq}.safetensors`);
    const names = Object.keys(expected).filter((k) => k !== "input_ids" && k !== "logits");
    console.log(be, seq); const r = model.runWithCache(ids2d(expected.input_ids!), { names }); console.log(relErr(r.logits!, expected.logits!));
  }
}
console.log("ok");
