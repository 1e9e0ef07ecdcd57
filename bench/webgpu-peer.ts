/**
 * The PyTorch side of `bench:webgpu --peer torch`: one run of tools/reference/webgpu/torch_peers.py with a job file
 * (the GEMM shapes, the SAE step shape, the model folder and token ids of the forward), answering one JSON line.
 * Python: DIFFLENS_PYTHON, else /usr/bin/python3 (Debian's, with torch; on the GPU machine `python3` has torch and
 * transformers — tools/gpu/run-on-gpu.sh sets it). The peer script: DIFFLENS_TORCH_PEERS, else found from here.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface PeerJob {
  readonly gemm?: readonly (readonly [number, number, number])[];
  readonly sae?: { d_in: number; d_sae: number; k: number; batch: number; steps: number };
  readonly forward?: { folder: string; ids: number[][]; reps: number; logits_out: string };
}

export interface PeerResult {
  readonly device: string;
  readonly torch: string;
  readonly gemm?: { shape: [number, number, number]; seconds: number; gflops: number }[];
  readonly sae?: { seconds: number; tokens_per_s: number };
  readonly forward?: { seconds: number; tokens_per_s: number; transformers: string } | { error: string };
}

/** tools/reference/webgpu/torch_peers.py, from bench/ (tsx) or from dist-gpu/ (the esbuild bundle): both one level down. */
function peerScript(): string {
  const fromEnv = process.env.DIFFLENS_TORCH_PEERS;
  if (fromEnv) return fromEnv;
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  const path = join(root, "tools", "reference", "webgpu", "torch_peers.py");
  if (!existsSync(path)) throw new Error(`bench:webgpu --peer torch: ${path} not found (set DIFFLENS_TORCH_PEERS)`);
  return path;
}

/** Runs the job; its progress goes to our stderr; rejects with the exit status when the script fails. */
export async function runTorchPeers(job: PeerJob): Promise<PeerResult> {
  const dir = mkdtempSync(join(tmpdir(), "difflens-torch-peers-"));
  const jobFile = join(dir, "job.json");
  writeFileSync(jobFile, JSON.stringify(job));
  const python = process.env.DIFFLENS_PYTHON ?? "/usr/bin/python3";
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn(python, [peerScript(), jobFile], { stdio: ["ignore", "pipe", "inherit"] });
      let text = "";
      child.stdout.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      child.on("error", (error) => reject(new Error(`bench:webgpu: cannot start ${python}: ${error.message}`)));
      child.on("close", (code) =>
        code === 0 ? resolve(text) : reject(new Error(`bench:webgpu: ${python} torch_peers.py exited with ${code}`)),
      );
    });
    const last = stdout.trim().split("\n").at(-1) ?? "";
    return JSON.parse(last) as PeerResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
