import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Tensor } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import type { SaeError } from "../src/errors.ts";
import { convertSae } from "../src/formats/convert.ts";
import { detectSaeFormat, loadSae, saeWeightsSha256 } from "../src/formats/formats.ts";
import { gemmaScopeHook, readNpz } from "../src/formats/gemma-scope.ts";
import { readNpy } from "../src/formats/npy.ts";
import { readSaeShape } from "../src/formats/sae-shape.ts";
import { writeSafetensors } from "../src/safetensors-io.ts";
import { codesToDense } from "../src/sparse-codes.ts";
import { relErr } from "./helpers.ts";

// Fixtures: tools/reference/sae/make_scope_fixtures.py (numpy 1.24, torch 1.13; expected values in float64).
const fx = (p: string) => new URL(`./fixtures/scope/${p}`, import.meta.url).pathname;
const json = (p: string) => JSON.parse(readFileSync(fx(p), "utf8"));
const root = mkdtempSync(path.join(tmpdir(), "difflens-sae-scope-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const catchErr = async (f: () => unknown): Promise<SaeError> => {
  try {
    await f();
  } catch (e) {
    return e as SaeError;
  }
  throw new Error("no error");
};

describe("strict .npy reader", () => {
  const expected = json("npy/expected.json") as { values: number[]; shape: number[] };
  const read = (name: string, opts = {}) => readNpy(readFileSync(fx(`npy/${name}`)), name, opts);
  it("reads header versions 1, 2, 3 and float dtypes f4, f2, f8, and bfloat16 saved as a 2-byte void when asked", () => {
    for (const [name, dtype, tol] of [
      ["f4-v1.npy", "f32", 0],
      ["f4-v2.npy", "f32", 0],
      ["f4-v3.npy", "f32", 0],
      ["f2.npy", "f16", 0],
      ["f8.npy", "f64", 0],
      ["bf16-void.npy", "bf16", 1e-2],
    ] as const) {
      const a = read(name, { voidAsBf16: true });
      expect(a.dtype, name).toBe(dtype);
      expect(a.shape, name).toEqual(expected.shape);
      expect(relErr(a.values, expected.values), name).toBeLessThanOrEqual(tol);
    }
    expect(read("scalar.npy").shape).toEqual([]);
    expect(Array.from(read("scalar.npy").values)).toEqual([2.5]);
    expect(read("vector.npy").shape).toEqual([4]);
  });
  it("refuses what it cannot read exactly, naming the array", () => {
    for (const [name, why] of [
      ["object.npy", /object array .*nothing is unpickled/],
      ["fortran.npy", /Fortran-order/],
      ["big-endian.npy", /dtype ">f4" is not supported/],
      ["int32.npy", /dtype "<i4" is not supported/],
      ["structured.npy", /structured dtype/],
      ["bf16-void.npy", /2-byte void/],
    ] as const) {
      const e = (() => {
        try {
          read(name);
        } catch (err) {
          return err as SaeError;
        }
        throw new Error(`${name} was read`);
      })();
      expect(e.code, name).toBe("FORMAT_INVALID");
      expect(e.message, name).toContain(name);
      expect(e.message, name).toMatch(why);
    }
    const good = readFileSync(fx("npy/f4-v1.npy"));
    expect(() => readNpy(good.subarray(0, good.length - 4), "cut.npy")).toThrow(/needs 48 data bytes, the file has 44/);
    expect(() => readNpy(Buffer.concat([good, Buffer.alloc(4)]), "long.npy")).toThrow(/the file has 52/);
    expect(() => readNpy(Buffer.from("PK\x03\x04 not npy"), "zip.npy")).toThrow(/no \\x93NUMPY magic/);
    const v9 = Uint8Array.from(good);
    v9[6] = 9;
    expect(() => readNpy(v9, "v9.npy")).toThrow(/version 9\.0 is not supported/);
    const evil = Buffer.from(good);
    evil.write("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}", 10, "latin1");
    expect(() => readNpy(evil, "evil.npy")).toThrow(/header/);
  });
});

describe("Gemma Scope params.npz", () => {
  const dir = fx("gemma-scope-2b-pt-res/layer_3/width_32/average_l0_5");
  const expected = json("gemma-scope-expected.json");
  it("loads as a JumpReLU SAE that reproduces numpy's float64 codes and reconstructions", async () => {
    expect(detectSaeFormat(dir)).toBe("gemma_scope");
    const sae = await loadSae(dir);
    expect([sae.dIn, sae.dSae, sae.activation.kind, sae.applyBDecToInput]).toEqual([16, 32, "jumprelu", false]);
    expect(sae.hookName).toBe("blocks.3.hook_resid_post");
    const x = new Tensor("f32", [3, 16], Float32Array.from(expected.x.flat()));
    const codes = sae.encode(x);
    expect(relErr(codesToDense(codes), expected.acts.flat())).toBeLessThan(1e-6);
    expect(relErr(sae.decode(codes).data as Float32Array, expected.recon.flat())).toBeLessThan(1e-6);
    // np.savez_compressed: the same arrays in deflated entries
    const compressed = await loadSae(fx("gemma-scope-compressed"));
    expect(relErr(compressed.weights.wEnc, sae.weights.wEnc)).toBe(0);
    expect(compressed.hookName).toBeNull();
    // from W_enc's .npy header alone (stored entry) or the inflated entry (compressed)
    expect(await readSaeShape(dir)).toEqual({ format: "gemma_scope", dIn: 16, dSae: 32 });
    expect(await readSaeShape(fx("gemma-scope-compressed"))).toEqual({ format: "gemma_scope", dIn: 16, dSae: 32 });
    expect(saeWeightsSha256(dir)).toMatch(/^[0-9a-f]{64}$/);
  });
  it("names the hook from Gemma Scope paths", () => {
    expect(
      gemmaScopeHook("/hub/models--google--gemma-scope-9b-it-res/snapshots/abc/layer_20/width_16k/average_l0_91"),
    ).toBe("blocks.20.hook_resid_post");
    expect(gemmaScopeHook("gemma-scope-2b-pt-mlp/layer_7/width_65k/average_l0_12")).toBe("blocks.7.hook_mlp_out");
    expect(gemmaScopeHook("gemma-scope-2b-pt-att/layer_1/width_16k/average_l0_8")).toBe("blocks.1.attn.hook_z");
    expect(gemmaScopeHook("somewhere/layer_3")).toBeNull();
  });
  it("refuses a wrong shape, a wrong dtype, an object array and a missing array, naming the array", async () => {
    for (const [bad, code, array, why] of [
      ["shape", "SHAPE_MISMATCH", "b_enc", /"b_enc" has shape \[31\], expected \[32\]/],
      ["dtype", "FORMAT_INVALID", "threshold", /dtype "<i4" is not supported/],
      ["object", "FORMAT_INVALID", "threshold", /object array/],
      ["missing", "FORMAT_INVALID", "threshold", /array "threshold" missing/],
    ] as const) {
      const e = await catchErr(() => loadSae(fx(`bad-npz/${bad}`)));
      expect(e.code, bad).toBe(code);
      expect(e.message, bad).toContain(array);
      expect(e.message, bad).toMatch(why);
    }
    expect(readNpz(fx("bad-npz/shape/params.npz")).get("b_enc")!.shape).toEqual([31]);
  });
});

describe("Qwen Scope layer{n}.sae.pt", () => {
  const file = fx("SAE-Res-Tiny-W1K-L0_4/layer2.sae.pt");
  const expected = json("qwen-scope-expected.json");
  it("loads one layer file as a TopK SAE (k from the repo name) matching torch's float64 codes", async () => {
    expect(detectSaeFormat(file)).toBe("qwen_scope");
    const sae = await loadSae(file);
    expect([sae.dIn, sae.dSae, sae.activation, sae.applyBDecToInput]).toEqual([16, 32, { kind: "topk", k: 4 }, false]);
    expect(sae.hookName).toBe("blocks.2.hook_resid_post");
    const x = new Tensor("f32", [3, 16], Float32Array.from(expected.x.flat()));
    const codes = sae.encode(x);
    expect(relErr(codesToDense(codes), expected.acts.flat())).toBeLessThan(1e-6);
    expect(relErr(sae.decode(codes).data as Float32Array, expected.recon.flat())).toBeLessThan(1e-6);
    expect(saeWeightsSha256(file)).toMatch(/^[0-9a-f]{64}$/);
    expect(await readSaeShape(file)).toEqual({ format: "qwen_scope", dIn: 16, dSae: 32 });
  });
  it("converts to our checkpoint layout (b_dec folded into b_enc), its lineage naming the file", async () => {
    const dst = path.join(root, "qwen-converted");
    const result = await convertSae(file, dst, "difflens");
    expect([result.from, result.k, result.sourceSha256]).toEqual(["qwen_scope", 4, saeWeightsSha256(file)]);
    const x = new Tensor("f32", [3, 16], Float32Array.from(expected.x.flat()));
    expect(relErr(codesToDense((await loadSae(dst)).encode(x)), expected.acts.flat())).toBeLessThan(1e-5);
  });
  it("asks for one layer's file given the repo folder, and for k when the path does not name it", async () => {
    const e = await catchErr(() => detectSaeFormat(fx("SAE-Res-Tiny-W1K-L0_4")));
    expect(e.code).toBe("FORMAT_UNKNOWN");
    expect(e.message).toMatch(/Qwen Scope repo \(1 layer files\); pass one layer's file, e\.g\. .*layer2\.sae\.pt/);
    const bare = path.join(root, "qwen", "layer2.sae.pt");
    mkdirSync(path.dirname(bare), { recursive: true });
    cpSync(file, bare);
    expect((await catchErr(() => loadSae(bare))).message).toMatch(/no k/);
    expect((await loadSae(bare, { k: 3 })).activation).toEqual({ kind: "topk", k: 3 });
  });
});

describe("SAELens configs for Gemma / Llama / Qwen3 hooks", () => {
  const dIn = 4;
  const dSae = 6;
  const weights = (withThreshold: boolean) => ({
    W_enc: new Tensor("f32", [dIn, dSae], new Float32Array(dIn * dSae).fill(0.5)),
    b_enc: new Tensor("f32", [dSae], Float32Array.from([0, 0.1, 0.2, 0.3, 0.4, 0.5])),
    W_dec: new Tensor("f32", [dSae, dIn], new Float32Array(dSae * dIn).fill(0.25)),
    b_dec: new Tensor("f32", [dIn], new Float32Array(dIn)),
    ...(withThreshold ? { threshold: new Tensor("f32", [dSae], new Float32Array(dSae).fill(2.2)) } : {}),
  });
  const write = async (name: string, cfg: Record<string, unknown>, withThreshold: boolean) => {
    const dir = path.join(root, name);
    mkdirSync(dir, { recursive: true });
    await writeSafetensors(path.join(dir, "sae_weights.safetensors"), weights(withThreshold), { format: "pt" });
    writeFileSync(path.join(dir, "cfg.json"), JSON.stringify({ d_in: dIn, d_sae: dSae, ...cfg }));
    return dir;
  };
  it("reads v6 JumpReLU (threshold tensor), Llama Scope's scalar jump_relu_threshold, TopK and pre-6 hook_point", async () => {
    const x = new Tensor("f32", [1, dIn], Float32Array.from([1, 1, 1, 1])); // pre = 2 + b_enc
    const gemma = await loadSae(
      await write(
        "gemma",
        { architecture: "jumprelu", apply_b_dec_to_input: false, metadata: { hook_name: "blocks.12.hook_resid_post" } },
        true,
      ),
    );
    expect(gemma.hookName).toBe("blocks.12.hook_resid_post");
    expect(Array.from(codesToDense(gemma.encode(x)))).toEqual([0, 0, 0, 2.3, 2.4, 2.5].map(Math.fround));
    const llama = await loadSae(
      await write(
        "llama",
        {
          architecture: "jumprelu",
          jump_relu_threshold: 2.35,
          apply_b_dec_to_input: false,
          hook_name: "blocks.15.hook_resid_post",
        },
        false,
      ),
    );
    expect(llama.hookName).toBe("blocks.15.hook_resid_post");
    expect(Array.from(codesToDense(llama.encode(x)))).toEqual([0, 0, 0, 0, 2.4, 2.5].map(Math.fround));
    const qwen3 = await loadSae(
      await write(
        "qwen3",
        { hook_point: "blocks.20.hook_resid_post", activation_fn_str: "topk", activation_fn_kwargs: { k: 2 } },
        false,
      ),
    );
    expect([qwen3.hookName, qwen3.activation]).toEqual(["blocks.20.hook_resid_post", { kind: "topk", k: 2 }]);
  });
});
