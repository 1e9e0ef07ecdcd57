// safetensors read/write come from @difflens/tensor. Its index.ts does not export them yet (a commented
// line there); until the lead uncomments it, import the module by path. Switch to "@difflens/tensor" then.
export { readSafetensors, writeSafetensors, SafetensorsError } from "../../tensor/src/safetensors/index.ts";
