import { deviceZeros, release, Tensor, toDevice, toHostAll } from "@difflens/tensor";
import type { SaeTrainConfig } from "./config.ts";
import { PARAM_NAMES, type ParamName, type TrainParams, type TrainState } from "./train-state.ts";

/** TrainParams as tensors on the current backend's device. */
export type DeviceParams = Record<ParamName, Tensor>;

/**
 * Bytes of one block of encoder pre-activations [rows, dSae] f32: bounds the block's rows so the buffer stays
 * far under a device's storage-binding limit (128 MiB on lavapipe; dSae 32768 → 512 rows).
 */
const PRE_ACTIVATION_BYTES = 64 * 2 ** 20;

/**
 * What the device training step keeps on the device between steps: the parameters and Adam moments (uploaded
 * once, read back for checkpoints and at the end) and the gradient accumulators. On a CPU backend nothing is
 * copied: the tensors wrap the TrainState's own arrays, which the step then updates in place.
 */
export class DeviceTrainState {
  /** [dSae, dIn] encoder / decoder gradients and [dSae] encoder-bias gradient; zeroed by Adam after each step. */
  readonly grads: { wEnc: Tensor; wDec: Tensor; bEnc: Tensor };
  /** sparseCodesBackward's host `touched` flags: CPU backends write them, the device step never reads them. */
  readonly touched: Uint8Array;
  /** Rows per encoder block (the [rows, dSae] pre-activation buffer). */
  readonly blockRows: number;
  private readonly preActivationBuffers = new Map<number, Tensor>();
  /** Temporaries of enqueued kernels: released once a later readback proves those kernels finished. */
  private deferred: Tensor[] = [];

  private constructor(
    readonly cfg: Pick<SaeTrainConfig, "dIn" | "dSae">,
    readonly params: DeviceParams,
    readonly adamM: DeviceParams,
    readonly adamV: DeviceParams,
  ) {
    const { dIn: d, dSae: S } = cfg;
    this.grads = { wEnc: deviceZeros([S, d]), wDec: deviceZeros([S, d]), bEnc: deviceZeros([S]) };
    this.touched = new Uint8Array(S);
    this.blockRows = Math.max(1, Math.floor(PRE_ACTIVATION_BYTES / (4 * S)));
  }

  /** Uploads state's parameters and Adam moments to the current backend's device. */
  static upload(state: TrainState, cfg: Pick<SaeTrainConfig, "dIn" | "dSae">): DeviceTrainState {
    const up = (p: TrainParams): DeviceParams => {
      const shapes = paramShapes(cfg);
      const out = {} as DeviceParams;
      for (const n of PARAM_NAMES) out[n] = toDevice(new Tensor("f32", shapes[n], p[n]));
      return out;
    };
    return new DeviceTrainState(cfg, up(state.params), up(state.adamM), up(state.adamV));
  }

  /** Writes the device parameters and moments into state's host arrays (one readback; nothing to do on the CPU). */
  async download(state: TrainState): Promise<void> {
    const groups: [DeviceParams, TrainParams][] = [
      [this.params, state.params],
      [this.adamM, state.adamM],
      [this.adamV, state.adamV],
    ];
    const host = await toHostAll(groups.flatMap(([dev]) => PARAM_NAMES.map((n) => dev[n])));
    let i = 0;
    for (const [, target] of groups) {
      for (const n of PARAM_NAMES) {
        const values = host[i++]!.data as Float32Array;
        if (values !== target[n]) target[n].set(values);
      }
    }
    this.releaseDeferred();
  }

  /** The reusable pre-activation buffer [rows, dSae]. */
  preActivations(rows: number): Tensor {
    let z = this.preActivationBuffers.get(rows);
    if (!z) {
      z = deviceZeros([rows, this.cfg.dSae]);
      this.preActivationBuffers.set(rows, z);
    }
    return z;
  }

  /** Hands over temporaries that kernels enqueued so far may still read. */
  releaseLater(tensors: readonly Tensor[]): void {
    this.deferred.push(...tensors);
  }

  /** Frees the handed-over temporaries: call only after a readback (every earlier kernel has finished). */
  releaseDeferred(): void {
    for (const t of this.deferred) release(t);
    this.deferred = [];
  }

  /** Frees everything on the device (after a final `download`). On the CPU the state's arrays stay as they are. */
  dispose(): void {
    this.releaseDeferred();
    for (const group of [this.params, this.adamM, this.adamV]) for (const n of PARAM_NAMES) release(group[n]);
    for (const t of [this.grads.wEnc, this.grads.wDec, this.grads.bEnc, ...this.preActivationBuffers.values()])
      release(t);
    this.preActivationBuffers.clear();
  }
}

function paramShapes(cfg: Pick<SaeTrainConfig, "dIn" | "dSae">): Record<ParamName, number[]> {
  const { dIn: d, dSae: S } = cfg;
  return { wEnc: [S, d], bEnc: [S], wDec: [S, d], bDec: [d] };
}
