// The sae package reads and writes dictionaries through @difflens/tensor's safetensors I/O; one import point here.
export { readSafetensors, SafetensorsError, writeSafetensors } from "@difflens/tensor";
