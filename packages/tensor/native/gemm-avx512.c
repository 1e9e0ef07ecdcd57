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

#define DL_OWN_MICRO_KERNEL
static inline void micro_kernel(const float *a, const float *b, size_t kc, float acc[MR][NR]) {
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m512 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#pragma GCC unroll 4
  for (size_t q = 0; q < kc; q++, a += MR, b += NR) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    __m512 av = _mm512_set1_ps(a[0]);
    c00 = _mm512_fmadd_ps(av, b0, c00), c01 = _mm512_fmadd_ps(av, b1, c01);
    av = _mm512_set1_ps(a[1]);
    c10 = _mm512_fmadd_ps(av, b0, c10), c11 = _mm512_fmadd_ps(av, b1, c11);
    av = _mm512_set1_ps(a[2]);
    c20 = _mm512_fmadd_ps(av, b0, c20), c21 = _mm512_fmadd_ps(av, b1, c21);
    av = _mm512_set1_ps(a[3]);
    c30 = _mm512_fmadd_ps(av, b0, c30), c31 = _mm512_fmadd_ps(av, b1, c31);
    av = _mm512_set1_ps(a[4]);
    c40 = _mm512_fmadd_ps(av, b0, c40), c41 = _mm512_fmadd_ps(av, b1, c41);
    av = _mm512_set1_ps(a[5]);
    c50 = _mm512_fmadd_ps(av, b0, c50), c51 = _mm512_fmadd_ps(av, b1, c51);
  }
  _mm512_storeu_ps(acc[0], c00), _mm512_storeu_ps(acc[0] + 16, c01);
  _mm512_storeu_ps(acc[1], c10), _mm512_storeu_ps(acc[1] + 16, c11);
  _mm512_storeu_ps(acc[2], c20), _mm512_storeu_ps(acc[2] + 16, c21);
  _mm512_storeu_ps(acc[3], c30), _mm512_storeu_ps(acc[3] + 16, c31);
  _mm512_storeu_ps(acc[4], c40), _mm512_storeu_ps(acc[4] + 16, c41);
  _mm512_storeu_ps(acc[5], c50), _mm512_storeu_ps(acc[5] + 16, c51);
}
#include "gemm-blocked.h"
#if defined(__clang__)
#pragma clang attribute pop
#endif
#endif
