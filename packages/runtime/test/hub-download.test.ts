import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { useBackend } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadModel, HubError, loadModel, writeRandomQwen2Folder } from "../src/index.ts";
import { relErr } from "./helpers.ts";

// A local stand-in for the Hub's resolve endpoint: HEAD/GET with X-Repo-Commit, ETag (sha256 for .safetensors,
// a git-style id otherwise), Range support. Never the internet.
const COMMIT = "a".repeat(40);
let tmp: string;
let server: http.Server;
let endpoint: string;
let files: Map<string, Buffer>;
const gets: string[] = [];
let corrupt: string | null = null;
let cutAfter: number | null = null;

beforeAll(async () => {
  useBackend("js");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "difflens-hub-"));
  const src = await writeRandomQwen2Folder(path.join(tmp, "src"), {
    config: { vocabSize: 40, dModel: 16, nLayers: 2, nHeads: 2, dMlp: 16, eosTokenIds: [1] },
    seed: 9,
    dtype: "bf16",
  });
  files = new Map(fs.readdirSync(src).map((f) => [f, fs.readFileSync(path.join(src, f))]));
  server = http.createServer((req, res) => {
    const m = /^\/org\/tiny\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? "");
    const body = m && (m[1] === "main" || m[1] === COMMIT) ? files.get(decodeURIComponent(m[2]!)) : undefined;
    if (!m || !body) {
      res.writeHead(404).end();
      return;
    }
    const file = decodeURIComponent(m[2]!);
    const etag = file.endsWith(".safetensors")
      ? createHash("sha256").update(body).digest("hex")
      : createHash("sha1").update(body).digest("hex");
    const common = { "x-repo-commit": COMMIT, etag: `"${etag}"` };
    if (req.method === "HEAD") {
      res.writeHead(200, { ...common, "content-length": body.length }).end();
      return;
    }
    gets.push(`${file}${req.headers.range ? ` ${req.headers.range}` : ""}`);
    let payload = body;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (file === corrupt) payload = Buffer.from(body.map((b, i) => (i === body.length - 1 ? b ^ 0xff : b)));
    if (range) {
      payload = payload.subarray(Number(range[1]));
      res.writeHead(206, { ...common, "content-length": payload.length });
    } else {
      res.writeHead(200, { ...common, "content-length": payload.length });
    }
    if (cutAfter !== null && file.endsWith(".safetensors")) {
      res.flushHeaders();
      res.write(payload.subarray(0, cutAfter));
      setTimeout(() => res.destroy(), 50);
      return;
    }
    res.end(payload);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("Hub download (local 127.0.0.1 server)", () => {
  it("downloads into the standard cache layout, loads, then reuses the cache and works offline", async () => {
    const cacheDir = path.join(tmp, "cache1");
    const snap = await downloadModel("org/tiny", { endpoint, cacheDir, onProgress: () => {} });
    expect(snap).toBe(path.join(cacheDir, "models--org--tiny", "snapshots", COMMIT));
    expect(fs.readFileSync(path.join(cacheDir, "models--org--tiny", "refs", "main"), "utf8")).toBe(COMMIT);
    expect(fs.lstatSync(path.join(snap, "model.safetensors")).isSymbolicLink()).toBe(true);
    const model = await loadModel(snap);
    const want = (await loadModel(path.join(tmp, "src"))).forward([1, 2, 3]);
    expect(relErr(model.forward([1, 2, 3]), want)).toBe(0);
    const before = gets.length;
    await downloadModel("org/tiny", { endpoint, cacheDir, onProgress: () => {} });
    expect(gets.length).toBe(before); // everything was cached
    expect(await downloadModel("org/tiny", { cacheDir, offline: true })).toBe(snap);
    expect(relErr((await loadModel("org/tiny", { cacheDir })).forward([1, 2, 3]), want)).toBe(0);
    await expect(downloadModel("org/other", { cacheDir, offline: true })).rejects.toThrow(/offline/);
  });

  it("resumes a partial download with a Range request", async () => {
    const cacheDir = path.join(tmp, "cache2");
    cutAfter = 1000;
    const err = await downloadModel("org/tiny", { endpoint, cacheDir, onProgress: () => {} }).catch((e: unknown) => e);
    cutAfter = null;
    expect(err).toBeInstanceOf(Error);
    const blobs = fs.readdirSync(path.join(cacheDir, "models--org--tiny", "blobs"));
    expect(blobs.some((b) => b.endsWith(".incomplete"))).toBe(true);
    await downloadModel("org/tiny", { endpoint, cacheDir, onProgress: () => {} });
    expect(gets[gets.length - 1]).toBe("model.safetensors bytes=1000-");
    expect((await loadModel("org/tiny", { cacheDir })).forward([1, 2]).shape).toEqual([1, 2, 40]);
  });

  it("refuses a corrupt download (sha256 mismatch) and leaves nothing usable", async () => {
    const cacheDir = path.join(tmp, "cache3");
    corrupt = "model.safetensors";
    const err = await downloadModel("org/tiny", { endpoint, cacheDir, onProgress: () => {} }).catch((e: unknown) => e);
    corrupt = null;
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe("HUB_CHECKSUM");
    const repo = path.join(cacheDir, "models--org--tiny");
    expect(fs.readdirSync(path.join(repo, "blobs")).filter((b) => b.length === 64)).toHaveLength(0);
    expect(fs.existsSync(path.join(repo, "snapshots", COMMIT, "model.safetensors"))).toBe(false);
    await expect(downloadModel("org/missing", { endpoint, cacheDir })).rejects.toThrow(/HTTP 404/);
  });
});
