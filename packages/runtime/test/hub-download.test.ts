import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { useBackend } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main as downloadCli } from "../src/cli/download.ts";
import { downloadModel, HubError, loadModel, type RuntimeError, writeRandomQwen2Folder } from "../src/index.ts";
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
    const want = await (await loadModel(path.join(tmp, "src"))).forward([1, 2, 3]);
    expect(relErr(await model.forward([1, 2, 3]), want)).toBe(0);
    const before = gets.length;
    await downloadModel("org/tiny", { endpoint, cacheDir, onProgress: () => {} });
    expect(gets.length).toBe(before); // everything was cached
    expect(await downloadModel("org/tiny", { cacheDir, offline: true })).toBe(snap);
    expect(relErr(await (await loadModel("org/tiny", { cacheDir })).forward([1, 2, 3]), want)).toBe(0);
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
    expect((await (await loadModel("org/tiny", { cacheDir })).forward([1, 2])).shape).toEqual([1, 2, 40]);
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

describe("difflens-download command line (local 127.0.0.1 server)", () => {
  async function run(argv: string[]): Promise<{ code: number; out: string; log: string }> {
    let out = "";
    const lines: string[] = [];
    const code = await downloadCli(argv, {
      out: (text) => {
        out += text;
      },
      log: (line) => void lines.push(line),
    });
    return { code, out, log: lines.join("\n") };
  }

  it("downloads, prints the snapshot folder, logs each file; a second run fetches nothing", async () => {
    const cacheDir = path.join(tmp, "cli-cache");
    const first = await run(["org/tiny", "--endpoint", endpoint, "--cache-dir", cacheDir]);
    expect(first.code).toBe(0);
    const snap = path.join(cacheDir, "models--org--tiny", "snapshots", COMMIT);
    expect(first.out).toBe(`${snap}\n`);
    expect(first.log).toContain("model.safetensors:");
    expect(first.log).toContain(`org/tiny@main: ${files.size} files`);
    expect((await (await loadModel("org/tiny", { cacheDir })).forward([1, 2])).shape).toEqual([1, 2, 40]);
    const before = gets.length;
    const again = await run(["org/tiny@main", "--revision", "main", "--endpoint", endpoint, "--cache-dir", cacheDir]);
    expect(again.code).toBe(0);
    expect(gets.length).toBe(before);
    const byCommit = await run(["org/tiny", "--revision", COMMIT, "--endpoint", endpoint, "--cache-dir", cacheDir]);
    expect(byCommit.out).toBe(`${snap}\n`);
  });

  it("exit 1 with the reason for a repo the server lacks; exit 2 for a malformed name or two revisions", async () => {
    const cacheDir = path.join(tmp, "cli-cache-errors");
    const missing = await run(["org/missing", "--endpoint", endpoint, "--cache-dir", cacheDir]);
    expect(missing.code).toBe(1);
    expect(missing.log).toContain("HTTP 404 — check the name org/missing");
    expect((await run(["not-a-repo", "--cache-dir", cacheDir])).code).toBe(2);
    const both = await run(["org/tiny@v1", "--revision", "main", "--cache-dir", cacheDir]);
    expect(both.code).toBe(2);
    expect(both.log).toContain("--revision says main");
  });

  it("every MODEL_NOT_FOUND names the command, in its message and its fix", async () => {
    const failure = (source: string, options: { cacheDir?: string } = {}): Promise<RuntimeError> =>
      loadModel(source, options).then(
        () => Promise.reject(new Error(`${source} loaded`)),
        (e: unknown) => e as RuntimeError,
      );
    const cacheDir = path.join(tmp, "cli-cache-empty");
    const absent = await failure("org/absent@v2", { cacheDir });
    expect(absent).toMatchObject({ code: "MODEL_NOT_FOUND" });
    expect(absent.message).toContain("pnpm difflens-download org/absent --revision v2");
    expect(absent.facts.fix).toContain("pnpm difflens-download org/absent --revision v2");
    const repo = path.join(cacheDir, "models--org--absent");
    fs.mkdirSync(path.join(repo, "snapshots"), { recursive: true });
    const noSnapshot = await failure(repo);
    expect(noSnapshot.facts.fix).toContain("pnpm difflens-download org/absent");
    for (const source of [path.join(tmp, "no-such-folder"), tmp]) {
      const error = await failure(source);
      expect(error).toMatchObject({ code: "MODEL_NOT_FOUND" });
      expect(error.facts.fix).toContain("pnpm difflens-download ORG/NAME");
    }
  });
  it("--file fetches exactly the named files of a repo without a root config.json (an SAE repo)", async () => {
    const sae = "resid_post_layer_1/trainer_0";
    files.set(`${sae}/ae.pt`, Buffer.from("not really torch, only bytes"));
    files.set(`${sae}/config.json`, Buffer.from('{"trainer": {"k": 4}}'));
    const rootConfig = files.get("config.json")!;
    files.delete("config.json");
    try {
      const cacheDir = path.join(tmp, "cache-files");
      gets.length = 0;
      const out: string[] = [];
      const argv = ["org/tiny", "--cache-dir", cacheDir, "--endpoint", endpoint];
      const code = await downloadCli([...argv, "--file", `${sae}/ae.pt`, "--file", `${sae}/config.json`], {
        out: (text) => void out.push(text),
        log: () => {},
      });
      expect(code).toBe(0);
      const snap = out.join("").trim();
      expect(gets.sort()).toEqual([`${sae}/ae.pt`, `${sae}/config.json`]);
      expect(fs.readFileSync(path.join(snap, sae, "ae.pt"), "utf8")).toBe("not really torch, only bytes");
      const offline = await downloadModel("org/tiny", { cacheDir, offline: true, files: [`${sae}/config.json`] });
      expect(offline).toBe(snap);
      await expect(downloadModel("org/tiny", { cacheDir, offline: true })).rejects.toThrow(/offline/);
    } finally {
      files.set("config.json", rootConfig);
      files.delete(`${sae}/ae.pt`);
      files.delete(`${sae}/config.json`);
    }
  });
});
