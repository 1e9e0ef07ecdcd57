import { type ActivationSource, Rng, Tensor } from "@difflens/tensor";

/**
 * The planted dictionary: `nDirs` unit directions from a seeded Gaussian; each sample is the
 * sum of `active` distinct directions with coefficients Uniform(0.5, 1.5), plus Gaussian noise
 * (std `noise` per coordinate).
 */
export function plantedDictionary(dIn: number, nDirs: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const dirs = new Float32Array(nDirs * dIn);
  for (let j = 0; j < nDirs; j++) {
    let ss = 0;
    for (let i = 0; i < dIn; i++) {
      const v = rng.normal();
      dirs[j * dIn + i] = v;
      ss += v * v;
    }
    const inv = 1 / Math.sqrt(ss);
    for (let i = 0; i < dIn; i++) dirs[j * dIn + i]! *= inv;
  }
  return dirs;
}

export function plantedSource(opts: {
  dIn: number;
  nDirs: number;
  dirs: Float32Array;
  active: number;
  noise: number;
  batch: number;
  batches: number;
  seed: number;
}): ActivationSource {
  const { dIn, nDirs, dirs, active, noise, batch, batches, seed } = opts;
  return {
    dIn,
    async *[Symbol.asyncIterator]() {
      const rng = new Rng(seed);
      const chosen = new Int32Array(active);
      for (let b = 0; b < batches; b++) {
        const x = new Float32Array(batch * dIn);
        for (let r = 0; r < batch; r++) {
          const o = r * dIn;
          for (let i = 0; i < dIn; i++) x[o + i] = noise * rng.normal();
          for (let a = 0; a < active; a++) {
            let j: number;
            do {
              j = rng.int(nDirs);
            } while (chosen.subarray(0, a).includes(j));
            chosen[a] = j;
            const c = 0.5 + rng.nextFloat();
            for (let i = 0; i < dIn; i++) x[o + i]! += c * dirs[j * dIn + i]!;
          }
        }
        yield new Tensor("f32", [batch, dIn], x);
      }
    },
  };
}

/** For each true direction, its best |cosine| with any decoder row (rows assumed unit norm). */
export function bestCosines(
  dirs: Float32Array,
  nDirs: number,
  wDec: Float32Array,
  dSae: number,
  dIn: number,
): Float64Array {
  const out = new Float64Array(nDirs);
  for (let t = 0; t < nDirs; t++) {
    let best = -1;
    for (let j = 0; j < dSae; j++) {
      let dot = 0,
        nn = 0;
      for (let i = 0; i < dIn; i++) {
        dot += dirs[t * dIn + i]! * wDec[j * dIn + i]!;
        nn += wDec[j * dIn + i]! ** 2;
      }
      best = Math.max(best, dot / Math.sqrt(nn));
    }
    out[t] = best;
  }
  return out;
}
