import { it } from "vitest";
import { setGemmTiled } from "../src/backends/webgpu/gemm-tiled-wgsl.ts";
import { fromArray, gemm, randn, Rng, sync, toDevice, toFloat32Array, useBackend } from "../src/index.ts";
it("gflops", async () => {
  await useBackend("webgpu");
  const rng = new Rng(3);
  const n = 512;
  const a = toDevice(randn([n, n], rng));
  const bf = randn([n, n], rng);
  for (const tiled of [false, true]) {
    setGemmTiled(tiled);
    for (const dt of ["f32", "bf16"] as const) for (const transB of [false, true]) {
      const b = toDevice(dt === "f32" ? bf : fromArray(toFloat32Array(bf), [n, n], "bf16"));
      gemm(a, b, { transB }); await sync(); // compile + warm
      const reps = 3;
      const s = performance.now();
      for (let r = 0; r < reps; r++) gemm(a, b, { transB });
      await sync();
      const sec = (performance.now() - s) / 1000 / reps;
      console.log(`tiled=${tiled} ${dt} transB=${transB}: ${(2 * n ** 3 / sec / 1e9).toFixed(2)} GFLOP/s (${(sec * 1000).toFixed(0)} ms)`);
    }
  }
}, 300000);
