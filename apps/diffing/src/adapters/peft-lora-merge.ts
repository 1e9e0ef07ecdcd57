/**
 * TEMPORARY ADAPTER — `@difflens/runtime` will own PEFT LoRA loading and merging (packages/runtime/src/lora/ is
 * still empty while this app is written). Replace `mergePeftAdapter` by the runtime's function when it lands;
 * the folder format written by `writePeftAdapter` is PEFT's own, so nothing else changes.
 *
 * PEFT layout: adapter_config.json (r, lora_alpha, target_modules, use_rslora, fan_in_fan_out) and
 * adapter_model.safetensors with `base_model.model.<module>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r].
 * Merge: W ← W + scaling·B·A with scaling = lora_alpha / r (lora_alpha / √r with rsLoRA).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Tensor, cast, readSafetensors, toFloat32Array, writeSafetensors } from "@difflens/tensor";
import { Model, type Qwen2LayerWeights, type Qwen2Weights } from "@difflens/runtime";
import { DiffingError } from "../errors.ts";

/** One LoRA pair in PEFT's layout: ΔW = scaling·B·A. */
export interface PeftLoraPair {
  /** HF module name, e.g. "model.layers.0.self_attn.k_proj". */
  readonly module: string;
  readonly a: Tensor<"f32">; // [r, in]
  readonly b: Tensor<"f32">; // [out, r]
}

const MODULE_FIELDS: Readonly<Record<string, keyof Qwen2LayerWeights>> = Object.freeze({
  "self_attn.q_proj": "qProj", "self_attn.k_proj": "kProj", "self_attn.v_proj": "vProj", "self_attn.o_proj": "oProj",
  "mlp.gate_proj": "gateProj", "mlp.up_proj": "upProj", "mlp.down_proj": "downProj",
});

/** Writes a PEFT adapter folder (atomically: temp folder, then rename). `baseModel` goes in as written. */
export async function writePeftAdapter(dir: string, pairs: readonly PeftLoraPair[], opts: { r: number; alpha: number; baseModel: string }): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const tensors: Record<string, Tensor> = {};
  for (const p of pairs) {
    tensors[`base_model.model.${p.module}.lora_A.weight`] = p.a;
    tensors[`base_model.model.${p.module}.lora_B.weight`] = p.b;
  }
  await writeSafetensors(path.join(tmp, "adapter_model.safetensors"), tensors, { format: "pt" });
  const targets = [...new Set(pairs.map((p) => p.module.split(".").at(-1)!))];
  const layers = [...new Set(pairs.map((p) => Number(/layers\.(\d+)\./.exec(p.module)?.[1])))].filter(Number.isInteger);
  const config = {
    peft_type: "LORA", task_type: "CAUSAL_LM", base_model_name_or_path: opts.baseModel, r: opts.r, lora_alpha: opts.alpha,
    target_modules: targets, layers_to_transform: layers, lora_dropout: 0, bias: "none", fan_in_fan_out: false,
    use_rslora: false, inference_mode: true,
  };
  fs.writeFileSync(path.join(tmp, "adapter_config.json"), `${JSON.stringify(config, null, 2)}\n`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
}

/** Reads a PEFT LoRA folder: the scaling and every (A, B) pair, checked for shapes against each other. */
export async function readPeftAdapter(dir: string): Promise<{ scaling: number; pairs: PeftLoraPair[]; config: Record<string, unknown> }> {
  const cfgFile = path.join(dir, "adapter_config.json");
  if (!fs.existsSync(cfgFile)) throw new DiffingError("ADAPTER_INVALID", `${dir}: no adapter_config.json — not a PEFT adapter folder`, { file: cfgFile });
  const config = JSON.parse(fs.readFileSync(cfgFile, "utf8")) as Record<string, unknown>;
  if (config.peft_type !== undefined && config.peft_type !== "LORA") {
    throw new DiffingError("ADAPTER_INVALID", `${cfgFile}: peft_type ${JSON.stringify(config.peft_type)} is not LORA`, { file: cfgFile, field: "peft_type", expected: "LORA", got: config.peft_type });
  }
  if (config.fan_in_fan_out === true) throw new DiffingError("ADAPTER_INVALID", `${cfgFile}: fan_in_fan_out adapters (GPT-2 Conv1D) are not supported`, { file: cfgFile, field: "fan_in_fan_out" });
  const r = config.r, alpha = config.lora_alpha;
  if (typeof r !== "number" || !(r > 0) || typeof alpha !== "number") {
    throw new DiffingError("ADAPTER_INVALID", `${cfgFile}: r and lora_alpha must be numbers`, { file: cfgFile, field: "r", got: { r, alpha } });
  }
  const scaling = config.use_rslora === true ? alpha / Math.sqrt(r) : alpha / r;
  const weightsFile = path.join(dir, "adapter_model.safetensors");
  if (!fs.existsSync(weightsFile)) throw new DiffingError("ADAPTER_INVALID", `${dir}: no adapter_model.safetensors`, { file: weightsFile });
  const { tensors } = await readSafetensors(weightsFile);
  const entries = Object.entries(tensors);
  const byName = new Map(entries);
  const pairs: PeftLoraPair[] = [];
  for (const [name, a] of entries) {
    const m = /^base_model\.model\.(.+)\.lora_A(?:\.default)?\.weight$/.exec(name);
    if (!m) continue;
    const b = byName.get(name.replace(".lora_A", ".lora_B"));
    if (!b) throw new DiffingError("ADAPTER_INVALID", `${weightsFile}: ${name} has no lora_B partner`, { file: weightsFile, field: name });
    if (a.shape[0] !== b.shape[1]) {
      throw new DiffingError("ADAPTER_INVALID", `${weightsFile}: ${m[1]} has A [${a.shape}] and B [${b.shape}] of different rank`, { file: weightsFile, field: m[1] });
    }
    pairs.push({ module: m[1]!, a: f32(a), b: f32(b) });
  }
  if (pairs.length === 0) throw new DiffingError("ADAPTER_INVALID", `${weightsFile}: no lora_A/lora_B tensors`, { file: weightsFile });
  return { scaling, pairs, config };
}

/** The base model with the adapter merged (W + scaling·B·A in f32, stored back in the base's dtype); base is untouched. */
export async function mergePeftAdapter(base: Model, adapterDir: string): Promise<Model> {
  const { scaling, pairs } = await readPeftAdapter(adapterDir);
  const layers = base.weights.layers.map((l) => ({ ...l }) as { -readonly [K in keyof Qwen2LayerWeights]: Qwen2LayerWeights[K] });
  for (const p of pairs) {
    const m = /^model\.layers\.(\d+)\.(self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)$/.exec(p.module);
    const field = m ? MODULE_FIELDS[m[2]!] : undefined;
    const layer = m ? layers[Number(m[1])] : undefined;
    if (!m || !field || !layer) {
      throw new DiffingError("ADAPTER_INVALID", `${adapterDir}: LoRA target ${p.module} is not a Qwen2 linear weight of this model`, { file: adapterDir, field: p.module });
    }
    const w = layer[field];
    const [out, inn] = w.shape as [number, number];
    const rank = p.a.shape[0]!;
    if (p.a.shape[1] !== inn || p.b.shape[0] !== out) {
      throw new DiffingError("ADAPTER_INVALID", `${adapterDir}: ${p.module} is [${out}, ${inn}] but the adapter gives B [${p.b.shape}]·A [${p.a.shape}]`, { file: adapterDir, field: p.module, expected: [out, inn] });
    }
    const merged = toFloat32Array(w).slice(); // [out, in]
    const A = p.a.data as Float32Array, B = p.b.data as Float32Array;
    for (let o = 0; o < out; o++) {
      for (let q = 0; q < rank; q++) {
        const coef = scaling * B[o * rank + q]!;
        if (coef === 0) continue;
        const row = o * inn, arow = q * inn;
        for (let i = 0; i < inn; i++) merged[row + i]! += coef * A[arow + i]!;
      }
    }
    const t = new Tensor("f32", [out, inn], merged);
    (layer as Record<string, Tensor>)[field] = w.dtype === "f32" ? t : cast(t, w.dtype as "bf16" | "f16");
  }
  const weights: Qwen2Weights = { ...base.weights, layers };
  return new Model({ config: base.config, weights, dtype: base.dtype, generation: base.generation, folder: base.folder });
}

function f32(t: Tensor): Tensor<"f32"> {
  return t.dtype === "f32" ? (t as Tensor<"f32">) : new Tensor("f32", t.shape, toFloat32Array(t));
}
