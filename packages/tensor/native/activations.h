/* The tanh-based activations of Gemma-style models (logit soft-capping, GeGLU), written once over GCC/Clang vector
 * extensions: included by activations-avx512.c (16 lanes), activations-avx2.c (8) and activations-baseline.c (4:
 * SSE2 on x86-64, NEON on arm64), which set the compile target, DL_VW and DL_ACT_NAME; activations.c calls the copy
 * dl_isa() picks. Every element, the tail included, goes through the same vector code (no scalar fallback), so a
 * path's results do not depend on where a thread's range starts.
 *
 * tanh(x), f32, branch-free:
 *   |x| < 0.625: x + x³·P(x²), P of degree 4 fitted to tanh's relative error on [0, 0.625] (max 8e-8, ~1.3 ulp);
 *   otherwise (1 − e)/(1 + e) with e = exp(−2|x|) (no cancellation there: tanh ≥ 0.55), exp by Cody–Waite reduction
 *   and Cephes' degree-6 polynomial (1e-9 relative on the reduced range), 2^n from the exponent bits;
 *   |x| is clamped to 10 first, where 1 − e rounds to 1: tanh(±10 and beyond, ±Infinity) = ±1 exactly; NaN stays NaN.
 * Measured against float64 on 2M points of [−10, 10]: tanh ≤ 8.9e-8 absolute, 1.5e-7 relative; gelu_tanh ≤ 5.2e-7
 * absolute (f32 rounding of values up to 10) — the same on every path (test/family-kernels.test.ts checks 2e-6). */
#include "difflens.h"

typedef float vf __attribute__((vector_size(4 * DL_VW)));
typedef int32_t vi __attribute__((vector_size(4 * DL_VW)));

static inline vf splat(float v) { return (vf){0} + v; }
/* m ? a : b per lane (m: all-ones or zero lanes, as comparisons give). */
static inline vf select_lanes(vi m, vf a, vf b) { return (vf)((m & (vi)a) | (~m & (vi)b)); }

/* e^y for y in [−20, 0]: y = n·ln2 + r, |r| ≤ ln2/2; e^r by Cephes' expf polynomial; 2^n built in the exponent bits. */
static inline vf exp_nonpositive(vf y) {
  const vf shifter = splat(0x1.8p23f); /* adding it rounds to an integer, which lands in the low mantissa bits */
  const vf k = y * 1.44269504088896341f + shifter;
  const vf n = k - shifter;
  const vi ni = (vi)k - (vi)shifter;
  vf r = y - n * 0.693359375f; /* ln2 in two parts: the first exact in f32 times any small n */
  r = r - n * -2.12194440e-4f;
  vf p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const vf er = p * r * r + r + 1.0f;
  return er * (vf)((ni + 127) << 23);
}

static inline vf tanh_lanes(vf x) {
  const vi sign = (vi)x & (int32_t)0x80000000u;
  vf ax = (vf)((vi)x & 0x7fffffff);
  ax = select_lanes(ax > 10.0f, splat(10.0f), ax); /* NaN compares false and stays */
  const vf e = exp_nonpositive(-2.0f * ax);
  const vf large = (1.0f - e) / (1.0f + e);
  const vf z = ax * ax;
  vf p = splat(-0.005718891508877277f);
  p = p * z + 0.02065306343138218f;
  p = p * z + -0.053744640201330185f;
  p = p * z + 0.13331513106822968f;
  p = p * z + -0.3333328664302826f;
  const vf small = ax + ax * z * p;
  return (vf)((vi)select_lanes(ax < 0.625f, small, large) | sign);
}

/* 0.5·g·(1 + tanh(√(2/π)·g·(1 + 0.044715·g²))): exactly g for large g, ±0 for large −g, and no NaN for finite g
 * (an overflowing g² makes the tanh argument ±Infinity, which tanh clamps). */
static inline vf gelu_tanh_lanes(vf g) {
  const vf inner = 0.7978845608028654f * g * (1.0f + 0.044715f * g * g);
  return 0.5f * g * (1.0f + tanh_lanes(inner));
}

static inline vf load_lanes(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void store_lanes(float *p, vf v) { memcpy(p, &v, sizeof v); }
/* The last n < DL_VW elements, zero-padded, so the tail runs through the same vector code. */
static inline vf load_tail(const float *p, size_t n) { vf v = {0}; memcpy(&v, p, n * sizeof(float)); return v; }
static inline void store_tail(float *p, vf v, size_t n) { memcpy(p, &v, n * sizeof(float)); }

void DL_ACT_NAME(softcap)(const float *x, float cap, float *out, size_t n) {
  size_t i = 0;
  for (; i + DL_VW <= n; i += DL_VW) store_lanes(out + i, cap * tanh_lanes(load_lanes(x + i) / cap));
  if (i < n) store_tail(out + i, cap * tanh_lanes(load_tail(x + i, n - i) / cap), n - i);
}

void DL_ACT_NAME(gelu_gate)(const float *g, const float *u, float *out, size_t n) {
  size_t i = 0;
  for (; i + DL_VW <= n; i += DL_VW) store_lanes(out + i, gelu_tanh_lanes(load_lanes(g + i)) * load_lanes(u + i));
  if (i < n) store_tail(out + i, gelu_tanh_lanes(load_tail(g + i, n - i)) * load_tail(u + i, n - i), n - i);
}
