/* difflens native kernels: shared declarations. Plain C11 + pthreads; no Node types here, so the
 * kernels can be reused by a future CUDA host or a C test driver. */
#ifndef DIFFLENS_H
#define DIFFLENS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* dtype codes shared with src/native-addon.ts */
enum { DL_F32 = 0, DL_F16 = 1, DL_BF16 = 2 };

/* Run the hot loops of a function in the best of three x86-64 levels picked at load time (ifunc),
 * so one binary is portable yet uses AVX2/AVX-512 where present. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && !defined(DL_NO_MULTIVERSION)
#define DL_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DL_MULTIVERSION
#endif

/* ---- thread pool (threadpool.c) ---- */
typedef void (*dl_range_fn)(void *ctx, size_t begin, size_t end);
/* Split [0, n) into at most `threads` contiguous ranges of ≥ min_chunk items and run fn on each;
 * the calling thread takes the first range. Returns when all ranges are done. */
void dl_parallel_for(size_t n, size_t min_chunk, dl_range_fn fn, void *ctx);
void dl_set_threads(int n);
int dl_get_threads(void);

/* ---- conversions (convert.c) ---- */
static inline float dl_bits_to_f32(uint32_t bits) { float f; memcpy(&f, &bits, 4); return f; }
static inline uint32_t dl_f32_to_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }
static inline float dl_bf16_to_f32(uint16_t h) { return dl_bits_to_f32((uint32_t)h << 16); }
/* Exact, branch-free (vectorizable): put the 15 magnitude bits where f32 keeps them and rescale by
 * 2^112, which is exact for normals and subnormals alike; Inf/NaN get the f32 all-ones exponent. */
static inline float dl_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t em = h & 0x7fffu;
  float scaled = dl_bits_to_f32(em << 13) * 0x1p112f;
  /* A mask, not a ?: — GCC turns the select into a branch, and then the AVX2 clone of a widening loop is scalar. */
  uint32_t special = 0u - (uint32_t)(em >= 0x7c00u);
  uint32_t bits = (special & (0x7f800000u | ((em & 0x3ffu) << 13))) | (~special & dl_f32_to_bits(scaled));
  return dl_bits_to_f32(bits | sign);
}
uint16_t dl_f32_to_bf16(float f);
uint16_t dl_f32_to_f16(float f);
/* dst[i] = float(src[i]) for a 16-bit dtype (DL_F16 / DL_BF16); n elements. */
void dl_widen(const uint16_t *src, int dtype, float *dst, size_t n);
/* Copy a strided block of a 16-bit/f32 matrix into f32: rows × cols from src (row stride ld) to dst (row stride ldd). */
void dl_widen_block(const void *src, int dtype, size_t ld, size_t rows, size_t cols, float *dst, size_t ldd);
void dl_convert(const void *src, int src_dtype, void *dst, int dst_dtype, size_t n);

/* ---- GEMM (gemm.c, gemm-portable.c) ---- */
/* C[M,N] = alpha·op(A)·op(B) + beta·C, row-major, lda/ldb/ldc in elements. B is f32, f16 or bf16. */
void dl_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
             const float *a, size_t lda, const void *b, int b_dtype, size_t ldb,
             float beta, float *c, size_t ldc);
/* Our blocked GEMM on the ISA path dl_isa() names; one compiled copy per path (gemm-blocked.h). */
void dl_gemm_portable(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                      const float *a, size_t lda, const void *b, int b_dtype, size_t ldb,
                      float beta, float *c, size_t ldc);
#define DL_GEMM_BLOCKED_ARGS                                                                                  \
  int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda, const void *b, \
      int b_dtype, size_t ldb, float beta, float *c, size_t ldc
void dl_gemm_blocked_avx512(DL_GEMM_BLOCKED_ARGS);
void dl_gemm_blocked_avx2(DL_GEMM_BLOCKED_ARGS);
void dl_gemm_blocked_baseline(DL_GEMM_BLOCKED_ARGS);
void dl_gemm_blocked_neon(DL_GEMM_BLOCKED_ARGS); /* arm64 only (gemm-neon.c) */

/* ---- ISA paths (isa.c): which compiled copy of the blocked GEMM runs ---- */
enum { DL_ISA_BASELINE = 0, DL_ISA_AVX2 = 1, DL_ISA_AVX512 = 2, DL_ISA_NEON = 3, DL_ISA_COUNT = 4 };
int dl_isa_supported(int isa);
/* The path in use: DIFFLENS_ISA if the CPU has it, else the best it supports. */
int dl_isa(void);
const char *dl_isa_init(void);
const char *dl_isa_set(const char *name);
const char *dl_isa_name(int isa);
int dl_isa_by_name(const char *name);
const char *dl_isa_reason(void);
/* peak.c: f32 FLOP per cycle per core of a path on this CPU; the core clock measured now (0: unknown). */
int dl_isa_flops_per_cycle(int isa);
double dl_measure_clock_ghz(void);
/* "blas" or "portable"; returns 0 if the name is unknown or no BLAS was built in. */
int dl_gemm_set_impl(const char *name);
const char *dl_blas_name(void);
/* The GEMM in use and why, e.g. "portable (default on this CPU: ...)". */
const char *dl_gemm_impl(void);
void dl_blas_set_threads(int n);

/* ---- other kernels (kernels.c, topk.c) ---- */
void dl_binary(int op, const float *a, size_t n, const float *b, size_t period, float *out);
void dl_scale(const float *a, float s, float *out, size_t n);
void dl_axpby(float alpha, const float *a, float beta, const float *b, float *out, size_t n);
/* y = x / √(mean(x²) + eps) · (w_offset + w), w_offset + w rounded to f32 once (as HF's Gemma norm). */
void dl_rms_norm(const float *x, const void *w, int w_dtype, float w_offset, float *out, size_t rows, size_t d, float eps);
void dl_rope(float *x, const int32_t *positions, const float *inv_freq, size_t tokens, size_t heads, size_t head_dim, size_t half);
/* queries > 0: causal, row r sees keys j ≤ r mod queries + offset, and with window > 0 only the last `window` of them. */
void dl_softmax(const float *x, float *out, size_t rows, size_t n, size_t queries, long offset, size_t window);
void dl_silu(const float *x, float *out, size_t n);
void dl_silu_gate(const float *g, const float *u, float *out, size_t n);
void dl_gather_rows(const void *table, int dtype, const int32_t *idx, size_t count, float *out, size_t d);
void dl_scatter_add_rows(float *target, const int32_t *idx, size_t count, const float *src, size_t d);
/* op: 0 sum, 1 mean, 2 max, 3 argmax (out is int32) */
void dl_reduce(int op, const float *x, void *out, size_t outer, size_t len, size_t inner);
void dl_topk(const float *x, size_t rows, size_t n, size_t k, float *values, int32_t *indices);

/* ---- tanh-based activations (activations.c; one copy per ISA path from activations.h) ---- */
void dl_tanh_softcap(const float *x, float cap, float *out, size_t n);      /* cap·tanh(x / cap) */
void dl_gelu_tanh_gate(const float *g, const float *u, float *out, size_t n); /* gelu_tanh(g)·u */
#define DL_ACT_PATH(suffix)                                                                    \
  void dl_tanh_softcap_##suffix(const float *x, float cap, float *out, size_t n);              \
  void dl_tanh_gelu_gate_##suffix(const float *g, const float *u, float *out, size_t n);
DL_ACT_PATH(avx512)
DL_ACT_PATH(avx2)
DL_ACT_PATH(baseline)
#undef DL_ACT_PATH

/* ---- k-sparse codes (sparse.c) and optimizer kernels (optim.c); semantics in src/backends/js ---- */
void dl_bias_topk(const float *z, const float *bias, size_t rows, size_t n, size_t k, float *values, int32_t *indices,
                  const int32_t *cand, size_t ncand, size_t kc, float *cvalues, int32_t *cindices);
void dl_sparse_decode(float *out, size_t rows, size_t d, const int32_t *idx, const float *val, size_t kk, const float *table, float alpha);
int dl_sparse_backward(size_t rows, size_t kk, size_t d, size_t table_rows, const int32_t *idx, const float *val,
                       const float *g, const float *x, const float *table, float *gtable, float *genc, float *gbias, uint8_t *touched,
                       int overwrite);
void dl_adam(float *p, float *g, float *m, float *v, size_t n, size_t cols, const uint8_t *mask, int clear_grad,
             double step_size, double bc2_sqrt, double b1, double b2, double eps);
void dl_project_out_rows(float *g, const float *w, size_t rows, size_t d, const uint8_t *mask);
void dl_normalize_rows(float *w, size_t rows, size_t d, double eps);
void dl_adam_unit_rows(float *w, float *g, float *m, float *v, size_t rows, size_t d, const uint8_t *mask,
                       double step_size, double bc2_sqrt, double b1, double b2, double eps, double norm_eps);

#endif
