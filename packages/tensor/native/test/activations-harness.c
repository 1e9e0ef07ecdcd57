/* Accuracy harness for the vector tanh (activations.h) on a foreign ISA (built by test/arm64-qemu.test.ts with a cross
 * compiler and run under qemu-user): the dispatched dl_tanh_softcap (cap 1: tanh itself) and dl_gelu_tanh_gate over
 * 200001 points of [−10, 10] against float64, and the saturated tails (tanh = ±1 exactly up to ±Infinity; gelu = x
 * exactly for large x and 0 for large −x). Prints "tanh <max abs error>",
 * "gelu <max abs error>" and "saturation ok" or "saturation bad <x>"; exit status 1 when anything is off. */
#include "../difflens.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define N 200001

/* threadpool.c tells the BLAS its thread count; this harness links no GEMM. */
void dl_blas_set_threads(int n) { (void)n; }

int main(void) {
  static float x[N], ones[N], t[N], g[N];
  for (int i = 0; i < N; i++) x[i] = -10.0f + 20.0f * (float)i / (float)(N - 1), ones[i] = 1.0f;
  dl_tanh_softcap(x, 1.0f, t, N);
  dl_gelu_tanh_gate(x, ones, g, N);
  double et = 0, eg = 0;
  for (int i = 0; i < N; i++) {
    const double v = x[i];
    et = fmax(et, fabs(t[i] - tanh(v)));
    eg = fmax(eg, fabs(g[i] - 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)))));
  }
  printf("tanh %.3g\ngelu %.3g\n", et, eg);
  const float big[] = {10.0f, 12.5f, 1e4f, 3e7f, 1e30f, 3.4e38f, INFINITY};
  const int n_big = sizeof big / sizeof big[0];
  for (int i = 0; i < n_big; i++) {
    float in[2] = {big[i], -big[i]}, out[2], gate[2];
    dl_tanh_softcap(in, 1.0f, out, 2);
    dl_gelu_tanh_gate(in, ones, gate, 2);
    /* gelu(−Infinity) is −Infinity · 0 = NaN, as in torch: the gelu tails are checked on finite values */
    if (out[0] != 1.0f || out[1] != -1.0f || (isfinite(big[i]) && (gate[0] != big[i] || gate[1] != 0.0f))) {
      printf("saturation bad %g\n", big[i]);
      return 1;
    }
  }
  printf("saturation ok\n");
  return et <= 2e-6 && eg <= 2e-6 ? 0 : 1;
}
