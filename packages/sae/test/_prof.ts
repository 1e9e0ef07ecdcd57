import { Tensor, gemm, Rng } from "@difflens/tensor";
const a = new Float32Array(256*64).map(()=>Math.random()), b = new Float32Array(512*64).map(()=>Math.random());
const out = new Float32Array(256*512);
let t0 = performance.now();
for (let i = 0; i < 100; i++) gemm(new Tensor("f32",[256,64],a), new Tensor("f32",[64,512],b), { out: new Tensor("f32",[256,512],out)});
console.log("gemm ms/call", (performance.now()-t0)/100);
