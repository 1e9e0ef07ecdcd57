// The server never crashes on a malformed request: 1,000 seeded random paths, query strings, methods and bodies,
// then garbage on raw sockets. Every answer is a status below 500 (or 503 LIVE_UNAVAILABLE: live is off here) with
// the API's error body, and the server still answers afterwards.
import * as fs from "node:fs";
import { connect } from "node:net";
import { Rng } from "@difflens/stats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTES } from "../src/api/routes.ts";
import { type DashboardServer, startDashboardServer } from "../src/server/http-server.ts";
import { writeRunsFixture } from "./server-runs-fixture.ts";
import { rawRequest } from "./server-test-client.ts";

const SEED = 19;
const REQUESTS = 1000;
const RUN_IDS = ["readouts/am", "readouts/sae", "diffing/toy", "odd", "broken", "readouts/am/follow-ups/dla", ".", ""];
const PIECES = [
  "..",
  ".",
  "",
  "%2e%2e",
  "%2E%2e%2F",
  "%00",
  "%",
  "%zz",
  "%c0%ae",
  "~",
  "run.json",
  "figures",
  "a b",
  "é",
  "\\",
  "//",
  "?",
  "#",
  "&",
  "=",
];
const KEYS = [
  "run",
  "path",
  "stage",
  "latent",
  "space",
  "offset",
  "limit",
  "x",
  "",
  "run[]",
  "__proto__",
  "constructor",
];
const METHODS = ["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];

let root: string;
let server: DashboardServer;
beforeAll(async () => {
  root = writeRunsFixture({ tokenizer: false });
  server = await startDashboardServer({ root, live: false, log: () => {} });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Printable ASCII as the HTTP client sends it; anything else percent-encoded (valid or not, by chance). */
const asciiOnly = (text: string) => [...text].map((ch) => (/[!-~]/.test(ch) ? ch : encodeURIComponent(ch))).join("");

function randomRequest(r: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
  const routes = [...Object.values(ROUTES), "/", "/assets/dashboard.js", "/assets/", "/index.html", "/api", "/api/"];
  const word = () =>
    r() < 0.5
      ? pick(PIECES)
      : Array.from({ length: 1 + Math.floor(r() * 12) }, () => String.fromCharCode(32 + Math.floor(r() * 95))).join("");
  let path = r() < 0.7 ? pick(routes) : `/${Array.from({ length: 1 + Math.floor(r() * 5) }, word).join("/")}`;
  if (r() < 0.2) path += `/${word()}`;
  const value = () =>
    pick([
      pick(RUN_IDS),
      pick(["S", "D", "M", "DF", "MF", "mf", "X"]),
      String(Math.floor(r() * 100) - 20),
      pick(["1e9", "NaN", "-0", "0x10", "99999999999999999999", "1.5", " 3", "Infinity"]),
      word(),
      `figures/${word()}`,
      "x".repeat(Math.floor(r() * 5000)),
    ]);
  const params = Array.from({ length: Math.floor(r() * 5) }, () => {
    const key = pick(KEYS);
    return r() < 0.8
      ? `${encodeURIComponent(key)}=${r() < 0.7 ? encodeURIComponent(value()) : asciiOnly(value())}`
      : key;
  });
  const query = params.length > 0 || r() < 0.1 ? `?${params.join("&")}` : "";
  const method = pick(METHODS);
  const body =
    method === "POST" || method === "PUT"
      ? pick([
          "",
          "{",
          "null",
          "[]",
          JSON.stringify({ run: pick(RUN_IDS), stage: "MF", text: word() }),
          JSON.stringify({ run: pick(RUN_IDS), chat: { system: null, user: word() }, topK: Math.floor(r() * 40) - 4 }),
          word(),
        ])
      : undefined;
  const headers: Record<string, string> = {};
  if (body !== undefined && r() < 0.8)
    headers["content-type"] = pick(["application/json", "text/plain", "application/json; charset=utf-8"]);
  return { path: asciiOnly(path) + asciiOnly(query), method, body, headers };
}

describe("the server under random requests", () => {
  it(`answers ${REQUESTS} seeded random requests without a 5xx crash, then still answers`, async () => {
    const rng = Rng.fromSeed(SEED); // seeded, so a failure replays
    const r = () => rng.nextFloat64();
    const requests = Array.from({ length: REQUESTS }, () => randomRequest(r));
    const statuses = new Map<number, number>();
    for (let i = 0; i < requests.length; i += 25) {
      const batch = requests.slice(i, i + 25);
      const answers = await Promise.all(
        batch.map((req) =>
          rawRequest(server.url, req.path, {
            method: req.method,
            headers: req.headers,
            ...(req.body !== undefined ? { body: req.body } : {}),
          }),
        ),
      );
      answers.forEach((res, j) => {
        const req = batch[j]!;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const unavailable = res.status === 503 && res.json().error.code === "LIVE_UNAVAILABLE";
        expect([req.method, req.path, res.status < 500 || unavailable]).toEqual([req.method, req.path, true]);
        if (res.status >= 400 && req.method !== "HEAD") expect(typeof res.json().error.code).toBe("string");
      });
    }
    // Not all refusals: the generator reaches real answers too.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(50);
    expect((await rawRequest(server.url, ROUTES.runs)).status).toBe(200);
  }, 60_000);

  it("survives garbage on raw sockets", async () => {
    const url = new URL(server.url);
    const garbage = [
      "GARBAGE\r\n\r\n",
      "GET /api/runs HTTP/9.9\r\n\r\n",
      "GET /\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      `GET /${"a".repeat(100_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
      "POST /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n{",
      "GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ];
    for (const text of garbage) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(url.port), url.hostname, () => {
          socket.end(text);
        });
        socket.on("data", () => {});
        socket.on("error", () => resolve());
        socket.on("close", () => resolve());
        socket.setTimeout(2000, () => socket.destroy());
      });
    }
    expect((await rawRequest(server.url, ROUTES.runs)).status).toBe(200);
  });
});
