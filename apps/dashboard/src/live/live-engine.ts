/**
 * Live "type a prompt, see its features": a diffing run's stage SAE applied to the activations of the model it was
 * trained on, per token. Models and SAEs are loaded once and kept in LRU caches (`maxLoadedModels` each); requests
 * run one at a time, so two requests never hold two forward passes (or two loads) in memory, and a request for a
 * model another request is loading shares that load. The forward pass stops at the hook.
 *
 * Values are those of the feature pages: the stage checkpoints were trained on inputs scaled to unit mean squared
 * norm and store that scale folded into their biases (cfg.json `difflens.normalization.folded`), so they take raw
 * activations — as the `features` command fed them — and scaling the inputs again here would be wrong.
 */
import { chatTemplateFor, hookWidth, type OpenedModel, openModel } from "@difflens/app-kit";
import { parseHookName } from "@difflens/runtime";
import { loadSae, type Sae } from "@difflens/sae";
import { Tensor, toFloat32Array } from "@difflens/tensor";
import type { LiveRequest, LiveResponse } from "../api/live-types.ts";
import { DashboardError } from "../errors.ts";
import type { DiscoveredRun } from "../runs/discovered-run.ts";
import { type CheckedLiveRequest, checkLiveRequest } from "./live-request.ts";
import { type LiveTarget, liveTarget, shownPath } from "./live-target.ts";
import { checkLength, liveTokenIds } from "./live-tokens.ts";
import { LruCache } from "./lru-cache.ts";
import { topLatents } from "./top-latents.ts";

export interface LiveEngine {
  run(run: DiscoveredRun, request: LiveRequest): Promise<LiveResponse>;
  /** Waits for the running request, then frees every model and SAE; later runs are LIVE_UNAVAILABLE. */
  close(): Promise<void>;
}

export interface LiveEngineOptions {
  /** Models (and, separately, SAEs) kept loaded; default 2. */
  maxLoadedModels?: number;
  /** One line per model or SAE loaded (the server logs them: a first request takes that long). */
  log?: (line: string) => void;
}

export function createLiveEngine(options: LiveEngineOptions = {}): LiveEngine {
  const capacity = options.maxLoadedModels ?? 2;
  const log = options.log ?? (() => {});
  const models = new LruCache<OpenedModel>(capacity, (m) => m.close());
  const saes = new LruCache<Sae>(capacity, () => {});
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(task: () => Promise<T>): Promise<T> => {
    const next = queue.then(task, task);
    queue = next.catch(() => {});
    return next;
  };

  const modelOf = (run: DiscoveredRun, target: LiveTarget) =>
    models.get(JSON.stringify([target.model.path, target.model.adapter]), async () => {
      const { path: folder, adapter } = target.model;
      log(`live: loading the ${target.side} model ${folder}${adapter ? ` + LoRA ${adapter}` : ""}`);
      try {
        return await openModel(target.model);
      } catch (error) {
        const file = shownPath(run, adapter ?? folder);
        const message = `the ${target.side} model ${file} could not be opened: ${(error as Error).message}`;
        throw new DashboardError("LIVE_UNAVAILABLE", message, { file }, { cause: error });
      }
    });
  const saeOf = (run: DiscoveredRun, target: LiveTarget) =>
    saes.get(target.checkpoint, async () => {
      log(`live: loading the SAE ${target.checkpoint}`);
      try {
        return await loadSae(target.checkpoint);
      } catch (error) {
        const file = shownPath(run, target.checkpoint);
        const message = `${file}: not a readable SAE checkpoint — ${(error as Error).message}`;
        throw new DashboardError("RUN_FILE_INVALID", message, { file }, { cause: error });
      }
    });

  const runOne = async (run: DiscoveredRun, checked: CheckedLiveRequest): Promise<LiveResponse> => {
    if (closed) throw new DashboardError("LIVE_UNAVAILABLE", "the live engine is closed");
    const target = await liveTarget(run, checked.stage);
    const opened = await modelOf(run, target);
    const sae = await saeOf(run, target);
    const { model, tokenizer } = opened;
    const width = checkedHookWidth(model, target, sae, run);
    const t0 = performance.now();
    const template = "chat" in checked.input ? chatTemplateFor(target.chatModel) : opened.template;
    const { ids, scored } = await liveTokenIds(checked.input, tokenizer, template, target.mask);
    checkLength(ids.length, model.config.maxPositions);
    const acts = toFloat32Array(await model.runToHook(ids, target.hook)); // [1, seq, width], read back to the host
    const codes = sae.encode(new Tensor("f32", [ids.length, width], acts.slice(0, ids.length * width)));
    const texts = await tokenizer.decodeMany(Array.from(ids, (id) => [id]));
    const tokens = Array.from(ids, (id, i) => ({
      text: texts[i]!,
      id,
      scored: scored[i] === 1,
      top: scored[i] === 1 ? topLatents(codes, i, checked.topK) : [],
    }));
    const ms = performance.now() - t0;
    return { run: run.id, stage: target.stage, model: target.side, hook: target.hook, tokens, ms };
  };

  return {
    // A malformed request is refused at once, not after the running one.
    run: async (run, request) => {
      const checked = checkLiveRequest(request);
      return oneAtATime(() => runOne(run, checked));
    },
    close: () =>
      oneAtATime(async () => {
        closed = true;
        models.clear();
        saes.clear();
      }),
  };
}

/** The hook's per-token width, which must be the SAE's input width. */
function checkedHookWidth(model: OpenedModel["model"], target: LiveTarget, sae: Sae, run: DiscoveredRun): number {
  let width: number;
  try {
    if (parseHookName(target.hook, model.config).site.dims[1] !== "pos") throw new Error("not a per-token hook");
    width = hookWidth(model.config, target.hook);
  } catch (error) {
    const message = `run.json: config.hook ${target.hook} is not a per-token hook of this model — ${(error as Error).message}`;
    throw new DashboardError("LIVE_UNAVAILABLE", message, { file: "run.json", field: "config.hook" }, { cause: error });
  }
  if (width !== sae.dIn) {
    const file = shownPath(run, target.checkpoint);
    const message = `${file}: the SAE reads ${sae.dIn} values per token, the model's ${target.hook} has ${width}`;
    throw new DashboardError("LIVE_UNAVAILABLE", message, { file, field: "d_in", expected: width, got: sae.dIn });
  }
  return width;
}
