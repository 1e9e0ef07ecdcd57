import { release, type Tensor, toDevice } from "@difflens/tensor";
import { DeviceTrainState } from "../train/device-train-state.ts";
import type { CrosscoderTrainConfig } from "./config.ts";
import type { CrosscoderTrainState } from "./state.ts";

/**
 * What a crosscoder keeps on the device between steps: the parameters, Adam moments and gradient buffers in a
 * DeviceTrainState of width 2·dIn (a crosscoder's [dSae, 2·dIn] matrices are an SAE's of that width, so upload,
 * download and deferred release are the SAE's), and the constant index / selector tensors the L1 step builds once.
 * On a CPU backend nothing is copied: the tensors wrap the state's own arrays, which the steps update in place.
 */
export class CrosscoderDeviceState {
  private readonly constants = new Map<string, Tensor>();

  private constructor(readonly train: DeviceTrainState) {}

  /** Uploads state's parameters and Adam moments to the current backend's device. */
  static upload(state: CrosscoderTrainState, cfg: Pick<CrosscoderTrainConfig, "dIn" | "dSae">): CrosscoderDeviceState {
    return new CrosscoderDeviceState(DeviceTrainState.upload(state, { dIn: 2 * cfg.dIn, dSae: cfg.dSae }));
  }

  /** Writes the device parameters and moments into state's host arrays (one readback). */
  download(state: CrosscoderTrainState): Promise<void> {
    return this.train.download(state);
  }

  /** A constant tensor, built on the host by `make` the first time `key` is asked for and kept on the device. */
  constant(key: string, make: () => Tensor): Tensor {
    let t = this.constants.get(key);
    if (!t) {
      const host = make();
      t = toDevice(host);
      this.constants.set(key, t);
    }
    return t;
  }

  /** Frees everything on the device (after a final `download`). */
  dispose(): void {
    this.train.dispose();
    for (const t of this.constants.values()) release(t);
    this.constants.clear();
  }
}
