import { createJsBackend } from "./src/backends/js/index.ts";
import { createWebgpuBackend } from "./src/backends/webgpu/index.ts";

const b = await createWebgpuBackend(createJsBackend());
const ctx = b.context;
const x = ctx.alloc("f32", [4, 300], true);
const y = ctx.alloc("f32", [4, 300], true);
function variant(wg: number, kind: string): string {
  const tree =
    kind === "tree"
      ? `partial[lid] = v; workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s >>= 1u) { if (lid < s) { partial[lid] += partial[lid + s]; } workgroupBarrier(); }
  let total = partial[0];`
      : kind === "serial"
        ? `partial[lid] = v; workgroupBarrier();
  var total = 0.0; for (var k = 0u; k < ${wg}u; k++) { total += partial[k]; }`
        : `partial[lid] = v; workgroupBarrier();
  if (lid < 16u) { var t = 0.0; for (var k = 0u; k < ${wg / 16}u; k++) { t += partial[lid * ${wg / 16}u + k]; } partial2[lid] = t; }
  workgroupBarrier();
  var total = 0.0; for (var k = 0u; k < 16u; k++) { total += partial2[k]; }`;
  return `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
var<workgroup> partial: array<f32, ${wg}>;
var<workgroup> partial2: array<f32, 16>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  var v = 0.0;
  for (var j = lid; j < 300u; j += ${wg}u) { v += x[row * 300u + j]; }
  ${tree}
  for (var j = lid; j < 300u; j += ${wg}u) { y[row * 300u + j] = x[row * 300u + j] * total; }
}`;
}
for (const [wg, kind] of [
  [256, "tree"],
  [64, "tree"],
  [256, "serial"],
  [256, "two"],
  [64, "two"],
  [128, "tree"],
] as const) {
  const t0 = performance.now();
  const p = ctx.pipeline(`${wg}${kind}`, () => variant(wg, kind));
  ctx.dispatch(p, [x, y], undefined, [4]);
  await ctx.sync();
  const t1 = performance.now();
  ctx.dispatch(p, [x, y], undefined, [4]);
  await ctx.sync();
  console.log(wg, kind, "first", (t1 - t0).toFixed(0), "ms; again", (performance.now() - t1).toFixed(1));
}
