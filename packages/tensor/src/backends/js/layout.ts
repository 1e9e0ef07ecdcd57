import type { AttentionMask } from "../../backend.ts";
import { allocStorage, toFloat32Array, zeros } from "../../construct.ts";
import { Tensor } from "../../tensor.ts";

/*
 * Layout kernels on host memory (shared by the js and native backends: they are memory traffic only, `set` of
 * contiguous rows, so there is nothing for C to win).
 */

export function copy(x: Tensor): Tensor {
  const src = toFloat32Array(x);
  return new Tensor("f32", x.shape, src === x.data ? src.slice() : src);
}

export function sliceRows(x: Tensor, start: number, count: number): Tensor {
  const rowSize = x.shape.slice(1).reduce((p, v) => p * v, 1);
  const data = (x.data as Float32Array).slice(start * rowSize, (start + count) * rowSize);
  return new Tensor(x.dtype, [count, ...x.shape.slice(1)], data);
}

export function swapAxes12(x: Tensor, out?: Tensor): Tensor {
  const [a, b, c, d] = x.shape as [number, number, number, number];
  const src = x.data as Float32Array;
  const o = out ?? zeros([a, c, b, d], "f32");
  const dst = o.data as Float32Array;
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      for (let k = 0; k < c; k++) {
        const from = ((i * b + j) * c + k) * d;
        dst.set(src.subarray(from, from + d), ((i * c + k) * b + j) * d);
      }
    }
  }
  return o;
}

export function maskScores(scores: Tensor, mask: AttentionMask): Tensor {
  const [B, H, S, keys] = scores.shape as [number, number, number, number];
  const s = scores.data as Float32Array;
  const { queryMask, keyMask, past, window } = mask;
  for (let b = 0; b < B; b++) {
    const padKeys: number[] = [];
    for (let j = 0; j < keys; j++) if (!keyMask[b * keys + j]) padKeys.push(j);
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < S; i++) {
        const row = ((b * H + h) * S + i) * keys;
        const queryPos = past + i;
        s.fill(-Infinity, row + queryPos + 1, row + keys);
        if (window !== undefined) s.fill(-Infinity, row, row + Math.max(0, queryPos + 1 - window));
        if (!queryMask[b * S + i]) continue;
        for (const j of padKeys) {
          if (j > queryPos) break;
          s[row + j] = -Infinity;
        }
      }
    }
  }
  return scores;
}

export function writeSeq(cache: Tensor, src: Tensor, start: number): void {
  const [B, H, capacity, d] = cache.shape as [number, number, number, number];
  const seq = src.shape[1]!;
  const from = src.data as Float32Array;
  const to = cache.data as Float32Array;
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < seq; s++) {
      for (let h = 0; h < H; h++) {
        const i = ((b * seq + s) * H + h) * d;
        to.set(from.subarray(i, i + d), ((b * H + h) * capacity + start + s) * d);
      }
    }
  }
}

/** The storage members of a CPU backend: host tensors are already where kernels want them. */
export const hostStorage = {
  device: "cpu" as const,
  upload: (t: Tensor): Tensor => t,
  download: async (t: Tensor): Promise<Tensor> => t,
  zeros: (shape: readonly number[], dtype: Parameters<typeof allocStorage>[0]): Tensor =>
    new Tensor(
      dtype,
      shape,
      allocStorage(
        dtype,
        shape.reduce((p, v) => p * v, 1),
      ),
    ),
  release: (_t: Tensor): void => {},
  sync: async (): Promise<void> => {},
};
