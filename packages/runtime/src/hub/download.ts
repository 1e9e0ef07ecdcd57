/**
 * Hub download into the standard cache layout (what huggingface_hub writes, so either tool reads the other's cache):
 *   {cache}/models--ORG--NAME/blobs/<etag>               file contents (etag = sha256 for LFS files)
 *   {cache}/models--ORG--NAME/snapshots/<commit>/<file>  relative symlinks to the blobs
 *   {cache}/models--ORG--NAME/refs/<revision>            the commit a branch/tag resolved to
 * Files come from `{endpoint}/{repo}/resolve/{revision}/{file}` (endpoint HF_ENDPOINT, token HF_TOKEN). Partial
 * downloads live in `blobs/<etag>.incomplete` (huggingface_hub's name, so either tool resumes the other's partial
 * download: a unique temp name would defeat that) and resume with a Range request; a file whose etag is a sha256 is
 * verified before it is used; a mismatch deletes it and fails. HF_HUB_OFFLINE=1 (or `offline`) uses the cache only.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  hubCacheDir,
  hubRepoFolderName,
  ProgressBar,
  parseRepoId,
  sha256File,
  writeFileAtomic,
} from "@difflens/common";
import { HubError } from "../errors.ts";
import { downloadCommand, snapshotOf } from "../loading/model-folder.ts";

export interface DownloadOptions {
  /** Branch, tag or commit (default from `ORG/NAME@rev`, else "main"). */
  readonly revision?: string;
  /** Default HF_ENDPOINT or https://huggingface.co. */
  readonly endpoint?: string;
  /** Default HF_TOKEN. */
  readonly token?: string;
  /** Default HF_HUB_CACHE / HF_HOME/hub / ~/.cache/huggingface/hub. */
  readonly cacheDir?: string;
  /**
   * Files to fetch, paths inside the repo (default: config, generation config, tokenizer files, model.safetensors or
   * its shards). With a list, config.json is not required: an SAE repo such as andyrdt/saes-qwen2.5-7b-instruct has
   * none at its root, only `resid_post_layer_L/trainer_i/{ae.pt,config.json}`.
   */
  readonly files?: readonly string[];
  /** Cache only (default HF_HUB_OFFLINE=1). */
  readonly offline?: boolean;
  /** Progress callback; default a one-line bar on stderr when it is a TTY. */
  readonly onProgress?: (p: { file: string; received: number; total: number }) => void;
  /** For tests/proxies. */
  readonly fetch?: typeof fetch;
}

const OPTIONAL = [
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "vocab.json",
  "merges.txt",
  "special_tokens_map.json",
  "added_tokens.json",
];

interface Remote {
  commit: string;
  etag: string;
  size: number | null;
  url: string;
}

function stripEtag(raw: string | null): string | null {
  if (!raw) return null;
  return raw.replace(/^W\//, "").replace(/^"|"$/g, "");
}

/** Downloads (or finds in the cache) a model repo; returns its snapshot folder, ready for loadModel. */
export async function downloadModel(spec: string, opts: DownloadOptions = {}): Promise<string> {
  const parsed = parseRepoId(spec);
  if (!parsed) throw new HubError("BAD_ARGUMENT", `"${spec}" is not ORG/NAME[@revision]`, { got: spec });
  const revision = opts.revision ?? parsed.revision;
  const cache = opts.cacheDir ?? hubCacheDir();
  const repoDir = path.join(cache, hubRepoFolderName(parsed.repoId));
  const offline = opts.offline ?? (process.env.HF_HUB_OFFLINE === "1" || process.env.HF_HUB_OFFLINE === "true");
  if (offline) {
    try {
      const snap = snapshotOf(repoDir, revision);
      for (const file of opts.files ?? ["config.json"])
        if (!fs.existsSync(path.join(snap, file))) throw new Error(`no ${file}`);
      return snap;
    } catch {
      const fix = `download it once online: ${downloadCommand(parsed.repoId, revision)}`;
      const what = `offline: ${parsed.repoId}@${revision} is not in the cache at ${repoDir}`;
      const got = `${parsed.repoId}@${revision}`;
      throw new HubError("HUB_OFFLINE_MISS", `${what} — ${fix}`, { file: repoDir, got, fix });
    }
  }
  const endpoint = (opts.endpoint ?? process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/$/, "");
  const token = opts.token ?? process.env.HF_TOKEN;
  const doFetch = opts.fetch ?? fetch;
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  });
  const bars = opts.onProgress === undefined && process.stderr.isTTY ? stderrBars() : undefined;
  const progress = opts.onProgress ?? bars?.update;

  const head = async (file: string, required: boolean): Promise<Remote | null> => {
    const url = `${endpoint}/${parsed.repoId}/resolve/${encodeURIComponent(revision)}/${file.split("/").map(encodeURIComponent).join("/")}`;
    let res: Response;
    try {
      res = await doFetch(url, { method: "HEAD", headers: headers(), redirect: "manual" });
    } catch (e) {
      throw new HubError(
        "HUB_HTTP",
        `HEAD ${url} failed: ${(e as Error).message} (set HF_HUB_OFFLINE=1 to use the cache only)`,
        { file: url },
      );
    }
    if (res.status === 404 && !required) return null;
    if (res.status >= 400) {
      const hint =
        res.status === 401 || res.status === 403
          ? " — a gated or private repo needs HF_TOKEN"
          : res.status === 404
            ? ` — check the name ${parsed.repoId} and the revision ${revision}`
            : "";
      throw new HubError("HUB_HTTP", `HEAD ${url}: HTTP ${res.status}${hint}`, { file: url, got: res.status });
    }
    const commit = res.headers.get("x-repo-commit");
    const etag = stripEtag(res.headers.get("x-linked-etag")) ?? stripEtag(res.headers.get("etag"));
    if (!commit || !etag)
      throw new HubError("HUB_HTTP", `HEAD ${url}: the server sent no X-Repo-Commit / ETag; not a Hub endpoint?`, {
        file: url,
      });
    const size = Number(res.headers.get("x-linked-size") ?? res.headers.get("content-length") ?? NaN);
    const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
    return {
      commit,
      etag,
      size: Number.isFinite(size) ? size : null,
      url: location ? new URL(location, url).toString() : url,
    };
  };

  const blobs = path.join(repoDir, "blobs");
  fs.mkdirSync(blobs, { recursive: true });
  const fetchBlob = async (file: string, remote: Remote): Promise<string> => {
    const blob = path.join(blobs, remote.etag);
    if (fs.existsSync(blob) && (remote.size === null || fs.statSync(blob).size === remote.size)) return blob;
    const partial = `${blob}.incomplete`;
    let have = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
    if (remote.size !== null && have > remote.size) {
      fs.rmSync(partial);
      have = 0;
    }
    if (remote.size === null || have < remote.size) {
      let res: Response;
      try {
        res = await doFetch(remote.url, { headers: headers(have > 0 ? { range: `bytes=${have}-` } : {}) });
      } catch (e) {
        throw new HubError("HUB_HTTP", `GET ${remote.url} failed: ${(e as Error).message}`, { file: remote.url });
      }
      if (res.status >= 400 || !res.body)
        throw new HubError("HUB_HTTP", `GET ${remote.url}: HTTP ${res.status}`, { file: remote.url, got: res.status });
      if (have > 0 && res.status !== 206) have = 0; // server ignored the range: start over
      const out = fs.openSync(partial, have > 0 ? "a" : "w");
      let received = have;
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          fs.writeSync(out, chunk);
          received += chunk.length;
          progress?.({ file, received, total: remote.size ?? received });
        }
      } catch (e) {
        throw new HubError(
          "HUB_HTTP",
          `GET ${remote.url} broke off after ${received} bytes (${(e as Error).message}); the next call resumes from ${partial}`,
          { file: remote.url, got: received },
        );
      } finally {
        fs.closeSync(out);
      }
    }
    const size = fs.statSync(partial).size;
    if (remote.size !== null && size !== remote.size) {
      throw new HubError(
        "HUB_CHECKSUM",
        `${file}: got ${size} of ${remote.size} bytes; the partial file ${partial} resumes on the next call`,
        { file, expected: remote.size, got: size },
      );
    }
    if (/^[0-9a-f]{64}$/.test(remote.etag)) {
      const digest = sha256File(partial);
      if (digest !== remote.etag) {
        fs.rmSync(partial);
        throw new HubError(
          "HUB_CHECKSUM",
          `${file}: sha256 ${digest} does not match the server's ${remote.etag}; the corrupt download was deleted`,
          { file, expected: remote.etag, got: digest },
        );
      }
    }
    fs.renameSync(partial, blob);
    return blob;
  };

  const link = (commit: string, file: string, blob: string): void => {
    const target = path.join(repoDir, "snapshots", commit, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const rel = path.relative(path.dirname(target), blob);
    if (fs.existsSync(target) || isSymlink(target)) fs.rmSync(target);
    fs.symlinkSync(rel, target);
  };

  const wanted = new Map<string, Remote>();
  if (opts.files && opts.files.length > 0) {
    for (const f of opts.files) if (!wanted.has(f)) wanted.set(f, (await head(f, true))!);
  } else {
    wanted.set("config.json", (await head("config.json", true))!);
    for (const f of OPTIONAL) {
      const r = await head(f, false);
      if (r) wanted.set(f, r);
    }
    const index = await head("model.safetensors.index.json", false);
    if (index) {
      const blob = await fetchBlob("model.safetensors.index.json", index);
      wanted.set("model.safetensors.index.json", index);
      const map =
        (JSON.parse(fs.readFileSync(blob, "utf8")) as { weight_map?: Record<string, string> }).weight_map ?? {};
      for (const shard of new Set(Object.values(map))) wanted.set(shard, (await head(shard, true))!);
    } else {
      wanted.set("model.safetensors", (await head("model.safetensors", true))!);
    }
  }
  const [firstFile, first] = [...wanted][0]!;
  const commit = first.commit;
  for (const [file, remote] of wanted) {
    if (remote.commit !== commit)
      throw new HubError(
        "HUB_HTTP",
        `${file} resolved to commit ${remote.commit}, ${firstFile} to ${commit}: the branch moved during the download; retry`,
        { file },
      );
    link(commit, file, await fetchBlob(file, remote));
  }
  if (revision !== commit) {
    writeFileAtomic(path.join(repoDir, "refs", revision), commit);
  }
  bars?.finish();
  return path.join(repoDir, "snapshots", commit);
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The default display on a TTY: one line per file, drawn by common's progress bar. */
function stderrBars(): { update(p: { file: string; received: number; total: number }): void; finish(): void } {
  let current: { file: string; bar: ProgressBar; received: number } | null = null;
  const megabytes = (bytes: number) => (bytes / 1e6).toFixed(1);
  return {
    update(p) {
      if (current?.file !== p.file) {
        current?.bar.done(current.received);
        const label = p.file.padEnd(40).slice(0, 40);
        const bar = new ProgressBar({ label, total: p.total, unit: "MB", formatCount: megabytes });
        current = { file: p.file, bar, received: 0 };
      }
      current.received = p.received;
      current.bar.update(p.received);
    },
    finish: () => current?.bar.done(current.received),
  };
}
