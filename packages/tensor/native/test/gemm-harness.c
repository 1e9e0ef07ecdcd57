/* Parity harness for the blocked GEMM on a foreign ISA (built by test/arm64-qemu.test.ts with a cross compiler and
 * run under qemu-user). Each argument is a case "M,K,N,transA,transB,bDtype,alpha,beta" (bDtype: f32|bf16|f16);
 * every case runs through dl_gemm (the dispatch, with the default path) and then through each compiled ISA path
 * this CPU supports, and prints one line per run: "<path> <case> <relative error> <tolerance>", where the error is
 * ‖C − C₆₄‖ / ‖C₆₄‖ against a float64 loop over the same (rounded) inputs and the tolerance is max(1e-6, 1e-6·√K).
 * The first line is "default <path>"; the exit status is 1 when any run exceeds its tolerance, 2 on bad arguments. */
#include "../difflens.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  size_t m, k, n;
  int trans_a, trans_b, b_dtype;
  float alpha, beta;
} gemm_case;

static uint32_t rng_state = 12345u;
static float uniform(void) { /* xorshift32 in [-1, 1): reproducible, no libc rand() differences */
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 17, rng_state ^= rng_state << 5;
  return (float)(rng_state >> 8) / 8388608.0f - 1.0f;
}

static int parse_case(const char *text, gemm_case *c) {
  char dtype[8];
  if (sscanf(text, "%zu,%zu,%zu,%d,%d,%7[a-z0-9],%f,%f", &c->m, &c->k, &c->n, &c->trans_a, &c->trans_b, dtype,
             &c->alpha, &c->beta) != 8)
    return 0;
  c->b_dtype = strcmp(dtype, "bf16") == 0 ? DL_BF16 : strcmp(dtype, "f16") == 0 ? DL_F16 : DL_F32;
  return c->b_dtype != DL_F32 || strcmp(dtype, "f32") == 0;
}

/* Runs one case on the current path; returns the relative error against the float64 loop. */
static double run_case(const gemm_case *g) {
  const size_t m = g->m, k = g->k, n = g->n;
  float *a = malloc(m * k * sizeof(float)), *bw = malloc(k * n * sizeof(float));
  uint16_t *bh = malloc(k * n * sizeof(uint16_t));
  float *c = malloc(m * n * sizeof(float));
  double *ref = malloc(m * n * sizeof(double));
  if (!a || !bw || !bh || !c || !ref) abort();
  rng_state = 12345u;
  for (size_t i = 0; i < m * k; i++) a[i] = uniform();
  for (size_t i = 0; i < k * n; i++) { /* bw holds B as the GEMM will see it (widened after rounding) */
    bw[i] = uniform();
    if (g->b_dtype == DL_BF16) bh[i] = dl_f32_to_bf16(bw[i]), bw[i] = dl_bf16_to_f32(bh[i]);
    if (g->b_dtype == DL_F16) bh[i] = dl_f32_to_f16(bw[i]), bw[i] = dl_f16_to_f32(bh[i]);
  }
  for (size_t i = 0; i < m * n; i++) c[i] = uniform();
  /* op(A) is [m, k]: stored [k, m] when transposed; op(B) is [k, n]: stored [n, k] when transposed. */
  const size_t lda = g->trans_a ? m : k, ldb = g->trans_b ? k : n;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double sum = 0;
      for (size_t p = 0; p < k; p++) {
        const double av = a[g->trans_a ? p * lda + i : i * lda + p];
        const double bv = bw[g->trans_b ? j * ldb + p : p * ldb + j];
        sum += av * bv;
      }
      ref[i * n + j] = (double)g->alpha * sum + (g->beta != 0.0f ? (double)g->beta * c[i * n + j] : 0.0);
    }
  const void *b = g->b_dtype == DL_F32 ? (const void *)bw : (const void *)bh;
  dl_gemm(g->trans_a, g->trans_b, m, n, k, g->alpha, a, lda, b, g->b_dtype, ldb, g->beta, c, n);
  double diff = 0, norm = 0;
  for (size_t i = 0; i < m * n; i++) {
    diff += (c[i] - ref[i]) * (c[i] - ref[i]);
    norm += ref[i] * ref[i];
  }
  free(a), free(bw), free(bh), free(c), free(ref);
  if (isnan(diff)) return INFINITY;
  return norm == 0 ? sqrt(diff) : sqrt(diff / norm);
}

int main(int argc, char **argv) {
  const char *error = dl_isa_init();
  if (error) {
    fprintf(stderr, "gemm-harness: DIFFLENS_ISA: %s\n", error);
    return 2;
  }
  printf("default %s\n", dl_isa_name(dl_isa()));
  int failed = 0;
  for (int i = 1; i < argc; i++) {
    gemm_case g;
    if (!parse_case(argv[i], &g)) {
      fprintf(stderr, "gemm-harness: argument %d \"%s\": expected M,K,N,transA,transB,f32|bf16|f16,alpha,beta\n", i,
              argv[i]);
      return 2;
    }
    const double tol = fmax(1e-6, 1e-6 * sqrt((double)g.k));
    for (int isa = DL_ISA_COUNT - 1; isa >= DL_ISA_BASELINE; isa--) {
      if (!dl_isa_supported(isa)) continue;
      dl_isa_set(dl_isa_name(isa));
      const double err = run_case(&g);
      printf("%s %s %.3e %.3e\n", dl_isa_name(isa), argv[i], err, tol);
      if (!(err <= tol)) failed = 1;
    }
  }
  return failed;
}
