import { copy, DeviceError, release, type Tensor, toHostAll } from "@difflens/tensor";
import { HookError } from "../errors.ts";
import type { DecoderConfig } from "../families/model-family.ts";
import { cloneF32, fmtShape, sameShape, takeAlongAxis } from "../tensor-utils.ts";
import { type HookSite, parseHookName } from "./hook-table.ts";
import { resolveSharedPositions } from "./positions.ts";

/**
 * What a hook function learns about the call. Hooks see the (possibly left-padded) batch; `attentionMask` and
 * `positionIds` map each padded index back to the sequence: a real token at padded index p of row b has
 * `attentionMask[b*seq + p] === 1` and sits at real position `positionIds[b*seq + p]` of its sequence.
 */
export interface HookContext {
  readonly name: string;
  readonly site: HookSite;
  /** Layer index (-1 for hook_embed, nLayers for ln_final). */
  readonly layer: number;
  readonly batch: number;
  /** Positions in this call (query positions). */
  readonly seq: number;
  /** Tokens already in the KV cache before this call (0 without a cache). */
  readonly pastLength: number;
  /** [batch*seq] 1 = real token, 0 = padding. */
  readonly attentionMask: Uint8Array;
  /** [batch*seq] position ids (real position within the sequence; pads carry 1 as in HF). */
  readonly positionIds: Int32Array;
}

/**
 * A hook: reads the tensor, may change it in place (return nothing) or return a replacement of the same shape, and
 * may be async (the forward pass awaits it). The tensor is f32 with the shape of its hook-table entry and lives on
 * the model's device: on the CPU `t.data` reads it; device-agnostic hooks use kernels (`add(t, v, t)`) or
 * `await toHost(t)` to read it.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook that only reads returns nothing at all
export type HookFn = (tensor: Tensor, ctx: HookContext) => Tensor | void | Promise<Tensor | void>;

/** A hook bound to a name (what the ready-made interventions return). */
export interface HookSpec {
  readonly name: string;
  readonly fn: HookFn;
}

/** The permanent hooks of one model (added with `addHook`, removed by the returned function). */
export class HookRegistry {
  private readonly byName = new Map<string, HookFn[]>();
  constructor(private readonly config: DecoderConfig) {}

  /** Adds a hook; validates the name now (UNKNOWN_HOOK with the nearest name). Returns its remover. */
  add(name: string, fn: HookFn): () => void {
    parseHookName(name, this.config);
    const list = this.byName.get(name) ?? [];
    list.push(fn);
    this.byName.set(name, list);
    return () => {
      const current = this.byName.get(name);
      if (!current) return;
      const i = current.indexOf(fn);
      if (i >= 0) current.splice(i, 1);
      if (current.length === 0) this.byName.delete(name);
    };
  }

  get(name: string): readonly HookFn[] | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }

  clear(): void {
    this.byName.clear();
  }
}

/** Which hook outputs a run keeps (see `runWithCache`). */
export interface CaptureSpec {
  /** Keep hooks whose name passes. */
  readonly accept: (name: string) => boolean;
  /** Keep only these query positions (padded indices; negative counts from the end). Default all. */
  readonly positions?: readonly number[];
  /**
   * Or keep per row: row b's query columns `columns[b]` and, on keyPos axes, its real key indices `keys[b]`;
   * each row is stored as its own [1, …] tensor.
   */
  readonly rows?: { readonly columns: readonly (readonly number[])[]; readonly keys: readonly (readonly number[])[] };
  /** Where captured copies go (one tensor, or one per row); host tensors once `HookRunner.collect` resolved. */
  readonly store: Map<string, Tensor | Tensor[]>;
}

/** A capture taken on a device: a full copy there, restricted to the asked positions once read back. */
interface DeviceCapture {
  readonly name: string;
  readonly site: HookSite;
  readonly copy: Tensor;
}

/** Thrown to stop a forward pass after the `stopAt` hook; caught by the caller that set it. */
export class StopForward {
  constructor(
    readonly name: string,
    readonly tensor: Tensor,
  ) {}
}

export type CallContext = Omit<HookContext, "name" | "site" | "layer">;

/**
 * One forward call's view of the hooks: registry hooks, a capture and a stop point. `run` is what the forward
 * pass calls at every hook site; `wants` lets it skip optional work (hook_result) nobody asked for.
 */
export class HookRunner {
  private readonly onDevice: DeviceCapture[] = [];
  /** Device storage a hook saw or returned: a hook may keep it, so the forward pass never frees it early. */
  private readonly exposed = new WeakSet<object>();
  private readonly freed = new WeakSet<object>();

  constructor(
    private readonly config: DecoderConfig,
    private readonly registry: HookRegistry | undefined,
    readonly call: CallContext,
    private readonly capture?: CaptureSpec,
    private readonly stopAt?: string,
  ) {}

  wants(name: string): boolean {
    return this.registry?.get(name) !== undefined || this.stopAt === name || (this.capture?.accept(name) ?? false);
  }

  /** Runs every hook on `name`, captures, and stops if asked. `shape` is the hook's view of `t`. */
  async run(name: string, t: Tensor, shape: readonly number[]): Promise<Tensor> {
    const fns = this.registry?.get(name);
    const capturing = this.capture?.accept(name) ?? false;
    if (!fns && !capturing && this.stopAt !== name) return t;
    const parsed = parseHookName(name, this.config);
    const ctx: HookContext = { ...this.call, name, site: parsed.site, layer: parsed.layer };
    let current = sameShape(t.shape, shape) ? t : t.reshape(shape);
    if ((fns || this.stopAt === name) && t.storage) this.exposed.add(t.storage);
    if (fns) {
      for (const fn of [...fns]) {
        const replaced = await fn(current, ctx);
        if (replaced !== undefined && replaced !== current) {
          if (!sameShape(replaced.shape, shape) || replaced.dtype !== "f32") {
            throw new HookError(
              "HOOK_SHAPE",
              `hook on "${name}" returned ${replaced.dtype} ${fmtShape(replaced.shape)}; expected f32 ${fmtShape(shape)}`,
              { hook: name, expected: shape, got: replaced.shape },
            );
          }
          if (replaced.device !== t.device) {
            throw new DeviceError(
              `hook on "${name}" returned a tensor on ${replaced.device}; the model runs on ${t.device} (move it with toDevice)`,
            );
          }
          current = replaced;
          if (replaced.storage) this.exposed.add(replaced.storage);
        }
      }
    }
    if (capturing) {
      // On the CPU the restricted copy is taken now; on a device a full copy waits there for `collect`.
      if (current.device === "cpu")
        this.capture!.store.set(name, captureCopy(current, parsed.site, this.call.seq, this.capture!));
      else this.onDevice.push({ name, site: parsed.site, copy: copy(current) });
    }
    if (this.stopAt === name) throw new StopForward(name, current);
    return sameShape(current.shape, t.shape) ? current : current.reshape(t.shape);
  }

  /**
   * Frees device intermediates of this call after their last use, unless a hook saw them (it may keep them; the
   * collector frees those). On the CPU it does nothing.
   */
  release(...tensors: Tensor[]): void {
    for (const t of tensors) {
      if (!t.storage || this.exposed.has(t.storage) || this.freed.has(t.storage)) continue;
      this.freed.add(t.storage); // views share storage: free it once
      release(t);
    }
  }

  /**
   * Reads the captures taken on a device back in one batch (with `extra`, e.g. the logits) and stores them
   * restricted to the asked positions; returns `extra` on the host. On the CPU there is nothing to read.
   */
  async collect(extra: readonly Tensor[] = []): Promise<Tensor[]> {
    const taken = this.onDevice.splice(0);
    const host = await toHostAll([...taken.map((c) => c.copy), ...extra]);
    taken.forEach((c, i) => {
      release(c.copy);
      this.capture!.store.set(c.name, captureCopy(host[i]!, c.site, this.call.seq, this.capture!, true));
    });
    return host.slice(taken.length);
  }
}

/**
 * A copy of a hook tensor restricted to the asked query positions (the "pos" axis of its table entry); per row,
 * one [1, …] copy per row with its own positions and, on a keyPos axis, only its real keys.
 */
function captureCopy(
  t: Tensor,
  site: HookSite,
  seq: number,
  capture: CaptureSpec,
  /** `t` is already a private copy (read back from a device): keep it when no positions are asked. */
  owned = false,
): Tensor | Tensor[] {
  const posAxis = site.dims.indexOf("pos");
  if (capture.rows) {
    const keyAxis = site.dims.indexOf("keyPos");
    const { columns, keys } = capture.rows;
    return columns.map((cols, b) => {
      const item = takeAlongAxis(takeAlongAxis(t, site.dims.indexOf("batch"), [b]), posAxis, cols);
      return keyAxis < 0 ? item : takeAlongAxis(item, keyAxis, keys[b]!);
    });
  }
  if (capture.positions === undefined) return owned ? t : cloneF32(t);
  return takeAlongAxis(t, posAxis, resolveSharedPositions(capture.positions, seq, "runWithCache"));
}
