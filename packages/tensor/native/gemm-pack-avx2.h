/* Packing a transposed f32 B (stored [N, K], as an SAE encoder's weight) with 8 × 8 in-register transposes, for the
 * AVX2 and AVX-512 paths of the blocked GEMM (included by gemm-avx2.c and gemm-avx512.c before gemm-blocked.h). The
 * generic packing stores one float at a time, NR floats apart: with the SAE step's 512-row encoder calls, each
 * repacking all of B, it took ~11% of the GEMM. */
#ifndef DIFFLENS_GEMM_PACK_AVX2_H
#define DIFFLENS_GEMM_PACK_AVX2_H

#include <immintrin.h>
#include <stddef.h>

/* dst[c·dst_stride + r] = src[r·ld + c] for r, c < 8. */
static inline __attribute__((always_inline)) void transpose8x8(const float *src, size_t ld, float *dst, size_t dst_stride) {
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ld), r2 = _mm256_loadu_ps(src + 2 * ld),
               r3 = _mm256_loadu_ps(src + 3 * ld), r4 = _mm256_loadu_ps(src + 4 * ld), r5 = _mm256_loadu_ps(src + 5 * ld),
               r6 = _mm256_loadu_ps(src + 6 * ld), r7 = _mm256_loadu_ps(src + 7 * ld);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
               t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE),
               s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE),
               s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE),
               s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(s0, s4, 0x20));
  _mm256_storeu_ps(dst + dst_stride, _mm256_permute2f128_ps(s1, s5, 0x20));
  _mm256_storeu_ps(dst + 2 * dst_stride, _mm256_permute2f128_ps(s2, s6, 0x20));
  _mm256_storeu_ps(dst + 3 * dst_stride, _mm256_permute2f128_ps(s3, s7, 0x20));
  _mm256_storeu_ps(dst + 4 * dst_stride, _mm256_permute2f128_ps(s0, s4, 0x31));
  _mm256_storeu_ps(dst + 5 * dst_stride, _mm256_permute2f128_ps(s1, s5, 0x31));
  _mm256_storeu_ps(dst + 6 * dst_stride, _mm256_permute2f128_ps(s2, s6, 0x31));
  _mm256_storeu_ps(dst + 7 * dst_stride, _mm256_permute2f128_ps(s3, s7, 0x31));
}

/* One NR-wide strip: dst[q·NR + jj] = b[jj·ldb + q] for jj < cols, q < kc (b at the strip's first row, K offset). */
#define DL_OWN_PACK_B_TRANS
static void pack_b_trans_f32(const float *b, size_t ldb, size_t kc, size_t cols, float *dst, size_t nr) {
  size_t jj = 0;
  for (; jj + 8 <= cols; jj += 8) {
    size_t q = 0;
    for (; q + 8 <= kc; q += 8) transpose8x8(b + jj * ldb + q, ldb, dst + q * nr + jj, nr);
    for (; q < kc; q++)
      for (size_t r = jj; r < jj + 8; r++) dst[q * nr + r] = b[r * ldb + q];
  }
  for (; jj < cols; jj++)
    for (size_t q = 0; q < kc; q++) dst[q * nr + jj] = b[jj * ldb + q];
}

#endif
