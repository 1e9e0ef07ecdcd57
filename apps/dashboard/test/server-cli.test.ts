import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.ts";
import { staleReason, webSourceStamp } from "../src/server/web-build.ts";
import { writeRunsFixture } from "./server-runs-fixture.ts";
import { rawRequest } from "./server-test-client.ts";

let root: string;
let web: string;
beforeAll(() => {
  root = writeRunsFixture({ tokenizer: false });
  web = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-web-"));
  fs.writeFileSync(path.join(web, "dashboard.js"), "/* bundle */\n");
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(web, { recursive: true, force: true });
});

const capture = () => {
  const lines: string[] = [];
  return { lines, log: (line: string) => lines.push(line) };
};

describe("pnpm dashboard", () => {
  it("usage errors exit 2 naming the problem; --help exits 0", async () => {
    const { lines, log } = capture();
    expect(await main(["--prot", "1", root], log)).toBe(2);
    expect(lines.join("\n")).toMatch(/unknown flag --prot — did you mean "--port"/);
    expect(await main([path.join(root, "no-such-folder")], log)).toBe(2);
    expect(lines.at(-1)).toMatch(/no-such-folder: no such folder/);
    expect(await main(["--port", "70000", root], log)).toBe(2);
    expect(await main(["--help"], log)).toBe(0);
  });

  it("serves the folder until stopped, with the URL and a warning for a non-loopback host", async () => {
    const { lines, log } = capture();
    let answered = 0;
    const code = await main([root, "--port", "0", "--host", "0.0.0.0", "--no-live"], log, {
      webBuild: async () => web,
      untilStopped: async (url) => {
        const runs = await rawRequest(url, "/api/runs");
        answered = runs.status;
        expect(runs.json().live).toBe(false);
      },
    });
    expect(code).toBe(0);
    expect(answered).toBe(200);
    expect(lines.join("\n")).toMatch(/warning: binding 0\.0\.0\.0 .*no authentication/);
  });
});

describe("ensureWebBuild's staleness", () => {
  it("rebuilds when the bundle is missing or its sources' stamp differs", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-dist-"));
    const stamp = webSourceStamp();
    expect(stamp).toMatch(/^[0-9a-f]{64}$/);
    expect(webSourceStamp()).toBe(stamp);
    expect(staleReason(dir, stamp)).toMatch(/dashboard\.js is missing/);
    fs.writeFileSync(path.join(dir, "dashboard.js"), "");
    expect(staleReason(dir, stamp)).toMatch(/sources changed/);
    fs.writeFileSync(path.join(dir, ".build-stamp"), `${stamp}\n`);
    expect(staleReason(dir, stamp)).toBeNull();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
