import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { packageTarball } from "./tar-gz.ts";

export interface StoreRegistry {
  /** Base URL for npm's --registry, e.g. http://127.0.0.1:40123/. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A loopback npm registry serving the third-party packages pnpm installed in the workspace (node_modules/.pnpm),
 * so a plain npm project resolves our tarballs' dependencies with npm's own rules and never leaves the machine:
 * no registry.npmjs.org, no prefilled npm cache. Packuments list every version the store holds; tarballs are
 * packed from the installed folders on request.
 */
export async function startStoreRegistry(storeDir: string): Promise<StoreRegistry> {
  const packages = indexStore(storeDir);
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://registry").pathname).slice(1);
    const tarball = /^-\/tarball\/(.+)\/([^/]+)\.tgz$/.exec(path);
    const versions = tarball ? undefined : packages.get(path);
    if (tarball) {
      const dir = packages.get(tarball[1]!)?.get(tarball[2]!)?.dir;
      if (!dir) return void response.writeHead(404).end();
      response.writeHead(200, { "content-type": "application/octet-stream" }).end(packageTarball(dir));
    } else if (versions) {
      const body = JSON.stringify(packument(path, versions, url));
      response.writeHead(200, { "content-type": "application/json" }).end(body);
    } else {
      // Optional builds for other platforms, and our own packages (npm looks, then takes the tarballs it was given).
      response.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface StoredVersion {
  readonly dir: string;
  readonly manifest: Record<string, unknown>;
}

/** name → version → folder, from the store's `<name>@<version>[_peers]/node_modules/<name>` layout. */
function indexStore(storeDir: string): Map<string, Map<string, StoredVersion>> {
  const index = new Map<string, Map<string, StoredVersion>>();
  for (const entry of readdirSync(storeDir)) {
    const at = entry.indexOf("@", 1);
    if (at < 0) continue;
    const name = entry.slice(0, at).replace("+", "/");
    const dir = join(storeDir, entry, "node_modules", name);
    if (!existsSync(join(dir, "package.json"))) continue;
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
    const versions = index.get(name) ?? new Map<string, StoredVersion>();
    versions.set(String(manifest["version"]), { dir, manifest });
    index.set(name, versions);
  }
  return index;
}

function packument(name: string, versions: Map<string, StoredVersion>, url: string): object {
  const entries = [...versions].map(([version, { manifest }]) => {
    // Some old packages were published with npm's install bookkeeping (_integrity, _resolved, …) in package.json;
    // npm would check our repacked bytes against that integrity, so only the public fields go out.
    const fields = Object.entries(manifest).filter(([key]) => !key.startsWith("_") && key !== "dist");
    const dist = { tarball: `${url}-/tarball/${name}/${version}.tgz` };
    return [version, { ...Object.fromEntries(fields), name, version, dist }];
  });
  // "latest" only steers npm when a range allows several stored versions; the newest is what a registry would say.
  const latest = [...versions.keys()].sort(compareVersions).at(-1)!;
  return { name, "dist-tags": { latest }, versions: Object.fromEntries(entries) };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map(Number);
  const pb = b.split(/[.+-]/).map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
