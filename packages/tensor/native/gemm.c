/* GEMM dispatch: the system CBLAS found at build time (OpenBLAS, MKL, Accelerate) or our portable
 * blocked GEMM. A B operand stored as f16/bf16 is widened one column/row tile at a time into a
 * reusable f32 buffer and multiplied tile by tile, so a full f32 copy of B never exists. */
#include "difflens.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#if defined(DL_BLAS_MKL)
#include <mkl.h>
#define DL_HAVE_BLAS 1
#elif defined(DL_BLAS_ACCELERATE)
#define ACCELERATE_NEW_LAPACK 1
#include <Accelerate/Accelerate.h>
#define DL_HAVE_BLAS 1
#elif defined(DL_BLAS_OPENBLAS) || defined(DL_BLAS_CBLAS)
#include <cblas.h>
#define DL_HAVE_BLAS 1
#endif

#ifdef DL_HAVE_BLAS
static int use_blas = 1;
#else
static int use_blas = 0;
#endif
static int impl_from_env_done = 0;
static char impl_reason[160] = "";

/* Whether our portable GEMM beats the linked BLAS here by default. Measured on a 2-core AMD EPYC with
 * AVX-512 (see README "GEMM choice"): OpenBLAS 0.3.21 treats that CPU as Haswell and runs its AVX2
 * kernels (~230 GFLOP/s on 4096×2048×16384), our AVX-512 micro-kernel ~315–333. So: portable when the
 * CPU has AVX-512F and the BLAS is OpenBLAS on a core without AVX-512 sgemm kernels; MKL, Accelerate,
 * a generic CBLAS, or OpenBLAS on an AVX-512 core (SkylakeX, Cooperlake, SapphireRapids) keep BLAS. */
static int portable_is_faster(void) {
#if defined(DL_BLAS_OPENBLAS) && defined(__x86_64__) && defined(__GNUC__)
  if (dl_isa() != DL_ISA_AVX512) return 0;
  const char *core = openblas_get_corename();
  static const char *const avx512_cores[] = {"skylakex", "cooperlake", "sapphirerapids"};
  for (size_t i = 0; core && i < sizeof avx512_cores / sizeof avx512_cores[0]; i++)
    if (strncasecmp(core, avx512_cores[i], strlen(avx512_cores[i])) == 0) return 0;
  snprintf(impl_reason, sizeof impl_reason, "default on this CPU: AVX-512 present, OpenBLAS core %s has no AVX-512 sgemm", core ? core : "?");
  return 1;
#else
  return 0;
#endif
}

/* The default, then DIFFLENS_GEMM=portable|blas, both at the first GEMM (setGemmImpl overrides). */
static void impl_from_env(void) {
  if (impl_from_env_done) return;
  impl_from_env_done = 1;
  const char *env = getenv("DIFFLENS_GEMM");
  if (env && dl_gemm_set_impl(env)) {
    snprintf(impl_reason, sizeof impl_reason, "DIFFLENS_GEMM=%s", env);
    return;
  }
#ifdef DL_HAVE_BLAS
  if (portable_is_faster()) use_blas = 0;
  else snprintf(impl_reason, sizeof impl_reason, "default: system BLAS");
#else
  snprintf(impl_reason, sizeof impl_reason, "no system CBLAS at build time");
#endif
}

const char *dl_gemm_impl(void) {
  static char desc[256];
  impl_from_env();
  snprintf(desc, sizeof desc, "%s (%s)", use_blas ? "blas" : "portable", impl_reason);
  return desc;
}

/* f32 elements per widened B tile (8 MB): large enough that each sgemm call runs near peak. */
#define DL_TILE_ELEMS ((size_t)2 << 20)
/* Up to this many rows of A (decode steps), B is streamed once through direct kernels threaded over N, instead of
 * being widened or packed first. */
#define DL_SMALL_M 4

int dl_gemm_set_impl(const char *name) {
  impl_from_env_done = 1;
  if (strcmp(name, "portable") == 0) { use_blas = 0; snprintf(impl_reason, sizeof impl_reason, "selected"); return 1; }
#ifdef DL_HAVE_BLAS
  if (strcmp(name, "blas") == 0) { use_blas = 1; snprintf(impl_reason, sizeof impl_reason, "selected"); return 1; }
#endif
  return 0;
}

const char *dl_blas_name(void) {
  static char name[256];
#if defined(DL_BLAS_OPENBLAS)
  snprintf(name, sizeof name, "OpenBLAS (%s, core %s)", openblas_get_config(), openblas_get_corename());
#elif defined(DL_BLAS_MKL)
  snprintf(name, sizeof name, "Intel MKL");
#elif defined(DL_BLAS_ACCELERATE)
  snprintf(name, sizeof name, "Apple Accelerate");
#elif defined(DL_BLAS_CBLAS)
  snprintf(name, sizeof name, "system CBLAS");
#else
  snprintf(name, sizeof name, "portable (difflens blocked GEMM; no system CBLAS at build time)");
#endif
  return name;
}

void dl_blas_set_threads(int n) {
#if defined(DL_BLAS_OPENBLAS)
  openblas_set_num_threads(n); /* declared by OpenBLAS's cblas.h */
#elif defined(DL_BLAS_MKL)
  mkl_set_num_threads(n);
#else
  /* A generic CBLAS may still be OpenBLAS underneath: look the setter up at run time. */
  void (*openblas_set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
  if (openblas_set) openblas_set(n);
#endif
}

static void scale_c(size_t m, size_t n, float beta, float *c, size_t ldc) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
}

/* ---- small M: B stored [N, K] → m dot products per row of B; B stored [K, N] → axpy per row of B ---- */
typedef struct {
  size_t m, k;
  float alpha, beta;
  const float *a; /* [m, k] contiguous copy of op(A) */
  const void *b;
  int b_dtype;
  size_t ldb;
  float *c;
  size_t ldc;
} small_m_job;

DL_MULTIVERSION
static float dot_f32(const float *x, const float *y, size_t n) {
  float lanes[16] = {0};
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; l++) lanes[l] += x[i + l] * y[i + l];
  float s = 0.0f;
  for (int l = 0; l < 16; l++) s += lanes[l];
  for (; i < n; i++) s += x[i] * y[i];
  return s;
}

static void small_m_range(void *p, size_t begin, size_t end) {
  const small_m_job *j = p;
  float *buf = j->b_dtype == DL_F32 ? NULL : malloc(j->k * sizeof(float));
  if (!buf && j->b_dtype != DL_F32) abort();
  for (size_t col = begin; col < end; col++) {
    const float *row;
    if (j->b_dtype == DL_F32) {
      row = (const float *)j->b + col * j->ldb;
    } else {
      dl_widen((const uint16_t *)j->b + col * j->ldb, j->b_dtype, buf, j->k);
      row = buf;
    }
    for (size_t i = 0; i < j->m; i++) {
      float v = j->alpha * dot_f32(j->a + i * j->k, row, j->k);
      float *cij = j->c + i * j->ldc + col;
      *cij = j->beta == 0.0f ? v : v + j->beta * *cij;
    }
  }
  free(buf);
}

DL_MULTIVERSION
static void axpy_f32(float *restrict y, float s, const float *restrict x, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] += s * x[i];
}

/* Four axpy steps at once, y += s0·x0; y += s1·x1; … in that order per element (the same roundings as four axpy_f32
 * calls), so C is loaded and stored once per four rows of B. */
DL_MULTIVERSION
static void axpy4_f32(float *restrict y, const float *restrict s, const float *restrict x0, const float *restrict x1,
                      const float *restrict x2, const float *restrict x3, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = y[i];
    v += s[0] * x0[i];
    v += s[1] * x1[i];
    v += s[2] * x2[i];
    v += s[3] * x3[i];
    y[i] = v;
  }
}

/* Columns [begin, end) of C for B stored [K, N]: C[i, cols] = beta·C + Σ_p alpha·A[i,p]·B[p, cols], p in order. */
static void small_m_cols_range(void *p, size_t begin, size_t end) {
  const small_m_job *j = p;
  const size_t w = end - begin;
  float *buf = j->b_dtype == DL_F32 ? NULL : malloc(4 * w * sizeof(float));
  if (!buf && j->b_dtype != DL_F32) abort();
  for (size_t i = 0; i < j->m; i++) {
    float *crow = j->c + i * j->ldc + begin;
    for (size_t c = 0; c < w; c++) crow[c] = j->beta == 0.0f ? 0.0f : j->beta * crow[c];
  }
  const float *brow[4];
  size_t q = 0;
  for (; q < j->k; q += 4) {
    const size_t steps = j->k - q < 4 ? j->k - q : 4;
    for (size_t t = 0; t < steps; t++) {
      if (j->b_dtype == DL_F32) {
        brow[t] = (const float *)j->b + (q + t) * j->ldb + begin;
      } else {
        dl_widen((const uint16_t *)j->b + (q + t) * j->ldb + begin, j->b_dtype, buf + t * w, w);
        brow[t] = buf + t * w;
      }
    }
    for (size_t i = 0; i < j->m; i++) {
      const float *ai = j->a + i * j->k + q;
      if (steps == 4) {
        const float s[4] = {j->alpha * ai[0], j->alpha * ai[1], j->alpha * ai[2], j->alpha * ai[3]};
        axpy4_f32(j->c + i * j->ldc + begin, s, brow[0], brow[1], brow[2], brow[3], w);
      } else {
        for (size_t t = 0; t < steps; t++) axpy_f32(j->c + i * j->ldc + begin, j->alpha * ai[t], brow[t], w);
      }
    }
  }
  free(buf);
}

static void small_m_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                         const void *b, int b_dtype, size_t ldb, float beta, float *c, size_t ldc) {
  float *ac = malloc(m * k * sizeof(float));
  if (!ac) abort();
  for (size_t i = 0; i < m; i++)
    for (size_t p = 0; p < k; p++) ac[i * k + p] = trans_a ? a[p * lda + i] : a[i * lda + p];
  small_m_job job = {m, k, alpha, beta, ac, b, b_dtype, ldb, c, ldc};
  if (trans_b) dl_parallel_for(n, 64, small_m_range, &job);
  else dl_parallel_for(n, 256, small_m_cols_range, &job); /* ≥ 1 KB of each B row per thread and step */
  free(ac);
}

#ifdef DL_HAVE_BLAS
static int blas_threads_set = 0;
static __thread float *tile_buf = NULL;
static __thread size_t tile_cap = 0;

typedef struct {
  const void *src;
  int dtype;
  size_t ld, cols, ldd;
  float *dst;
} widen_job;

static void widen_rows(void *p, size_t begin, size_t end) {
  const widen_job *j = p;
  const size_t elem = j->dtype == DL_F32 ? 4 : 2;
  dl_widen_block((const char *)j->src + begin * j->ld * elem, j->dtype, j->ld, end - begin, j->cols,
                 j->dst + begin * j->ldd, j->ldd);
}

static void blas_mixed(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                       size_t lda, const uint16_t *b, int b_dtype, size_t ldb, float beta, float *c, size_t ldc) {
  size_t nb = DL_TILE_ELEMS / k;
  nb = nb < 64 ? 64 : nb - nb % 64;
  if (nb > n) nb = n;
  if (tile_cap < nb * k) {
    free(tile_buf);
    tile_cap = nb * k;
    tile_buf = malloc(tile_cap * sizeof(float));
    if (!tile_buf) { tile_cap = 0; abort(); }
  }
  for (size_t j0 = 0; j0 < n; j0 += nb) {
    size_t cols = n - j0 < nb ? n - j0 : nb;
    if (!trans_b) {
      /* B [K, N]: widen the column block B[:, j0:j0+cols] into [K, cols] */
      widen_job job = {b + j0, b_dtype, ldb, cols, cols, tile_buf};
      dl_parallel_for(k, 64, widen_rows, &job);
      cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, CblasNoTrans, (int)m, (int)cols, (int)k,
                  alpha, a, (int)lda, tile_buf, (int)cols, beta, c + j0, (int)ldc);
    } else {
      /* B [N, K]: widen the rows j0..j0+cols into [cols, K] */
      widen_job job = {b + j0 * ldb, b_dtype, ldb, k, k, tile_buf};
      dl_parallel_for(cols, 16, widen_rows, &job);
      cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, CblasTrans, (int)m, (int)cols, (int)k,
                  alpha, a, (int)lda, tile_buf, (int)k, beta, c + j0, (int)ldc);
    }
  }
}
#endif

void dl_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
             const float *a, size_t lda, const void *b, int b_dtype, size_t ldb,
             float beta, float *c, size_t ldc) {
  impl_from_env();
  if (m == 0 || n == 0) return;
  if (k == 0) { scale_c(m, n, beta, c, ldc); return; }
  /* Up to DL_SMALL_M rows, every GEMM (f32 B and BLAS builds included) takes the direct kernels: each row of C is
   * computed by the same loops in the same order whatever the other rows are, so row r of an m-row call equals the
   * 1-row call bit for bit (batch invariance for decoding; test/small-m-invariance.test.ts). */
  if (m <= DL_SMALL_M) {
    small_m_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, b_dtype, ldb, beta, c, ldc);
    return;
  }
#ifdef DL_HAVE_BLAS
  if (use_blas) {
    if (!blas_threads_set) { blas_threads_set = 1; dl_blas_set_threads(dl_get_threads()); }
    if (b_dtype == DL_F32) {
      cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                  (int)m, (int)n, (int)k, alpha, a, (int)lda, (const float *)b, (int)ldb, beta, c, (int)ldc);
    } else {
      blas_mixed(trans_a, trans_b, m, n, k, alpha, a, lda, b, b_dtype, ldb, beta, c, ldc);
    }
    return;
  }
#endif
  dl_gemm_portable(trans_a, trans_b, m, n, k, alpha, a, lda, b, b_dtype, ldb, beta, c, ldc);
}

void dl_gemm_portable(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                      const float *a, size_t lda, const void *b, int b_dtype, size_t ldb,
                      float beta, float *c, size_t ldc) {
  switch (dl_isa()) {
#if defined(__x86_64__) && defined(__GNUC__)
  case DL_ISA_AVX512:
    dl_gemm_blocked_avx512(trans_a, trans_b, m, n, k, alpha, a, lda, b, b_dtype, ldb, beta, c, ldc);
    return;
  case DL_ISA_AVX2:
    dl_gemm_blocked_avx2(trans_a, trans_b, m, n, k, alpha, a, lda, b, b_dtype, ldb, beta, c, ldc);
    return;
#endif
#if defined(__aarch64__)
  case DL_ISA_NEON:
    dl_gemm_blocked_neon(trans_a, trans_b, m, n, k, alpha, a, lda, b, b_dtype, ldb, beta, c, ldc);
    return;
#endif
  default:
    dl_gemm_blocked_baseline(trans_a, trans_b, m, n, k, alpha, a, lda, b, b_dtype, ldb, beta, c, ldc);
  }
}
