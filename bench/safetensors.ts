// pnpm bench:safetensors — open a ≥ 1 GB safetensors file and read one tensor; full-read throughput from the page
// cache. Peer: numpy (/usr/bin/python3) parsing the same header and reading the same bytes, alternating with ours.
// Targets (issue 2): open < 50 ms with mmap; full read ≥ 1 GB/s. Last line: safetensors_open_ms=<median ms>.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { openSafetensors, type SafetensorsFile, Tensor, writeSafetensors } from "@difflens/tensor";

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const CACHE = path.join(ROOT, ".cache");
const FILE = path.join(CACHE, "bench-1g.safetensors");
const ROUNDS = 5;
const OPEN_ROUNDS = 9;
const LAYERS = 8;
const ROWS = 4096,
  COLS = 8192; // [rows, cols] f32 = 128 MiB per layer
const PAGE = 4096;

async function ensureFile(): Promise<void> {
  if (fs.existsSync(FILE)) return;
  fs.mkdirSync(CACHE, { recursive: true });
  console.log(`creating ${FILE} (once; cached) ...`);
  const started = performance.now();
  const weights = new Float32Array(ROWS * COLS);
  for (let i = 0; i < weights.length; i++) weights[i] = ((i % 1000) - 500) * 1e-3;
  const embed = new Uint16Array(32768 * 1024).fill(0x3f80); // bf16 1.0, 64 MiB
  const tensors: Record<string, Tensor> = { "model.embed_tokens.weight": new Tensor("bf16", [32768, 1024], embed) };
  for (let l = 0; l < LAYERS; l++) {
    // The same buffer under several names: the writer only copies bytes, so 128 MiB of memory makes 1 GiB of file.
    tensors[`model.layers.${l}.mlp.up_proj.weight`] = new Tensor("f32", [ROWS, COLS], weights);
    tensors[`model.layers.${l}.input_layernorm.weight`] = new Tensor("f32", [COLS], weights.subarray(0, COLS));
  }
  await writeSafetensors(FILE, tensors, { format: "pt", purpose: "difflens bench" });
  console.log(`created in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Full read of every tensor. "copy": into memory of our own (pread's `getBytes` already copies; from a mapping each
 * view is copied out). "scan": every 32-bit word is loaded through the mapping (no allocation): the page cache →
 * CPU rate. "touch": one byte per 4 KiB page, i.e. only faulting the mapping in.
 */
function readAll(file: SafetensorsFile, mode: "copy" | "scan" | "touch"): { bytes: number; checksum: number } {
  let bytes = 0;
  let checksum = 0;
  for (const name of file.keys()) {
    let raw = file.getBytes(name);
    if (mode === "copy" && file.access === "mmap") raw = raw.slice();
    if (mode === "scan" && raw.byteOffset % 4 === 0) {
      const words = new Int32Array(raw.buffer, raw.byteOffset, raw.length >> 2);
      let x = 0;
      for (let i = 0; i < words.length; i++) x ^= words[i]!;
      checksum += x;
    } else {
      for (let i = 0; i < raw.length; i += PAGE) checksum += raw[i]!;
    }
    bytes += raw.length;
  }
  return { bytes, checksum };
}

const PY_PEER = String.raw`
import json, struct, sys, time
import numpy as np
path = sys.argv[1]
t0 = time.perf_counter()
f = open(path, "rb")
n = struct.unpack("<Q", f.read(8))[0]
header = json.loads(f.read(n))
mm = np.memmap(path, dtype=np.uint8, mode="r")
t1 = time.perf_counter()
total = 0
sizes = {"F32": 4, "BF16": 2}
start = 8 + n
t2 = time.perf_counter()
for name, info in header.items():
    if name == "__metadata__":
        continue
    b, e = info["data_offsets"]
    f.seek(start + b)
    a = np.empty(e - b, dtype=np.uint8)
    f.readinto(a)
    total += e - b
t3 = time.perf_counter()
for name, info in header.items():
    if name == "__metadata__":
        continue
    b, e = info["data_offsets"]
    a = np.array(mm[start + b:start + e])
t4 = time.perf_counter()
print(json.dumps({"open_ms": (t1 - t0) * 1e3, "read_s": t3 - t2, "memmap_copy_s": t4 - t3, "bytes": total, "numpy": np.__version__}))
`;

interface PeerResult {
  open_ms: number;
  read_s: number;
  memmap_copy_s: number;
  bytes: number;
  numpy: string;
}

function runPeer(): PeerResult | null {
  const r = spawnSync("/usr/bin/python3", ["-c", PY_PEER, FILE], { encoding: "utf8" });
  if (r.status !== 0) {
    console.log(`numpy peer unavailable: ${(r.stderr || r.error?.message || "").trim().split("\n").pop()}`);
    return null;
  }
  return JSON.parse(r.stdout.trim()) as PeerResult;
}

async function main(): Promise<void> {
  await ensureFile();
  const size = fs.statSync(FILE).size;
  console.log(
    `file: ${FILE} (${(size / 1e9).toFixed(3)} GB), ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );

  const firstStart = performance.now();
  const probe = await openSafetensors(FILE);
  const firstOpenMs = performance.now() - firstStart;
  const mmapPath = probe.access === "mmap";
  console.log(
    `path: ${probe.access}${mmapPath ? " (native add-on mmap)" : ` — mmap unavailable: ${probe.mmapUnavailableReason}`}`,
  );
  console.log(
    `first open in this process (includes loading the add-on): ${firstOpenMs.toFixed(2)} ms; later opens also pay V8 garbage collections triggered by each mapping's 1.1 GB of declared external memory`,
  );
  probe.close();
  readAll(await openSafetensors(FILE, { mmap: false }), "touch"); // warm the page cache

  const one = "model.layers.3.mlp.up_proj.weight";
  const results = {
    mmapOpen: [] as number[],
    mmapGet: [] as number[],
    mmapRead: [] as number[],
    mmapTouch: [] as number[],
    mmapScan: [] as number[],
    preadOpen: [] as number[],
    preadGet: [] as number[],
    preadRead: [] as number[],
    pyOpen: [] as number[],
    pyRead: [] as number[],
    pyMemmapCopy: [] as number[],
  };
  let peerVersion = "";
  // Phase 1: open + read one tensor, alternating ours (mmap, pread) with the peer; nothing big is allocated here, so
  // garbage collection of phase 2's buffers cannot land inside an open.
  for (let round = 0; round < OPEN_ROUNDS; round++) {
    for (const mmap of mmapPath ? [true, false] : [false]) {
      let t = performance.now();
      const file = await openSafetensors(FILE, { mmap });
      const openMs = performance.now() - t;
      t = performance.now();
      const data = file.get(one).data as Float32Array;
      let s = 0;
      for (let i = 0; i < data.length; i += PAGE / 4) s += data[i]!;
      const getMs = performance.now() - t;
      file.close();
      if (!Number.isFinite(s)) throw new Error("bad checksum");
      (mmap ? results.mmapOpen : results.preadOpen).push(openMs);
      (mmap ? results.mmapGet : results.preadGet).push(getMs);
    }
    const peer = runPeer();
    if (peer !== null) {
      results.pyOpen.push(peer.open_ms);
      results.pyRead.push(peer.bytes / peer.read_s / 1e9);
      results.pyMemmapCopy.push(peer.bytes / peer.memmap_copy_s / 1e9);
      peerVersion = peer.numpy;
    }
  }
  // Phase 2: full-read throughput from the page cache.
  for (let round = 0; round < ROUNDS; round++) {
    for (const mmap of mmapPath ? [true, false] : [false]) {
      const file = await openSafetensors(FILE, { mmap });
      let t = performance.now();
      const { bytes } = readAll(file, "copy");
      (mmap ? results.mmapRead : results.preadRead).push(bytes / ((performance.now() - t) / 1000) / 1e9);
      if (mmap) {
        for (const mode of ["touch", "scan"] as const) {
          t = performance.now();
          readAll(file, mode);
          (mode === "touch" ? results.mmapTouch : results.mmapScan).push(
            bytes / ((performance.now() - t) / 1000) / 1e9,
          );
        }
      }
      file.close();
    }
  }
  const fmt = (xs: number[], unit: string, digits = 2): string =>
    `${median(xs).toFixed(digits)} ${unit} (min ${Math.min(...xs).toFixed(digits)}, max ${Math.max(...xs).toFixed(digits)})`;
  if (mmapPath) {
    console.log(
      `ours mmap : open ${fmt(results.mmapOpen, "ms")}; get one 128 MiB tensor + touch its pages ${fmt(results.mmapGet, "ms")}; full read through the mapping (every word) ${fmt(results.mmapScan, "GB/s")}; copy out into fresh buffers ${fmt(results.mmapRead, "GB/s")}; page-in only (one byte per page) ${fmt(results.mmapTouch, "GB/s", 0)}`,
    );
  }
  console.log(
    `ours pread: open ${fmt(results.preadOpen, "ms")}; get one 128 MiB tensor ${fmt(results.preadGet, "ms")}; full read (into fresh buffers) ${fmt(results.preadRead, "GB/s")}`,
  );
  console.log(
    "note: fresh buffers pay first-touch page faults (4 KiB pages; numpy asks for transparent huge pages, V8 does not)",
  );
  if (results.pyOpen.length > 0) {
    console.log(
      `numpy ${peerVersion}: open (json + memmap) ${fmt(results.pyOpen, "ms")}; full read: readinto ${fmt(results.pyRead, "GB/s")}, memmap copy ${fmt(results.pyMemmapCopy, "GB/s")}`,
    );
    const oursOpen = mmapPath ? results.mmapOpen : results.preadOpen;
    if (mmapPath)
      console.log(
        `mmap_copy_throughput_ratio_vs_numpy_memmap=${(median(results.mmapRead) / median(results.pyMemmapCopy)).toFixed(2)} (higher is better)`,
      );
    console.log(
      `pread_throughput_ratio_vs_numpy_readinto=${(median(results.preadRead) / median(results.pyRead)).toFixed(2)} (higher is better)`,
    );
    console.log(`open_time_ratio_vs_numpy=${(median(oursOpen) / median(results.pyOpen)).toFixed(2)} (lower is better)`);
  }
  const openMs = median(mmapPath ? results.mmapOpen : results.preadOpen);
  const fullRead = median(mmapPath ? results.mmapScan : results.preadRead);
  console.log(`full_read_gbps=${fullRead.toFixed(2)} (${mmapPath ? "mmap, every word" : "pread"})`);
  console.log(
    `targets: open < 50 ms with mmap: ${mmapPath ? (openMs < 50 ? "met" : "MISSED") : "n/a (no mmap)"}; full read >= 1 GB/s: ${fullRead >= 1 ? "met" : "MISSED"}`,
  );
  console.log(`safetensors_open_ms=${openMs.toFixed(2)}`);
}

await main();
