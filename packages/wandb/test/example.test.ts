import { describe, expect, it } from "vitest";
import { example } from "./examples/fake-training.ts";

describe("README example", () => {
  it("logs a fake training run online and offline; the server ends with both", async () => {
    const lines: string[] = [];
    expect(await example((l) => lines.push(l))).toEqual({ online: 50, offline: 30 });
    expect(lines[0]).toMatch(/run \w{8}: http:\/\/127\.0\.0\.1:\d+\/test-entity|streaming to http/);
    expect(lines.join("\n")).toContain("offline run");
  });
});
