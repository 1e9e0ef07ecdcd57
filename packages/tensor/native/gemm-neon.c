/* The blocked GEMM compiled for arm64 NEON (Apple Silicon, Graviton): a 6 × 16 micro-tile keeps 24 accumulators,
 * 4 B vectors and 2 A registers in NEON's 32 q registers; each A value is used by lane (fmla by element), so A needs
 * no broadcast. Tested for correctness under qemu-user (test/arm64-qemu.test.ts), not measured on hardware. */
#if defined(__aarch64__)
#define DL_BLOCKED_NAME dl_gemm_blocked_neon
#define MR 6
#define NR 16
#include <arm_neon.h>
#include <stddef.h>

#define DL_OWN_MICRO_KERNEL
/* Row i of the tile += (A value in `lane` of `av`) · the four B vectors; `fma` picks the q (laneq) or d (lane) form. */
#define DL_NEON_ROW(i, fma, av, lane)                                                                  \
  c##i##0 = fma(c##i##0, b0, av, lane), c##i##1 = fma(c##i##1, b1, av, lane), \
  c##i##2 = fma(c##i##2, b2, av, lane), c##i##3 = fma(c##i##3, b3, av, lane)
#define DL_NEON_STORE(i) \
  vst1q_f32(acc[i], c##i##0), vst1q_f32(acc[i] + 4, c##i##1), vst1q_f32(acc[i] + 8, c##i##2), \
  vst1q_f32(acc[i] + 12, c##i##3)

static inline __attribute__((always_inline)) void micro_kernel(const float *a, size_t si, size_t sp, const float *b, size_t kc, float acc[MR][NR]) {
  float32x4_t c00 = vdupq_n_f32(0.0f), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  float32x4_t c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
  float32x4_t c40 = c00, c41 = c00, c42 = c00, c43 = c00, c50 = c00, c51 = c00, c52 = c00, c53 = c00;
  for (size_t q = 0; q < kc; q++, a += sp, b += NR) {
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8), b3 = vld1q_f32(b + 12);
    /* A rows 0–3 as one q register, rows 4–5 as one d register: a 4-wide load there would read past the packed A. */
    float32x4_t a03;
    float32x2_t a45;
    if (si == 1) {
      a03 = vld1q_f32(a), a45 = vld1_f32(a + 4);
    } else {
      const float a_rows[6] = {a[0], a[si], a[2 * si], a[3 * si], a[4 * si], a[5 * si]};
      a03 = vld1q_f32(a_rows), a45 = vld1_f32(a_rows + 4);
    }
    DL_NEON_ROW(0, vfmaq_laneq_f32, a03, 0);
    DL_NEON_ROW(1, vfmaq_laneq_f32, a03, 1);
    DL_NEON_ROW(2, vfmaq_laneq_f32, a03, 2);
    DL_NEON_ROW(3, vfmaq_laneq_f32, a03, 3);
    DL_NEON_ROW(4, vfmaq_lane_f32, a45, 0);
    DL_NEON_ROW(5, vfmaq_lane_f32, a45, 1);
  }
  DL_NEON_STORE(0), DL_NEON_STORE(1), DL_NEON_STORE(2), DL_NEON_STORE(3), DL_NEON_STORE(4), DL_NEON_STORE(5);
}
#include "gemm-blocked.h"
#endif
