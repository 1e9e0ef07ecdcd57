/* Our own GEMM for machines without a system CBLAS: the Goto/BLIS loop structure. Included once per ISA path by
 * gemm-avx512.c, gemm-avx2.c and gemm-baseline.c, which set the compile target, MR and DL_BLOCKED_NAME;
 * dl_gemm_portable (gemm.c) calls the path dl_isa() picked.
 *   for each NC-wide column panel of B, for each KC-deep slice:
 *     pack B[KC × NC] into NR-wide strips (widening f16/bf16 here — packing is the per-tile conversion),
 *     in parallel over MC-row blocks of A: pack A[MC × KC] into MR-tall strips, then run an MR × NR
 *     micro-kernel over every strip pair, accumulating in registers.
 * The micro-kernel is plain C over a 16-float vector type that the including file's target maps to registers. */
#include "difflens.h"

#include <stdlib.h>

#ifndef NR
#define NR 16 /* the generic micro-kernel is 16 wide; an own one may set NR */
#endif
#define KC 256
#define MC 96 /* multiple of every MR (6, 4) */
#define NC 4096 /* multiple of every NR (16, 32) */

typedef struct {
  int trans_a;
  size_t m, k;
  float alpha, beta;
  const float *a;
  size_t lda;
  const float *bp; /* packed panel [strips][kc][NR] */
  size_t jc, nc, pc, kc;
  float *c;
  size_t ldc;
  size_t groups; /* B strip groups per m block */
  int all_slices; /* bp holds every KC slice of this column panel (at pc·strips·NR): tasks run all of them */
} compute_job;

typedef struct {
  const void *b;
  int b_dtype, trans_b;
  size_t ldb, jc, nc, pc, kc;
  float *bp;
} pack_b_job;

static inline float load_b(const void *b, int dtype, size_t idx) {
  if (dtype == DL_F32) return ((const float *)b)[idx];
  if (dtype == DL_BF16) return dl_bf16_to_f32(((const uint16_t *)b)[idx]);
  return dl_f16_to_f32(((const uint16_t *)b)[idx]);
}

/* Pack strips [begin, end) of the B panel; element (p, j) of op(B) lives at b[p·sp + j·sj]. */
static void pack_b_range(void *p, size_t begin, size_t end) {
  const pack_b_job *job = p;
  const size_t sp = job->trans_b ? 1 : job->ldb;
  const size_t sj = job->trans_b ? job->ldb : 1;
  for (size_t s = begin; s < end; s++) {
    float *dst = job->bp + s * job->kc * NR;
    size_t j0 = job->jc + s * NR;
    size_t cols = job->nc - s * NR < NR ? job->nc - s * NR : NR;
    if (job->trans_b) {
      /* B stored [N, K]: read each of the strip's rows of B contiguously (a gather across rows is ~3× slower). */
      if (cols < NR) memset(dst, 0, job->kc * NR * sizeof(float));
      for (size_t jj = 0; jj < cols; jj++) {
        const size_t row = (j0 + jj) * sj + job->pc;
        if (job->b_dtype == DL_F32) {
          const float *src = (const float *)job->b + row;
          for (size_t q = 0; q < job->kc; q++) dst[q * NR + jj] = src[q];
        } else {
          for (size_t q = 0; q < job->kc; q++) dst[q * NR + jj] = load_b(job->b, job->b_dtype, row + q);
        }
      }
      continue;
    }
    for (size_t q = 0; q < job->kc; q++) {
      size_t row = (job->pc + q) * sp;
      size_t jj = 0;
      if (job->b_dtype == DL_F32 && sj == 1) {
        const float *src = (const float *)job->b + row + j0;
        for (; jj < cols; jj++) dst[q * NR + jj] = src[jj];
      } else {
        for (; jj < cols; jj++) dst[q * NR + jj] = load_b(job->b, job->b_dtype, row + (j0 + jj) * sj);
      }
      for (; jj < NR; jj++) dst[q * NR + jj] = 0.0f;
    }
  }
}

static void pack_a(const compute_job *job, size_t ic, size_t mc, float *ap) {
  const size_t si = job->trans_a ? 1 : job->lda;
  const size_t sp = job->trans_a ? job->lda : 1;
  for (size_t s = 0; s * MR < mc; s++) {
    float *dst = ap + s * job->kc * MR;
    size_t rows = mc - s * MR < MR ? mc - s * MR : MR;
    for (size_t q = 0; q < job->kc; q++) {
      size_t i = 0;
      for (; i < rows; i++) dst[q * MR + i] = job->a[(ic + s * MR + i) * si + (job->pc + q) * sp];
      for (; i < MR; i++) dst[q * MR + i] = 0.0f;
    }
  }
}

/* GCC/Clang vector extension: 16 floats. The compiler maps it to 1 zmm, 2 ymm or 4 xmm registers
 * depending on the clone being compiled. aligned(4) lets it load from any float pointer. */
typedef float v16 __attribute__((vector_size(64), aligned(4)));

#ifndef DL_OWN_MICRO_KERNEL
/* acc = Σ_q a[q][0..MR) ⊗ b[q][0..NR) over kc packed steps. */
static inline void micro_kernel(const float *a, const float *b, size_t kc, float acc[MR][NR]) {
  v16 sum[MR];
  for (int i = 0; i < MR; i++) sum[i] = (v16){0};
  for (size_t q = 0; q < kc; q++) {
    const v16 bv = *(const v16 *)(b + q * NR);
    for (int i = 0; i < MR; i++) sum[i] += a[q * MR + i] * bv;
  }
  memcpy(acc, sum, sizeof sum);
}
#endif

/* Strips [sb_begin, sb_end) of the packed B panel against one packed A block. */
static void macro_kernel(const compute_job *job, size_t ic, size_t mc, const float *ap, size_t sb_begin, size_t sb_end) {
  const int first_slice = job->pc == 0;
  for (size_t sb = sb_begin; sb < sb_end; sb++) {
    const float *bp = job->bp + sb * job->kc * NR;
    size_t cols = job->nc - sb * NR < NR ? job->nc - sb * NR : NR;
    for (size_t sa = 0; sa * MR < mc; sa++) {
      const float *a = ap + sa * job->kc * MR;
      float acc[MR][NR];
      size_t rows = mc - sa * MR < MR ? mc - sa * MR : MR;
      /* Ask for the C tile while the micro-kernel runs: with a short K the update of C is most of the traffic. */
      for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j += 16)
          __builtin_prefetch(job->c + (ic + sa * MR + i) * job->ldc + job->jc + sb * NR + j, 1);
      micro_kernel(a, bp, job->kc, acc);
      for (size_t i = 0; i < rows; i++) {
        float *crow = job->c + (ic + sa * MR + i) * job->ldc + job->jc + sb * NR;
        const float *tile = acc[i];
        if (first_slice && job->beta == 0.0f) {
          for (size_t j = 0; j < cols; j++) crow[j] = job->alpha * tile[j];
        } else {
          const float keep = first_slice ? job->beta : 1.0f;
          for (size_t j = 0; j < cols; j++) crow[j] = keep * crow[j] + job->alpha * tile[j];
        }
      }
    }
  }
}

/* Task t = (m block, group of B strips); groups > 1 only when there are too few m blocks to keep
 * every thread busy (then each task packs its A block itself — cheap next to the multiply). */
static void compute_range(void *p, size_t begin, size_t end) {
  const compute_job *job = p;
  float *ap = malloc((size_t)MC * KC * sizeof(float));
  if (!ap) abort();
  const size_t strips = (job->nc + NR - 1) / NR;
  size_t packed_blk = (size_t)-1;
  for (size_t t = begin; t < end; t++) {
    size_t blk = t / job->groups, g = t % job->groups;
    size_t ic = blk * MC;
    size_t mc = job->m - ic < MC ? job->m - ic : MC;
    size_t sb_begin = strips * g / job->groups, sb_end = strips * (g + 1) / job->groups;
    if (!job->all_slices) {
      if (blk != packed_blk) { pack_a(job, ic, mc, ap); packed_blk = blk; }
      macro_kernel(job, ic, mc, ap, sb_begin, sb_end);
      continue;
    }
    for (size_t pc = 0; pc < job->k; pc += KC) {
      compute_job slice = *job;
      slice.pc = pc;
      slice.kc = job->k - pc < KC ? job->k - pc : KC;
      slice.bp = job->bp + pc * strips * NR;
      pack_a(&slice, ic, mc, ap);
      macro_kernel(&slice, ic, mc, ap, sb_begin, sb_end);
    }
  }
  free(ap);
}

/* Every KC slice of a narrow column panel at once: pack task t = (slice, strip). */
static void pack_b_all_range(void *p, size_t begin, size_t end) {
  const pack_b_job *job = p;
  const size_t strips = (job->nc + NR - 1) / NR;
  for (size_t t = begin; t < end; t++) {
    pack_b_job slice = *job;
    slice.pc = t / strips * KC;
    slice.kc = job->kc - slice.pc < KC ? job->kc - slice.pc : KC;
    slice.bp = job->bp + slice.pc * strips * NR;
    pack_b_range(&slice, t % strips, t % strips + 1);
  }
}

void DL_BLOCKED_NAME(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                     const void *b, int b_dtype, size_t ldb, float beta, float *c, size_t ldc) {
  float *bp = aligned_alloc(64, (size_t)KC * NC * sizeof(float));
  if (!bp) abort();
  const size_t m_blocks = (m + MC - 1) / MC;
  for (size_t jc = 0; jc < n; jc += NC) {
    size_t nc = n - jc < NC ? n - jc : NC;
    const size_t strips = (nc + NR - 1) / NR;
    size_t groups = m_blocks >= 8 ? 1 : (8 + m_blocks - 1) / m_blocks;
    if (groups > strips) groups = strips;
    /* Narrow B (attention's N = head dim): the whole K × nc panel fits the buffer, so pack it once and let each task
     * run every slice; one fork-join instead of one per slice, which at N = 128 was half the time. */
    if (k > KC && k * strips * NR <= (size_t)KC * NC) {
      pack_b_job pj = {b, b_dtype, trans_b, ldb, jc, nc, 0, k, bp};
      dl_parallel_for(((k + KC - 1) / KC) * strips, 8, pack_b_all_range, &pj);
      compute_job cj = {trans_a, m, k, alpha, beta, a, lda, bp, jc, nc, 0, k, c, ldc, groups, 1};
      dl_parallel_for(m_blocks * groups, 1, compute_range, &cj);
      continue;
    }
    for (size_t pc = 0; pc < k; pc += KC) {
      size_t kc = k - pc < KC ? k - pc : KC;
      pack_b_job pj = {b, b_dtype, trans_b, ldb, jc, nc, pc, kc, bp};
      dl_parallel_for(strips, 8, pack_b_range, &pj);
      compute_job cj = {trans_a, m, k, alpha, beta, a, lda, bp, jc, nc, pc, kc, c, ldc, groups, 0};
      dl_parallel_for(m_blocks * groups, 1, compute_range, &cj);
    }
  }
  free(bp);
}
