import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Rng, Tensor } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { SaeError } from "../src/errors.ts";
import { detectSaeFormat, loadSae, writeSaeLens, writeSparsify } from "../src/formats/formats.ts";
import { readTorchStateDict } from "../src/formats/torch-load.ts";
import { Sae } from "../src/sae.ts";
import { writeSafetensors } from "../src/safetensors-io.ts";
import { codesToDense } from "../src/sparse-codes.ts";
import { relErr } from "./helpers.ts";

const fx = (p: string) => new URL(`./fixtures/${p}`, import.meta.url).pathname;
const root = mkdtempSync(path.join(tmpdir(), "difflens-sae-formats-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const catchErr = async (f: () => unknown): Promise<SaeError> => {
  try {
    await f();
  } catch (e) {
    return e as SaeError;
  }
  throw new Error("no error");
};

function randomSae(dIn: number, dSae: number, k: number, seed: number): Sae {
  const rng = new Rng(seed);
  const r = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  return new Sae(
    { dIn, dSae, activation: { kind: "topk", k }, hookName: "blocks.3.hook_resid_pre" },
    { wEnc: r(dSae * dIn), bEnc: r(dSae), wDec: r(dSae * dIn), bDec: r(dIn) },
  );
}

describe("dictionary_learning ae.pt (real torch.save fixture)", () => {
  const dir = fx("dictionary-learning");
  const expected = JSON.parse(readFileSync(path.join(dir, "expected.json"), "utf8"));
  const check = JSON.parse(readFileSync(path.join(dir, "encode-check.json"), "utf8"));
  it("reads exactly the expected tensors through the allow-listed pickle reader", () => {
    const sd = readTorchStateDict(path.join(dir, "ae.pt"));
    expect([...sd.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected) as [
      string,
      { dtype: string; shape: number[]; values: number[] | number },
    ][]) {
      const got = sd.get(name)!;
      expect(got.shape).toEqual(want.shape);
      expect(Array.from(got.values)).toEqual(
        Array.isArray(want.values) ? want.values.map((v) => Math.fround(v)) : [want.values],
      );
    }
  });
  it("reproduces the library's encode results (threshold and top-k) and reconstruction", async () => {
    expect(detectSaeFormat(dir)).toBe("dictionary_learning");
    const x = new Tensor("f32", [3, 16], Float32Array.from(check.x.flat()));
    const withThreshold = await loadSae(dir);
    expect(withThreshold.activation.kind).toBe("batchtopk");
    expect(relErr(codesToDense(withThreshold.encode(x)), check.threshold_acts.flat())).toBeLessThan(1e-6);
    const topk = await loadSae(dir, { batchTopKUseThreshold: false });
    const codes = topk.encode(x);
    expect(relErr(codesToDense(codes), check.topk_acts.flat())).toBeLessThan(1e-6);
    expect(relErr(topk.decode(codes).data as Float32Array, check.recon_topk.flat())).toBeLessThan(1e-6);
  });
  it("refuses bad archives with clear errors", async () => {
    const forbidden = await catchErr(() => readTorchStateDict(fx("forbidden-class.pt")));
    expect(forbidden.code).toBe("PICKLE_FORBIDDEN_CLASS");
    expect(forbidden.message).toContain("posix.system");
    const short = await catchErr(() => readTorchStateDict(fx("short-storage.pt")));
    expect(short.code).toBe("FORMAT_INVALID");
    expect(short.message).toContain("storage 0");
    const bytes = readFileSync(path.join(dir, "ae.pt"));
    for (const cut of [10, 500, bytes.length - 30]) {
      const e = await catchErr(() => readTorchStateDict("truncated.pt", bytes.subarray(0, cut)));
      expect(e.code, `cut ${cut}`).toBe("ZIP_INVALID");
    }
    // config.json whose dimensions disagree with the weights
    const bad = path.join(root, "dl-bad-dims");
    cpSync(dir, bad, { recursive: true });
    const cfg = JSON.parse(readFileSync(path.join(bad, "config.json"), "utf8"));
    cfg.trainer.activation_dim = 17;
    writeFileSync(path.join(bad, "config.json"), JSON.stringify(cfg));
    const dims = await catchErr(() => loadSae(bad));
    expect(dims.code).toBe("SHAPE_MISMATCH");
    expect(dims.message).toContain("activation_dim=17");
  });
});

describe("SAELens and sparsify folders", () => {
  it("round-trips a TopK SAE through SAELens and sparsify folders identically", async () => {
    const sae = randomSae(12, 40, 5, 1);
    const x = new Tensor(
      "f32",
      [4, 12],
      Float32Array.from({ length: 48 }, (_, i) => Math.sin(i)),
    );
    for (const [fmt, write] of [
      ["saelens", writeSaeLens],
      ["sparsify", writeSparsify],
    ] as const) {
      const dir = path.join(root, `rt-${fmt}`);
      await write(dir, sae);
      expect(detectSaeFormat(dir)).toBe(fmt);
      const back = await loadSae(dir);
      for (const n of ["wEnc", "bEnc", "wDec", "bDec"] as const)
        expect(Array.from(back.weights[n])).toEqual(Array.from(sae.weights[n]));
      expect(back.activation).toEqual(sae.activation);
      expect(Array.from(back.forward(x).data as Float32Array)).toEqual(Array.from(sae.forward(x).data as Float32Array));
    }
  });

  it("reads every shared SAELens and sparsify config version (with small weights of the stated kind)", async () => {
    const dIn = 6,
      dSae = 10;
    const expectKind: Record<string, string> = {};
    for (const lib of ["saelens", "sparsify"]) {
      for (const name of readdirSync(fx(`configs/${lib}`))) {
        const cfg = JSON.parse(readFileSync(fx(`configs/${lib}/${name}/cfg.json`), "utf8"));
        const dir = path.join(root, `${lib}-${name}`);
        mkdirSync(dir, { recursive: true });
        const rng = new Rng(2);
        const r = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
        cfg.d_in = dIn;
        if (lib === "saelens") {
          cfg.d_sae = dSae;
          if (typeof cfg.k === "number") cfg.k = 3;
          if (cfg.activation_fn_kwargs?.k) cfg.activation_fn_kwargs.k = 3;
          const t: Record<string, Tensor> = {
            W_enc: new Tensor("f32", [dIn, dSae], r(dIn * dSae)),
            b_enc: new Tensor("f32", [dSae], r(dSae)),
            W_dec: new Tensor("f32", [dSae, dIn], r(dSae * dIn)),
            b_dec: new Tensor("f32", [dIn], r(dIn)),
          };
          if (JSON.stringify(cfg).includes("jumprelu")) t.threshold = new Tensor("f32", [dSae], r(dSae).map(Math.abs));
          await writeSafetensors(path.join(dir, "sae_weights.safetensors"), t);
        } else {
          cfg.num_latents = dSae;
          cfg.k = 3;
          await writeSafetensors(path.join(dir, "sae.safetensors"), {
            "encoder.weight": new Tensor("f32", [dSae, dIn], r(dSae * dIn)),
            "encoder.bias": new Tensor("f32", [dSae], r(dSae)),
            W_dec: new Tensor("f32", [dSae, dIn], r(dSae * dIn)),
            b_dec: new Tensor("f32", [dIn], r(dIn)),
          });
        }
        writeFileSync(path.join(dir, "cfg.json"), JSON.stringify(cfg));
        const loaded = await catchErr(() => loadSae(dir)).catch(() => null);
        if (loaded instanceof SaeError) {
          expectKind[`${lib}/${name}`] = `error:${loaded.code}`;
          continue;
        }
        const sae = await loadSae(dir);
        expectKind[`${lib}/${name}`] = sae.activation.kind;
        sae.forward(new Tensor("f32", [2, dIn], r(2 * dIn)));
      }
    }
    expect(expectKind).toEqual({
      "saelens/v3.11.0-standard-gemma-2b-res-jb-L10": "relu",
      "saelens/v4.4.5-topk-llama-3.2-3b-it-L23-mlp_out": "topk",
      "saelens/v6.18.0-topk-ASSEMBLED": "topk",
      "saelens/v6.21.0-jumprelu-llama-3.2-1b-it-L7-attn_out": "jumprelu",
      "saelens/v6.36.2-jumprelu-gemma-2-2b-L22-with-training-keys": "jumprelu",
      "saelens/v6.39.0-jumprelu-tiny-aya-hf-hookname": "jumprelu",
      "sparsify/devbranch-transcoder-extra-fields-gpt2-h7-mlp": "error:UNSUPPORTED_ARCHITECTURE",
      "sparsify/sae-2024-multi_topk-num_latents0-llama-3.1-8b-L29-mlp": "topk",
      "sparsify/sae-2024-signed-pythia-410m-L11-mlp": "topk",
      "sparsify/sae_overlap-k32-mlp-4k-layers.3.mlp": "topk",
      "sparsify/skip-transcoder-deepseek-r1-qwen-1.5b-L4-mlp": "error:UNSUPPORTED_ARCHITECTURE",
      "sparsify/v1.3.0-ASSEMBLED": "topk",
    });
  });

  it("rejects unknown architectures, mismatched dimensions and unknown folders", async () => {
    const dir = path.join(root, "gated");
    await writeSaeLens(dir, randomSae(4, 8, 2, 3));
    const cfg = JSON.parse(readFileSync(path.join(dir, "cfg.json"), "utf8"));
    writeFileSync(path.join(dir, "cfg.json"), JSON.stringify({ ...cfg, architecture: "gated" }));
    expect((await catchErr(() => loadSae(dir))).code).toBe("UNSUPPORTED_ARCHITECTURE");
    writeFileSync(path.join(dir, "cfg.json"), JSON.stringify({ ...cfg, d_sae: 9 }));
    const dims = await catchErr(() => loadSae(dir));
    expect(dims.code).toBe("SHAPE_MISMATCH");
    expect(dims.message).toContain("W_enc");
    const empty = path.join(root, "empty");
    mkdirSync(empty);
    expect((await catchErr(() => loadSae(empty))).code).toBe("FORMAT_UNKNOWN");
  });
});
