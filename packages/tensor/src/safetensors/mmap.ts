import { nativeMmap, nativeMmapRange } from "../native-addon.ts";

/**
 * How the reader memory-maps a file. The native add-on provides the mapping (`nativeMmap`); this module names the
 * contract so the reader works, through positional reads, wherever the add-on is absent.
 *
 * Contract for a mapper: return an ArrayBuffer over the whole file that is unmapped only when the ArrayBuffer is
 * garbage-collected (so tensor views outlive `SafetensorsFile.close()`), or null when there is no mapper; throw when
 * this file cannot be mapped (the reader then falls back to positional reads and records why). The mapping should
 * be private copy-on-write (PROT_READ | PROT_WRITE, MAP_PRIVATE): tensors are ordinary typed arrays, and a caller
 * writing into one must neither fault on a read-only page nor change the file.
 */
export type MapFile = (path: string) => ArrayBuffer | null;

/** The add-on's mapper; loading the add-on happens on the first call, never at import. */
export function defaultMapFile(): MapFile {
  return nativeMmap;
}

/**
 * Maps one byte range of an open file (same contract as MapFile, per range): how files larger than one ArrayBuffer
 * (4 GiB in Node 20) are memory-mapped, one tensor at a time. Returns null when there is no mapper.
 */
export type MapRange = (fd: number, offset: number, length: number) => ArrayBuffer | null;

/** The add-on's range mapper; loading the add-on happens on the first call, never at import. */
export function defaultMapRange(): MapRange {
  return nativeMmapRange;
}
