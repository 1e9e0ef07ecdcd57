/**
 * The dashboard's HTTP server (node:http): the page, the web bundle from dist/web, and the JSON API over the run
 * folders under `root`, read-only. Every failure is answered with the API's error body; nothing a client sends can
 * crash it. Bound to 127.0.0.1 unless told otherwise; on a loopback address it also refuses requests whose Host is
 * not a loopback name (a web page that rebinds its DNS to 127.0.0.1 cannot read the runs).
 */

import { realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ROUTES } from "../api/routes.ts";
import { DashboardError } from "../errors.ts";
import { isInside } from "../runs/read-run-file.ts";
import { GET_ROUTES } from "./api-routes.ts";
import { indexHtml } from "./index-html.ts";
import { LiveRoute } from "./live-route.ts";
import { clip } from "./query.ts";
import { RunRegistry } from "./run-registry.ts";
import { sendError, sendFile, sendJson, sendText } from "./send.ts";

export interface DashboardServerOptions {
  /** A run folder or a folder of runs. */
  root: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Whether POST /api/live runs models (default true). */
  live?: boolean;
  /** The built web client (default the app's dist/web). */
  webDir?: string;
  /** Internal errors and notes (default stderr). */
  log?: (line: string) => void;
}

export interface DashboardServer {
  url: string;
  close(): Promise<void>;
}

export const DEFAULT_WEB_DIR = fileURLToPath(new URL("../../dist/web", import.meta.url));
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const host = options.host ?? "127.0.0.1";
  const live = options.live ?? true;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const registry = await RunRegistry.open(await rootFolder(options.root));
  const webDir = path.resolve(options.webDir ?? DEFAULT_WEB_DIR);
  const liveRoute = new LiveRoute(registry, live, log);
  const loopbackOnly = LOOPBACK_HOSTS.has(host);
  const context = { registry, live };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { pathname, search } = splitUrl(req.url ?? "/");
    if (loopbackOnly && !LOOPBACK_HOSTS.has(hostName(req.headers.host))) {
      throw new DashboardError(
        "FORBIDDEN",
        `Host "${clip(req.headers.host ?? "")}" is not this machine's loopback name`,
        {
          field: "Host",
        },
      );
    }
    const method = req.method ?? "GET";
    if (pathname === ROUTES.live) {
      allow(method, ["POST"]);
      sendJson(req, res, 200, await liveRoute.handle(req));
      return;
    }
    if (pathname === "/favicon.ico") {
      // No icon: an empty answer keeps the browser's console free of a 404 on every page load.
      allow(method, ["GET", "HEAD"]);
      res.writeHead(204, { "Cache-Control": "max-age=86400" }).end();
      return;
    }
    const route = GET_ROUTES[pathname];
    const isPage = pathname === "/" || pathname === "/index.html";
    const isAsset = pathname.startsWith("/assets/");
    if (!route && !isPage && !isAsset) {
      throw new DashboardError("NOT_FOUND", `no route ${clip(pathname)}`, { field: "path" });
    }
    allow(method, ["GET", "HEAD"]);
    if (isPage) return sendText(req, res, "text/html; charset=utf-8", indexHtml("server"));
    if (isAsset)
      return sendFile(req, res, await assetFile(webDir, pathname.slice("/assets/".length)), { sandboxed: false });
    const result = await route!(search, context);
    if (result.kind === "json") return sendJson(req, res, 200, result.body, result.headers);
    return sendFile(req, res, result.file, { sandboxed: true });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const extra: Record<string, string> = {};
      if (error instanceof DashboardError && error.code === "METHOD_NOT_ALLOWED")
        extra["Allow"] = String(error.facts.expected);
      if (error instanceof DashboardError && error.code === "TOO_LARGE") extra["Connection"] = "close";
      sendError(req, res, error, log, extra);
    });
  });
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    async close() {
      await liveRoute.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Path (percent-decoded, slashes collapsed) and the raw query. A path that does not decode is a bad request. */
function splitUrl(url: string): { pathname: string; search: string } {
  const q = url.indexOf("?");
  const rawPath = q < 0 ? url : url.slice(0, q);
  let pathname: string;
  try {
    pathname = decodeURIComponent(rawPath);
  } catch {
    throw new DashboardError("BAD_REQUEST", `the path ${clip(rawPath)} is not valid percent-encoding`, {
      field: "path",
    });
  }
  // Repeated slashes read as one (`${url}/#…` with a url that ends in "/" asks for "//"; relative URLs follow it).
  return { pathname: pathname.replace(/\/{2,}/g, "/"), search: q < 0 ? "" : url.slice(q + 1) };
}

function allow(method: string, methods: readonly string[]): void {
  if (!methods.includes(method)) {
    throw new DashboardError(
      "METHOD_NOT_ALLOWED",
      `method ${clip(method)} not allowed here (allowed: ${methods.join(", ")})`,
      {
        field: "method",
        expected: methods.join(", "),
      },
    );
  }
}

/** `localhost:8080` → `localhost`, `[::1]:80` → `[::1]`. */
function hostName(header: string | undefined): string {
  if (!header) return "";
  const match = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(header.trim().toLowerCase());
  return match ? match[1]! : "";
}

/** A file of the built client by its name under dist/web; nothing outside it. */
async function assetFile(webDir: string, name: string): Promise<string> {
  const missing = () =>
    new DashboardError("NOT_FOUND", `no web asset "${clip(name)}" (build the client: pnpm --filter dashboard build)`, {
      field: "path",
    });
  if (name === "" || name.includes("\0") || name.split(/[\\/]/).includes("..")) throw missing();
  let real: string;
  try {
    real = await realpath(path.join(webDir, name));
  } catch {
    throw missing();
  }
  if (!isInside(await realpath(webDir), real) || !(await stat(real)).isFile()) throw missing();
  return real;
}

async function rootFolder(root: string): Promise<string> {
  try {
    const real = await realpath(root);
    if ((await stat(real)).isDirectory()) return real;
  } catch {}
  throw new DashboardError("NOT_FOUND", `${root}: no such folder (expected a run folder or a folder of runs)`, {
    file: root,
  });
}
