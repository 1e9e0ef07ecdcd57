/**
 * The issue-22 kernels (test/family-kernels-cases.ts: tanhSoftcap, geluTanhGate, rmsNorm's weightOffset, ropeInPlace's
 * invFreq, sliding windows in softmax and maskScores) on the webgpu backend, against the same float64 references and
 * tolerances as on the CPU backends. Small shapes: five pipelines (elementwise, rmsNorm, rope, softmax, maskScores).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { useBackend } from "../src/index.ts";
import { compareCase, familyCases } from "./family-kernels-cases.ts";
import { describeWebgpu } from "./webgpu-available.ts";

describeWebgpu("issue-22 kernels on webgpu", () => {
  beforeAll(async () => {
    await useBackend("webgpu");
  });
  afterAll(() => {
    useBackend("js");
  });
  for (const c of familyCases.filter((c) => !c.cpuOnly)) {
    it(c.name, async () => {
      expect(compareCase(await c.run())).toBeUndefined();
    });
  }
});
