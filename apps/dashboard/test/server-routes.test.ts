import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTES } from "../src/api/routes.ts";
import { type DashboardServer, startDashboardServer } from "../src/server/http-server.ts";
import { diffingFixtureRun, FIXTURE_D_SAE } from "./fixture/diffing-run.ts";
import { linkOutside, OUTSIDE_CONTENT, writeRunsFixture } from "./server-runs-fixture.ts";
import { rawRequest } from "./server-test-client.ts";

let root: string;
let outside: string;
let server: DashboardServer;
const get = (p: string, options?: Parameters<typeof rawRequest>[2]) => rawRequest(server.url, p, options);
const q = (route: string, query: Record<string, string>) => `${route}?${new URLSearchParams(query)}`;
const webDir = () => {
  const dir = fs.mkdtempSync(path.join(root, ".web-"));
  fs.writeFileSync(path.join(dir, "dashboard.js"), "/* bundle */\n");
  return dir;
};

beforeAll(async () => {
  root = writeRunsFixture({ tokenizer: false });
  outside = linkOutside(root, "readouts/sae/linked");
  server = await startDashboardServer({ root, port: 0, webDir: webDir(), log: () => {} });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

describe("dashboard server", () => {
  it("serves the page, the bundle, and the run list as JSON with no-store", async () => {
    const page = await get("/");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.text).toContain('<div id="app"></div>');
    expect(page.text).toContain('window.__DIFFLENS_MODE__ = "server"');
    expect(page.text).toContain('<script src="assets/dashboard.js"></script>');
    expect((await get("/assets/dashboard.js")).text).toBe("/* bundle */\n");
    // `${url}/#/…` (url ends in "/") asks for "//"; the page's relative URLs then start with "//" too.
    expect((await get("//")).text).toContain('<div id="app"></div>');
    expect((await get("//assets/dashboard.js")).status).toBe(200);
    expect((await get("//api//runs")).status).toBe(200);
    const runs = await get(ROUTES.runs);
    expect(runs.headers["cache-control"]).toBe("no-store");
    const body = runs.json();
    expect(body.root).toBe(path.basename(root));
    expect(body.live).toBe(true);
    expect(body.runs.map((r: { id: string }) => r.id)).toContain("readouts/am/follow-ups/dla");
    expect(body.runs.find((r: { id: string }) => r.id === "broken").errors[0].file).toBe("run.json");
  });

  it("answers each run by kind; HEAD gives the headers without a body", async () => {
    const am = (await get(q(ROUTES.run, { run: "readouts/am" }))).json();
    expect(am.kind).toBe("readouts-attention-marker");
    // No tokenizer in this fixture's model folder: token ids instead of text, and a panel that says why.
    expect(am.generations.items[0].segments[0].text).toMatch(/^⟨token ids 6303 271/);
    expect(am.errors).toEqual([expect.objectContaining({ file: "run.json" })]);
    const head = await get(q(ROUTES.run, { run: "readouts/sae" }), { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
    expect(Number(head.headers["content-length"])).toBeGreaterThan(100);
    const generations = (await get(q(ROUTES.generations, { run: "readouts/am", offset: "4", limit: "2" }))).json();
    expect(generations).toMatchObject({ offset: 4, total: 5 });
    expect(generations.items).toHaveLength(1);
  });

  it("serves run files with their content type, sandboxed", async () => {
    const png = await get(q(ROUTES.file, { run: "readouts/sae", path: "figures/similarity-heatmap.png" }));
    expect(png.status).toBe(200);
    expect(png.headers["content-type"]).toBe("image/png");
    expect(png.headers["content-security-policy"]).toMatch(/^sandbox/);
    const json = await get(q(ROUTES.file, { run: "readouts/sae", path: "figures/track-b-counts.json" }));
    expect(json.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(json.json().kind).toBe("bars");
  });

  it("refuses paths that leave the run folder: '..', encoded '..', absolute, NUL, symlinks out, folders", async () => {
    const file = (p: string) => `${ROUTES.file}?run=readouts%2Fsae&path=${p}`;
    const cases: [string, number][] = [
      [file("../am/results.json"), 403],
      [file("%2e%2e%2fam%2fresults.json"), 403],
      [file("figures/..%2F..%2Fam%2Frun.json"), 403],
      [file("%2Fetc%2Fpasswd"), 403],
      [file("figures%00.json"), 403],
      [file("linked%2Fsecret.txt"), 403],
      [file("figures"), 403],
      [file("nope.png"), 404],
      [`${ROUTES.file}?run=..&path=run.json`, 404],
      [`${ROUTES.file}?run=readouts%2F..%2Fodd&path=run.json`, 404],
      [`${ROUTES.file}?run=${encodeURIComponent(outside)}&path=run.json`, 404],
      [`/assets/..%2F..%2Fpackage.json`, 404],
      ["/../../etc/passwd", 404],
    ];
    for (const [p, status] of cases) {
      const res = await get(p);
      expect([p, res.status]).toEqual([p, status]);
      expect(res.json().error.code).toBe(status === 403 ? "FORBIDDEN" : "NOT_FOUND");
      expect(res.text).not.toContain(OUTSIDE_CONTENT);
    }
  });

  it("validates queries: unknown or repeated parameters, stage, latent range, kind of run", async () => {
    const cases: [string, number, string?][] = [
      [`${ROUTES.runs}?runs=1`, 400, "runs"],
      [`${ROUTES.run}?run=readouts%2Fam&run=odd`, 400, "run"],
      [`${ROUTES.run}`, 400, "run"],
      [q(ROUTES.feature, { run: "diffing/toy", stage: "MX", latent: "1" }), 400, "stage"],
      [q(ROUTES.feature, { run: "diffing/toy", stage: "MF", latent: "32" }), 400, "latent"],
      [q(ROUTES.feature, { run: "diffing/toy", stage: "MF", latent: "-1" }), 400, "latent"],
      [q(ROUTES.feature, { run: "diffing/toy", stage: "MF", latent: "1e3" }), 400, "latent"],
      [q(ROUTES.feature, { run: "readouts/sae", stage: "MF", latent: "1" }), 400, "run"],
      [q(ROUTES.scatter, { run: "diffing/toy", space: "both" }), 400, "space"],
      [q(ROUTES.generations, { run: "readouts/am", limit: "100000" }), 400, "limit"],
      [q(ROUTES.generations, { run: "readouts/sae" }), 400, "run"],
      [q(ROUTES.run, { run: "no/such/run" }), 404, "run"],
      ["/api/nothing", 404, "path"],
    ];
    for (const [p, status, field] of cases) {
      const res = await get(p);
      expect([p, res.status, res.json().error.field]).toEqual([p, status, field]);
      expect(typeof res.json().error.message).toBe("string");
    }
  });

  it("405 with Allow for wrong methods; POST /api/live: JSON only, 64 KiB at most, a diffing run", async () => {
    const del = await get(ROUTES.runs, { method: "DELETE" });
    expect([del.status, del.headers.allow]).toEqual([405, "GET, HEAD"]);
    const getLive = await get(ROUTES.live);
    expect([getLive.status, getLive.headers.allow]).toEqual([405, "POST"]);
    const post = (body: string, type = "application/json") =>
      get(ROUTES.live, { method: "POST", headers: { "content-type": type }, body });
    expect((await post('{"run":"readouts/am","stage":"MF","text":"hi"}', "text/plain")).status).toBe(400);
    expect((await post("{not json")).json().error).toMatchObject({ code: "BAD_REQUEST", field: "body" });
    expect((await post('{"run":"diffing/toy","stage":"MF","txt":"hi"}')).json().error.field).toBe("txt");
    expect((await post('{"run":"readouts/am","stage":"MF","text":"hi"}')).json().error.field).toBe("run");
    expect((await post('{"run":"nope","stage":"MF","text":"hi"}')).status).toBe(404);
    const big = await post(JSON.stringify({ run: "diffing/toy", stage: "MF", text: "a".repeat(70_000) }));
    expect([big.status, big.json().error.code]).toEqual([413, "TOO_LARGE"]);
  });

  it("refuses a Host that is not a loopback name (DNS rebinding)", async () => {
    expect((await get(ROUTES.runs, { headers: { host: "evil.example:80" } })).status).toBe(403);
    expect((await get(ROUTES.runs, { headers: { host: "localhost" } })).status).toBe(200);
  });

  it("finds a run made while it runs", async () => {
    const dir = path.join(root, "later", "run-1");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "run.json"), JSON.stringify({ format: "difflens-readouts-steer", config: {} }));
    fs.writeFileSync(path.join(dir, "results.json"), JSON.stringify({ bestAlpha: 1 }));
    const res = await get(q(ROUTES.run, { run: "later/run-1" }));
    expect(res.status).toBe(200);
    expect(res.json().summary).toEqual(["bestAlpha: 1"]);
  });

  it("--no-live answers 503 LIVE_UNAVAILABLE", async () => {
    const off = await startDashboardServer({ root, live: false, log: () => {} });
    try {
      const res = await rawRequest(off.url, ROUTES.live, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"run":"diffing/toy","stage":"MF","text":"hi"}',
      });
      expect([res.status, res.json().error.code]).toEqual([503, "LIVE_UNAVAILABLE"]);
      expect((await rawRequest(off.url, ROUTES.runs)).json().live).toBe(false);
    } finally {
      await off.close();
    }
  });
});

describe("dashboard server on a real diffing run", () => {
  it("serves the run page, scatter, feature page and live; a truncated features.json and a missing stage are error panels", async () => {
    const fixture = await diffingFixtureRun();
    const copy = path.join(root, "real");
    fs.cpSync(fixture, copy, { recursive: true });
    const features = path.join(copy, "features", "features.json");
    const text = fs.readFileSync(features, "utf8");
    fs.writeFileSync(features, text.slice(0, Math.floor(text.length / 2)));
    fs.rmSync(path.join(copy, "stages", "M"), { recursive: true, force: true });
    const run = await get(q(ROUTES.run, { run: "real" }));
    expect(run.status).toBe(200);
    expect(
      run
        .json()
        .errors.map((e: { file: string }) => e.file)
        .join(" "),
    ).toMatch(/stages\/M/);
    const scatter = (await get(q(ROUTES.scatter, { run: "real", space: "decoder" }))).json();
    expect(scatter.points).toHaveLength(FIXTURE_D_SAE);
    const feature = await get(q(ROUTES.feature, { run: "real", stage: "MF", latent: "0" }));
    expect(feature.status).toBe(200);
    expect(feature.json().errors).toContainEqual(expect.objectContaining({ file: "features/features.json" }));
    // The copy's model paths are relative to the original: a copied run cannot run live, and says so.
    const post = (base: string, run: string) =>
      rawRequest(base, ROUTES.live, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ run, stage: "MF", text: "The cat sat", topK: 3 }),
      });
    expect((await post(server.url, "real")).json().error.code).toBe("LIVE_UNAVAILABLE");
    // Served in place (the root is the run: id "."), live answers each token's top latents.
    const inPlace = await startDashboardServer({ root: fixture, log: () => {} });
    try {
      const live = await post(inPlace.url, ".");
      expect(live.status).toBe(200);
      expect(live.json().tokens.length).toBeGreaterThan(1);
      expect(live.json().tokens.find((t: { scored: boolean }) => t.scored).top).toHaveLength(3);
    } finally {
      await inPlace.close();
    }
    // The rest of the site still works.
    expect((await get(ROUTES.runs)).status).toBe(200);
    expect((await get(q(ROUTES.run, { run: "readouts/am" }))).status).toBe(200);
  }, 120_000);
});
