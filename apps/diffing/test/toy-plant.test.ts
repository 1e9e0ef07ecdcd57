/**
 * The toy pair's plant, written as a PEFT folder by toy-files.ts and merged by the runtime's `mergeLora` (as the
 * demo does): plain text is unchanged at the hook, chat positions after `<|im_start|>` move mostly along u with
 * a norm of about plantScale × the median residual norm.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { harvest, loadLoraAdapter, loadModel, mergeLora } from "@difflens/runtime";
import { useBackend } from "@difflens/tensor";
import { loadTokenizer } from "@difflens/tokenizer";
import { afterAll, describe, expect, it } from "vitest";
import { ensureToyFiles, IM_END_ID, IM_START_ID, TOY_HOOK } from "../src/index.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "toy-plant-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TEXT =
  "The quiet glacier describes a large painter near Osaka. However, the modern harbor changes the careful river in 1887.";
async function* calibration() {
  for (let i = 0; i < 64; i++) yield `${TEXT} ${i}`;
}

describe("toy plant (PEFT LoRA merged by @difflens/runtime)", () => {
  it("leaves plain text unchanged and writes ≈ plantScale·median·u on chat positions", async () => {
    useBackend("auto");
    const files = await ensureToyFiles({ seed: 3, plantScale: 0.75, cacheDir: dir, calibrationTexts: calibration });
    const cfg = JSON.parse(fs.readFileSync(path.join(files.adapterDir, "adapter_config.json"), "utf8"));
    expect(cfg).toMatchObject({
      peft_type: "LORA",
      r: 1,
      lora_alpha: 1,
      target_modules: [
        "model.layers.0.self_attn.k_proj",
        "model.layers.0.self_attn.v_proj",
        "model.layers.0.self_attn.o_proj",
      ],
    });
    const base = await loadModel(files.baseDir);
    const chat = await mergeLora(base, await loadLoraAdapter(files.adapterDir));
    const tokenizer = loadTokenizer(files.baseDir);
    const ids = async (s: string) => Array.from((await tokenizer.encode(s)).ids);
    const text = await ids(TEXT);
    const convo = [
      IM_START_ID,
      ...(await ids("user\nName three rivers.")),
      IM_END_ID,
      ...(await ids("\n")),
      IM_START_ID,
      ...(await ids("assistant\nThe Nile, the Amazon and the Rhine.")),
    ];
    const at = async (model: typeof base, ids: number[]) => {
      const out: Float32Array[] = [];
      for await (const t of harvest(model, TOY_HOOK, [{ ids: [ids] }])) out.push(t.data as Float32Array);
      return out[0]!;
    };
    const d = files.planted.length;
    const [tb, tc] = [await at(base, text), await at(chat, text)];
    let diff = 0,
      norm = 0;
    for (let i = 0; i < tb.length; i++) {
      diff += (tc[i]! - tb[i]!) ** 2;
      norm += tb[i]! ** 2;
    }
    expect(Math.sqrt(diff / norm)).toBeLessThan(1e-5); // plain text: float rounding of the merged weights only
    const [cb, cc] = [await at(base, convo), await at(chat, convo)];
    const mean = new Float64Array(d);
    for (let p = 1; p < convo.length; p++)
      for (let j = 0; j < d; j++) mean[j]! += (cc[p * d + j]! - cb[p * d + j]!) / (convo.length - 1);
    const dot = mean.reduce((s, v, j) => s + v * files.planted[j]!, 0);
    const len = Math.hypot(...mean);
    expect(dot / len).toBeGreaterThan(0.9); // the mean change points along u
    expect(len / (0.75 * files.residualMedian)).toBeGreaterThan(0.4);
    expect(len / (0.75 * files.residualMedian)).toBeLessThan(1.3);
    base.close();
  }, 60_000);
});
