import {
  currentBackend,
  type Device,
  DeviceError,
  type DType,
  gatherRows,
  release,
  Tensor,
  toDevice,
  toHost,
} from "@difflens/tensor";
import { prepareBatch, type TokenInput } from "./batch.ts";
import { hostCopy, weightsOnDevice } from "./device-weights.ts";
import { ConfigError, HookError } from "./errors.ts";
import type { DecoderConfig, DecoderWeights, ModelFamily } from "./families/model-family.ts";
import { familyByName } from "./families/registry.ts";
import type { ForwardBatch, LogitsMode } from "./forward-batch.ts";
import { ActivationCache } from "./hooks/activation-cache.ts";
import {
  type CaptureSpec,
  type HookFn,
  HookRegistry,
  HookRunner,
  type HookSpec,
  StopForward,
} from "./hooks/hook-registry.ts";
import { hookNames, hookShape, parseHookName } from "./hooks/hook-table.ts";
import { isPerRow, type Positions, realColumns, resolvePerRow, resolveSharedPositions } from "./hooks/positions.ts";
import { KvCache } from "./kv-cache.ts";

/** Defaults for generation read from `generation_config.json` (or config.json). */
export interface GenerationDefaults {
  /** Tokens that stop generation. */
  readonly eosTokenIds: readonly number[];
  readonly padTokenId: number | null;
  readonly temperature: number | null;
  readonly topP: number | null;
}

export interface ModelInit<C extends DecoderConfig = DecoderConfig, W extends DecoderWeights = DecoderWeights> {
  /** Any family's config; its `architecture` picks the family unless `family` is given. */
  readonly config: C;
  /** The family's weights (what its `bindWeights` returned). */
  readonly weights: W;
  /** The family (default: the registered family named by `config.architecture`). */
  readonly family?: ModelFamily<C, W>;
  /** The dtype the matrices are stored in (what a saved folder uses). */
  readonly dtype: DType;
  readonly generation?: GenerationDefaults;
  /** The HF folder it was loaded from, if any (tokenizer files live there). */
  readonly folder?: string | null;
  /** Releases memory maps / file handles. */
  readonly close?: () => void;
}

export interface ForwardOptions {
  /** Which logits to compute (default "all"). */
  readonly logits?: Exclude<LogitsMode, "none">;
  /** Continue from (and extend) this cache. */
  readonly kvCache?: KvCache;
}

export interface RunWithCacheOptions {
  /** Hook names to keep (validated; unknown names suggest the nearest). */
  readonly names?: readonly string[];
  /** Or: keep hooks whose name passes. */
  readonly filter?: (name: string) => boolean;
  /**
   * Keep only these query positions. Default all. A list (`[0, -1]`) means padded columns of the call, shared by
   * every row; `{ perRow: [[-1], [3], [0, 5]] }` means each item's own positions (0 = its first real token, −1 =
   * its last) and gives per-item results: `cache.item(row, name)`, or `cache.get(name)` stacked.
   */
  readonly positions?: Positions;
  /** Logits to compute; "none" stops after the deepest kept hook (no compute past it). Default "all". */
  readonly logits?: LogitsMode;
  readonly kvCache?: KvCache;
}

/**
 * A loaded model: config + weights + permanent hooks; every call is a fresh forward pass (llm.c style).
 * The weights live on the device of the backend current when the model is made (`device`); every call that runs
 * the model is async and hands back host tensors (logits, cache entries), read back in one batch at its end.
 */
export class Model<C extends DecoderConfig = DecoderConfig, W extends DecoderWeights = DecoderWeights> {
  /** The config: the family's own type (a loaded model's is DecoderConfig: narrow by `config.architecture`). */
  readonly config: C;
  /** The family whose forward pass, hook sites and weight map this model uses (chosen by config.architecture). */
  readonly family: ModelFamily<C, W>;
  /** The weights the forward pass reads, on `device`. */
  readonly weights: W;
  /** The same weights on the host (the very tensors of `weights` on the CPU): what saving and LoRA merges read. */
  readonly hostWeights: W;
  /** Where the weights live (and so every activation of a call). */
  readonly device: Device;
  readonly dtype: DType;
  readonly generation: GenerationDefaults;
  readonly folder: string | null;
  /** Hooks that stay until removed (`addHook`) — `withHooks` is the scoped way. */
  readonly hooks: HookRegistry;
  private readonly closer: (() => void) | undefined;

  constructor(init: ModelInit<C, W>) {
    this.config = init.config;
    this.family = init.family ?? (familyByName(init.config.architecture) as ModelFamily<C, W>);
    if (this.family.name !== init.config.architecture) {
      throw new ConfigError(
        "CONFIG_CONTRADICTION",
        `Model: the config is a ${init.config.architecture} config but the family given is ${this.family.name}`,
        { field: "architecture", got: init.config.architecture, expected: this.family.name },
      );
    }
    this.hostWeights = init.weights;
    this.device = currentBackend().device;
    this.weights = weightsOnDevice(init.weights);
    this.dtype = init.dtype;
    this.generation = init.generation ?? {
      eosTokenIds: init.config.eosTokenIds,
      padTokenId: null,
      temperature: null,
      topP: null,
    };
    this.folder = init.folder ?? null;
    this.hooks = new HookRegistry(init.config);
    this.closer = init.close;
  }

  /** Every hook name, in forward order. */
  hookNames(): string[] {
    return hookNames(this.config);
  }

  /** The shape a hook tensor has for a call of `batch` rows × `seq` positions (keyPos = pastLength + seq). */
  hookShape(name: string, batch: number, seq: number, pastLength = 0): number[] {
    return hookShape(parseHookName(name, this.config).site, this.config, { batch, pos: seq, keyPos: pastLength + seq });
  }

  /** Adds a permanent hook; returns its remover. */
  addHook(name: string, fn: HookFn): () => void {
    return this.hooks.add(name, fn);
  }

  /**
   * Runs `fn` with the hooks attached and removes them afterwards, also when `fn` throws or its promise rejects.
   * Accepts HookSpecs (what the interventions return) or a record name → fn.
   */
  withHooks<T>(hooks: readonly HookSpec[] | Readonly<Record<string, HookFn>>, fn: () => T): T {
    const specs: HookSpec[] = Array.isArray(hooks)
      ? [...(hooks as readonly HookSpec[])]
      : Object.entries(hooks as Record<string, HookFn>).map(([name, f]) => ({ name, fn: f }));
    const removers: Array<() => void> = [];
    const removeAll = (): void => {
      for (const r of removers.reverse()) r();
    };
    try {
      for (const s of specs) removers.push(this.hooks.add(s.name, s.fn));
    } catch (e) {
      removeAll();
      throw e;
    }
    let result: T;
    try {
      result = fn();
    } catch (e) {
      removeAll();
      throw e;
    }
    if (result instanceof Promise) return result.finally(removeAll) as T;
    removeAll();
    return result;
  }

  /** Logits [batch, seq, vocab] ([batch, 1, vocab] with logits "last") on the host; hooks run. */
  async forward(input: TokenInput, opts: ForwardOptions = {}): Promise<Tensor> {
    const batch = prepareBatch(this.config, input, opts.kvCache);
    return (await this.forwardPrepared(batch, opts.logits ?? "all", opts.kvCache))!;
  }

  /** A forward pass on an already prepared batch (generation, harvest); the logits on the host. */
  async forwardPrepared(batch: ForwardBatch, logits: LogitsMode, kv?: KvCache): Promise<Tensor | undefined> {
    const hooks = new HookRunner(this.config, this.hooks, callContext(batch, kv));
    const onDevice = await this.run(batch, hooks, kv, logits);
    return onDevice && hostCopy(onDevice);
  }

  /** A forward pass that keeps the asked hook outputs (copies, positions restricted) — see RunWithCacheOptions. */
  async runWithCache(
    input: TokenInput,
    opts: RunWithCacheOptions = {},
  ): Promise<{ logits: Tensor | undefined; cache: ActivationCache }> {
    const kv = opts.kvCache;
    const batch = prepareBatch(this.config, input, kv);
    if (opts.names && opts.filter) throw new HookError("BAD_ARGUMENT", "runWithCache: give names or filter, not both");
    const names = opts.names ? new Set(opts.names.map((n) => parseHookName(n, this.config).name)) : undefined;
    const accept = names ? (n: string) => names.has(n) : (opts.filter ?? (() => true));
    const store = new Map<string, Tensor | Tensor[]>();
    let capture: CaptureSpec = { accept, store };
    let rowPositions: number[][] | null = null;
    if (isPerRow(opts.positions)) {
      const real = realColumns(batch.attentionMask, batch.batch, batch.seq);
      const { items, columns } = resolvePerRow(opts.positions, real, "runWithCache");
      capture = { ...capture, rows: { columns, keys: realKeys(real, kv) } };
      rowPositions = items;
    } else if (opts.positions) {
      capture = { ...capture, positions: resolveSharedPositions(opts.positions, batch.seq, "runWithCache") };
    }
    const logitsMode = opts.logits ?? "all";
    let stopAt: string | undefined;
    if (logitsMode === "none" && names && names.size > 0) {
      stopAt = [...names].map((n) => parseHookName(n, this.config)).sort((a, b) => b.order - a.order)[0]!.name;
    }
    const runner = new HookRunner(this.config, this.hooks, callContext(batch, kv), capture, stopAt);
    let onDevice: Tensor | undefined;
    try {
      onDevice = await this.run(batch, runner, kv, logitsMode);
    } catch (e) {
      if (!(e instanceof StopForward)) throw e;
    }
    // the captures and the logits come back together
    const [logits] = await runner.collect(onDevice ? [onDevice] : []);
    if (onDevice) release(onDevice);
    return { logits, cache: new ActivationCache(store, capture.positions ?? null, rowPositions) };
  }

  /**
   * Runs the forward pass up to hook `name` (after its hooks ran) and returns that tensor on the host; nothing past
   * it is computed. On the CPU it is the live activation (no copy).
   */
  runToHook(input: TokenInput, name: string): Promise<Tensor> {
    const batch = prepareBatch(this.config, input);
    return this.runToHookPrepared(batch, name);
  }

  /**
   * `runToHook` on a prepared batch. With `rows` (flat indices b·seq + s of a [batch, seq, …] hook), only those
   * rows come back, gathered on the device before the read: [rows.length, width].
   */
  async runToHookPrepared(batch: ForwardBatch, name: string, rows?: Int32Array): Promise<Tensor> {
    parseHookName(name, this.config);
    const runner = new HookRunner(this.config, this.hooks, callContext(batch, undefined), undefined, name);
    try {
      await this.run(batch, runner, undefined, "none");
    } catch (e) {
      if (!(e instanceof StopForward)) throw e;
      if (!rows) return toHost(e.tensor); // a hook may hold it: not released
      const t = e.tensor; // [batch, seq, …]
      const index = toDevice(new Tensor("i32", [rows.length], rows));
      return hostCopy(gatherRows(t.reshape([batch.batch * batch.seq, t.size / (batch.batch * batch.seq)]), index));
    }
    throw new HookError("UNKNOWN_HOOK", `forward pass ended without reaching "${name}"`, { got: name });
  }

  /** The forward pass on device tensors; refuses to start when the current backend computes elsewhere. */
  private run(
    batch: ForwardBatch,
    hooks: HookRunner,
    kv: KvCache | undefined,
    logits: LogitsMode,
  ): Promise<Tensor | undefined> {
    const current = currentBackend();
    if (current.device !== this.device) {
      throw new DeviceError(
        `the model's weights live on ${this.device} but the current backend (${current.name}) computes on ${current.device}: select the backend the model was loaded with, or load it again under this one`,
      );
    }
    if (kv && kv.device !== this.device) {
      throw new DeviceError(
        `the KV cache lives on ${kv.device}, the model on ${this.device}: make it with model.createKvCache`,
      );
    }
    return this.family.forward(this.config, this.weights, batch, hooks, kv, logits);
  }

  /** A KV cache for `batch` rows and up to `capacity` positions. */
  createKvCache(batch: number, capacity: number): KvCache {
    return new KvCache(this.config, batch, capacity);
  }

  /** Releases memory maps; the model is unusable afterwards. */
  close(): void {
    this.closer?.();
  }
}

/** Each row's real key indices: its cached real keys, then this call's real columns after them. */
function realKeys(real: readonly (readonly number[])[], kv: KvCache | undefined): number[][] {
  const past = kv?.length ?? 0;
  return real.map((cols, b) => {
    const keys: number[] = [];
    for (let j = 0; j < past; j++) if (kv!.keyMask[b * kv!.capacity + j] === 1) keys.push(j);
    return [...keys, ...cols.map((c) => past + c)];
  });
}

function callContext(batch: ForwardBatch, kv: KvCache | undefined) {
  return {
    batch: batch.batch,
    seq: batch.seq,
    pastLength: kv?.length ?? 0,
    attentionMask: batch.attentionMask,
    positionIds: batch.positionIds,
  };
}
