import { SafetensorsFile } from "./file.ts";
import { LENGTH_PREFIX_BYTES, parseHeader, readHeaderLength, type SafetensorsHeader } from "./header.ts";

/** Validates a whole safetensors file held in memory and returns its header. */
export function parseSafetensorsHeader(fileBytes: Uint8Array, file = "<memory>"): SafetensorsHeader {
  const headerLength = readHeaderLength(fileBytes.subarray(0, LENGTH_PREFIX_BYTES), fileBytes.length, file);
  return parseHeader(
    fileBytes.subarray(LENGTH_PREFIX_BYTES, LENGTH_PREFIX_BYTES + headerLength),
    fileBytes.length,
    file,
  );
}

/**
 * A SafetensorsFile over bytes already in memory (a download, an archive member): tensors are views of those bytes
 * where aligned. The bytes are copied once when they do not start at offset 0 of their ArrayBuffer, so that file
 * offsets and buffer offsets agree for alignment.
 */
export function loadSafetensorsFromBytes(fileBytes: Uint8Array, file = "<memory>"): SafetensorsFile {
  const header = parseSafetensorsHeader(fileBytes, file);
  const own =
    fileBytes.byteOffset === 0 &&
    fileBytes.byteLength === fileBytes.buffer.byteLength &&
    fileBytes.buffer instanceof ArrayBuffer
      ? fileBytes.buffer
      : fileBytes.slice().buffer;
  return new SafetensorsFile(file, header, { fd: null, bytes: own, access: "memory" });
}
