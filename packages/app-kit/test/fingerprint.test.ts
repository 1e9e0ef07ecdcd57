import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  diffFingerprints,
  fileSha256,
  fingerprintDigest,
  folderFingerprint,
  formatFieldChanges,
} from "../src/index.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "app-kit-fp-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("fingerprints", () => {
  it("hash file bytes, read a Hub blob's sha256 from its link, and walk folders in order", () => {
    const blobs = path.join(tmp, "models--o--m", "blobs");
    const snapshot = path.join(tmp, "models--o--m", "snapshots", "abc");
    fs.mkdirSync(blobs, { recursive: true });
    fs.mkdirSync(snapshot, { recursive: true });
    const sha = createHash("sha256").update("weights").digest("hex");
    fs.writeFileSync(path.join(blobs, sha), "weights");
    fs.symlinkSync(path.join("..", "..", "blobs", sha), path.join(snapshot, "model.safetensors"));
    fs.writeFileSync(path.join(snapshot, "config.json"), "{}");
    fs.writeFileSync(path.join(snapshot, ".hidden"), "x");
    expect(fileSha256(path.join(snapshot, "model.safetensors"))).toBe(sha);
    expect(folderFingerprint(snapshot)).toEqual({
      "config.json": createHash("sha256").update("{}").digest("hex"),
      "model.safetensors": sha,
    });
    expect(Object.keys(folderFingerprint(snapshot, (rel) => rel.endsWith(".json")))).toEqual(["config.json"]);
  });

  it("digest ignores key order; diffs name each changed leaf", () => {
    const a = { seed: 0, data: { files: [{ file: "a.parquet", sha256: "1".repeat(64) }] }, "x.y": 1 };
    const b = { "x.y": 2, data: { files: [{ file: "a.parquet", sha256: "2".repeat(64) }] }, seed: 3, plant: false };
    expect(fingerprintDigest({ a: 1, b: 2 })).toBe(fingerprintDigest({ b: 2, a: 1 }));
    const changes = diffFingerprints(a, b);
    expect(changes.map((c) => c.field)).toEqual(["data.files[0].sha256", "plant", "seed", '["x.y"]']);
    expect(formatFieldChanges(changes, 3)).toBe(
      "data.files[0].sha256: 111111111111… → 222222222222…; plant: (absent) → false; seed: 0 → 3; " + "… and 1 more",
    );
    expect(diffFingerprints(a, structuredClone(a))).toEqual([]);
  });
});
