/* The blocked GEMM compiled for AVX-512F: a 6 × 32 micro-tile in intrinsics, per k step two B loads (zmm), six
 * broadcasts of A and twelve FMAs into twelve accumulators, enough in flight to hide FMA latency. (The generic
 * 16-float kernel needs 12 rows for as many accumulators and then spends 12 broadcast loads per 12 FMAs.) */
#if defined(__x86_64__) && defined(__GNUC__)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx512f,avx2,fma")
#endif
#define DL_BLOCKED_NAME dl_gemm_blocked_avx512
#define MR 6
#define NR 32
#include <immintrin.h>

#include "gemm-pack-avx2.h"

/* Writes the tile straight from the accumulators (alpha applied in registers, masked stores for a partial tile):
 * with a short K (attention's head dim) the write-back of C is a large share of the work. */
#define DL_OWN_MICRO_KERNEL
#define DL_OWN_TILE_KERNEL
#define DL_ROW(i) c##i##0 = _mm512_fmadd_ps(av, b0, c##i##0), c##i##1 = _mm512_fmadd_ps(av, b1, c##i##1)
/* Full tiles store unmasked (masked stores are slower on some cores, Zen 4 among them); edge tiles mask. */
#define DL_STORE_ROW(i)                                                                             \
  if (i < rows) {                                                                                   \
    float *crow = c + i * ldc;                                                                      \
    __m512 lo = _mm512_mul_ps(va, c##i##0), hi = _mm512_mul_ps(va, c##i##1);                        \
    if (full) {                                                                                     \
      if (!overwrite) {                                                                             \
        lo = _mm512_fmadd_ps(vk, _mm512_loadu_ps(crow), lo);                                        \
        hi = _mm512_fmadd_ps(vk, _mm512_loadu_ps(crow + 16), hi);                                   \
      }                                                                                             \
      _mm512_storeu_ps(crow, lo), _mm512_storeu_ps(crow + 16, hi);                                  \
    } else {                                                                                        \
      if (!overwrite) {                                                                             \
        lo = _mm512_fmadd_ps(vk, _mm512_maskz_loadu_ps(mlo, crow), lo);                             \
        hi = _mm512_fmadd_ps(vk, _mm512_maskz_loadu_ps(mhi, crow + 16), hi);                        \
      }                                                                                             \
      _mm512_mask_storeu_ps(crow, mlo, lo), _mm512_mask_storeu_ps(crow + 16, mhi, hi);              \
    }                                                                                               \
  }
static inline __attribute__((always_inline)) void tile_kernel(const float *a, size_t si, size_t sp, const float *b, size_t kc, float *c, size_t ldc,
                               size_t rows, size_t cols, float alpha, float keep, int overwrite) {
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m512 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#pragma GCC unroll 4
  for (size_t q = 0; q < kc; q++, a += sp, b += NR) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    __m512 av = _mm512_set1_ps(a[0]);
    DL_ROW(0);
    av = _mm512_set1_ps(a[si]);
    DL_ROW(1);
    av = _mm512_set1_ps(a[2 * si]);
    DL_ROW(2);
    av = _mm512_set1_ps(a[3 * si]);
    DL_ROW(3);
    av = _mm512_set1_ps(a[4 * si]);
    DL_ROW(4);
    av = _mm512_set1_ps(a[5 * si]);
    DL_ROW(5);
  }
  const __mmask16 mlo = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
  const __mmask16 mhi = cols >= 32 ? 0xffff : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
  const __m512 va = _mm512_set1_ps(alpha), vk = _mm512_set1_ps(keep);
  const int full = cols == NR;
  DL_STORE_ROW(0) DL_STORE_ROW(1) DL_STORE_ROW(2) DL_STORE_ROW(3) DL_STORE_ROW(4) DL_STORE_ROW(5)
}
#undef DL_ROW
#undef DL_STORE_ROW
#include "gemm-blocked.h"
#if defined(__clang__)
#pragma clang attribute pop
#endif
#endif
