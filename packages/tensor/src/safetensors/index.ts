export { SafetensorsError, type SafetensorsErrorCode, type SafetensorsErrorFacts } from "./errors.ts";
export type { SafetensorsDtype } from "./dtypes.ts";
export type { SafetensorsHeader, SafetensorsTensorInfo } from "./header.ts";
export { parseSafetensorsHeader, loadSafetensorsFromBytes } from "./parse-buffer.ts";
export {
  openSafetensors, openSafetensorsSync, readSafetensors, SafetensorsFile,
  type OpenSafetensorsOptions, type SafetensorsAccess,
} from "./file.ts";
export type { MapFile } from "./mmap.ts";
export { openCheckpoint, SafetensorsCheckpoint, type CheckpointTensorInfo } from "./checkpoint.ts";
export { writeSafetensors, serializeSafetensors, type TensorMap } from "./write.ts";
export { writeShardedCheckpoint, type ShardedWriteOptions, type ShardedWriteResult } from "./sharded-writer.ts";
