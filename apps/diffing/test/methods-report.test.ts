/**
 * The methods report on a synthetic run folder (methods-report-fixture.ts: known plants and hand-made directions):
 * report.json's cosines and verdicts, the files, the page's sections and escaping, "not run" methods, and errors
 * that name the malformed file.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plantRole } from "../src/methods-report/crosscoder-section.ts";
import { type MethodsReport, writeMethodsReport } from "../src/methods-report/index.ts";
import { expectation, methodKeyOf, verdict } from "../src/methods-report/known-answer.ts";
import { writeMethodsRunFixture } from "./methods-report-fixture.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "methods-report-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("writeMethodsReport on a full three-plant run", () => {
  const runDir = path.join(root, "full");
  let out: Awaited<ReturnType<typeof writeMethodsReport>>;
  let json: MethodsReport;
  let html: string;
  beforeAll(async () => {
    await writeMethodsRunFixture(runDir);
    out = await writeMethodsReport(runDir);
    json = JSON.parse(fs.readFileSync(out.json, "utf8"));
    html = fs.readFileSync(out.html, "utf8");
  });

  it("writes the page, report.json and every figure in three formats under <run>/report", () => {
    expect(out.html).toBe(path.join(runDir, "report", "index.html"));
    const names = ["relative-norms-batchtopk", "relative-norms-l1", "latent-scaling-batchtopk", "latent-scaling-l1"];
    for (const name of [...names, "direction-cosines"])
      for (const ext of ["svg", "png", "pdf"])
        expect(fs.existsSync(path.join(runDir, "report", "figures", `${name}.${ext}`))).toBe(true);
    expect(out.figures).toHaveLength(15);
  });

  it("gives each method's best |cos| to each plant with the issue's verdicts", () => {
    const ka = json.knownAnswer!;
    expect(ka.variant).toBe("three-plant");
    const cell = (method: string, plant: string) =>
      ka.methods.find((m) => m.method === method)!.plants.find((p) => p.plant === plant)!;
    expect(cell("adl", "u").bestAbsCos).toBeCloseTo(0.99, 4);
    expect(cell("adl", "u").pass).toBe(true);
    expect(cell("adl", "v").pass).toBeNull(); // ADL is asserted on u only
    expect(cell("diff-sae", "u")).toMatchObject({ direction: "diff-sae/latent-3", pass: true });
    expect(cell("diff-sae", "u").bestAbsCos).toBeCloseTo(0.95, 4);
    expect(cell("diff-sae", "v").bestAbsCos).toBeCloseTo(0.85, 4);
    expect(cell("diff-sae", "v").pass).toBe(false);
    expect(cell("crosscoder-batchtopk", "v")).toMatchObject({ direction: "crosscoder-batchtopk/latent-6", pass: true });
    expect(cell("crosscoder-l1", "u").bestAbsCos).toBeCloseTo(Math.SQRT1_2, 4);
    expect(cell("crosscoder-l1", "u").pass).toBeNull();
    expect(cell("stagewise", "u").bestAbsCos).toBeCloseTo(0.8, 4);
  });

  it("finds each plant's crosscoder latent, its band and Latent-Scaling verdict", () => {
    const cc = json.crosscoders.batchtopk!;
    expect(cc.bandCounts).toMatchObject({ "chat-only": 2, shared: 10 });
    expect(cc.chatOnly).toEqual({ total: 2, chatSpecific: 2, artifacts: 0 });
    expect(cc.plants!.searched).toBe("all latents");
    const m = Object.fromEntries(cc.plants!.matches.map((x) => [x.plant, x]));
    expect(m.u).toMatchObject({ latent: 5, band: "chat-only", chatSpecific: true, pass: true });
    expect(m.v).toMatchObject({ latent: 6, band: "chat-only", pass: true });
    expect(m.f).toMatchObject({ latent: 8, band: "shared", expect: "shared", pass: true });
    expect(m.f!.relativeNorm).toBeCloseTo(1.4 / 2.4, 4);
    expect(cc.sharedDecoderCosine!.latents).toBe(10);
    expect(cc.sharedDecoderCosine!.mean).toBeCloseTo(1, 5);
    const l1 = json.crosscoders.l1!;
    expect(l1.chatOnly).toEqual({ total: 1, chatSpecific: 0, artifacts: 1 });
    expect(l1.latents[0]).toMatchObject({ latent: 2, verdict: "artifact" });
    expect(l1.latents[0]!.plantAbsCos.u).toBeCloseTo(Math.SQRT1_2, 4);
  });

  it("carries the cross-method cosine matrix, plants last", () => {
    const { labels, matrix } = json.cosines;
    expect(labels.slice(-3)).toEqual(["plant/u", "plant/v", "plant/f"]);
    const at = (a: string, b: string) => matrix[labels.indexOf(a)]![labels.indexOf(b)]!;
    expect(at("adl/leading", "plant/u")).toBeCloseTo(0.99, 4);
    expect(at("crosscoder-batchtopk/latent-5", "adl/leading")).toBeCloseTo(0.99, 4);
    expect(at("plant/u", "plant/v")).toBeCloseTo(0, 5);
    expect(matrix.every((r, i) => Math.abs(r[i]! - 1) < 1e-5)).toBe(true);
  });

  it("shows every section, escaped, without scripts", () => {
    for (const id of ["header", "known-answer", "stagewise", "crosscoders", "diff-sae", "adl", "cosines"])
      expect(html).toContain(`<section id="${id}">`);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("&quot;&lt;script&gt;&quot;"); // the lens token "<script>"
    expect(html).toContain("&quot; hello\\n&quot;"); // byte-level "ĠhelloĊ" decoded
    expect(html).toContain("readouts steer");
    expect(html).toContain('href="../adl/adl-all.safetensors"');
    expect(html).toContain("<svg");
    expect(html).toContain('class="fail"'); // diff-SAE misses v
    expect(html).toContain("1 of them flagged as artifacts");
    expect(json.store).toEqual({ rows: 4096, shards: 1, dataset: "synthetic" });
    expect(json.timings.crosscoderBatchTopK).toBe(10);
  });
});

describe("writeMethodsReport on partial and malformed folders", () => {
  it("shows methods the run did not do as not run", async () => {
    const runDir = path.join(root, "partial");
    await writeMethodsRunFixture(runDir, { omit: ["crosscoderL1", "crosscoderBatchTopK", "diffSae", "stagewise"] });
    const outDir = path.join(root, "elsewhere");
    const out = await writeMethodsReport(runDir, { outDir });
    const html = fs.readFileSync(out.html, "utf8");
    expect(out.report.methods.crosscoderL1.folder).toBeNull();
    expect(out.report.crosscoders.l1).toBeNull();
    expect(html).toContain("L1 crosscoder: not run");
    expect(html).toContain("diff-SAE: not run");
    expect(html).toContain(`href="../partial/adl/adl-all.safetensors"`);
    expect(out.report.knownAnswer!.methods.map((m) => m.method)).toEqual(["adl"]);
  });

  it("names the malformed or missing file", async () => {
    const runDir = path.join(root, "bad");
    await writeMethodsRunFixture(runDir, { omit: ["crosscoderL1", "crosscoderBatchTopK", "stagewise"] });
    const topLatents = path.join(runDir, "diff-sae", "top-latents.json");
    fs.writeFileSync(topLatents, '{"latents": [{"latent": "three"}, {"latent": 7}]}');
    await expect(writeMethodsReport(runDir)).rejects.toMatchObject({ code: "METHODS_RUN_INVALID" });
    await expect(writeMethodsReport(runDir)).rejects.toThrow(`${topLatents}: `);
    fs.rmSync(path.join(runDir, "adl", "adl.json"));
    fs.rmSync(path.join(runDir, "diff-sae"), { recursive: true });
    await expect(writeMethodsReport(runDir)).rejects.toThrow(path.join(runDir, "diff-sae", "top-latents.json"));
    await expect(writeMethodsReport(path.join(root, "nowhere"))).rejects.toThrow("methods.json: missing");
    expect(fs.existsSync(path.join(runDir, "report"))).toBe(false);
  });
});

describe("the known answer's expectations", () => {
  it("control: every method must find w and nothing above 0.5 to u", () => {
    for (const m of ["stagewise", "crosscoderL1", "diffSae", "adl"] as const) {
      expect(expectation("control", m, "w")).toBe("found");
      expect(expectation("control", m, "u")).toBe("absent");
    }
    expect(verdict("absent", 0.49)).toBe(true);
    expect(verdict("absent", 0.51)).toBe(false);
    expect(verdict("found", 0.9)).toBe(true);
    expect(plantRole("batchtopk", "control", "u")).toBe("absent");
    expect(plantRole("l1", "three-plant", "u")).toBeNull();
    expect(methodKeyOf("crosscoder-batchtopk")).toBe("crosscoderBatchTopK");
    expect(methodKeyOf("diffSae")).toBe("diffSae");
  });
});
