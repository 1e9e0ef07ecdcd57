/**
 * After the shared webgpu device is lost, useBackend("webgpu") opens a fresh one (the lost backend is not cached).
 * Its own file: it destroys the device every other webgpu suite of its process would share.
 */
import { expect, it } from "vitest";
import type { WebgpuBackend } from "../src/backends/webgpu/index.ts";
import { fromArray, scale, toDevice, toHost, useBackend } from "../src/index.ts";
import { describeWebgpu, webgpu } from "./webgpu-available.ts";

describeWebgpu("a lost webgpu device", () => {
  it("fails its tensors with DEVICE_LOST, and the next useBackend('webgpu') opens a new device", async () => {
    const lost = webgpu!;
    await useBackend("webgpu");
    const x = toDevice(fromArray([1, 2, 3], [3]));
    lost.context.device.destroy();
    await lost.context.device.lost;
    expect(() => scale(x, 2)).toThrow(expect.objectContaining({ code: "DEVICE_LOST" }));
    const fresh = (await useBackend("webgpu")) as WebgpuBackend;
    expect(fresh).not.toBe(lost);
    const y = await toHost(scale(toDevice(fromArray([1, 2, 3], [3])), 2));
    expect([...(y.data as Float32Array)]).toEqual([2, 4, 6]);
  });
});
