export { type CheckpointTensorInfo, openCheckpoint, SafetensorsCheckpoint } from "./checkpoint.ts";
export type { SafetensorsDtype } from "./dtypes.ts";
export { SafetensorsError, type SafetensorsErrorCode, type SafetensorsErrorFacts } from "./errors.ts";
export {
  type OpenSafetensorsOptions,
  openSafetensors,
  openSafetensorsSync,
  readSafetensors,
  type SafetensorsAccess,
  SafetensorsFile,
} from "./file.ts";
export type { SafetensorsHeader, SafetensorsTensorInfo } from "./header.ts";
export type { MapFile } from "./mmap.ts";
export { loadSafetensorsFromBytes, parseSafetensorsHeader } from "./parse-buffer.ts";
export { type ShardedWriteOptions, type ShardedWriteResult, writeShardedCheckpoint } from "./sharded-writer.ts";
export { serializeSafetensors, type TensorMap, writeSafetensors } from "./write.ts";
