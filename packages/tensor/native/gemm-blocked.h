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
#define DL_DIRECT_A_STRIPS 8

typedef struct {
  int trans_a;
  size_t m, k;
  float alpha, beta;
  const float *a;
  size_t lda;
  const float *bp; /* packed panel: strip s at bp + s·b_strip, NR floats per k step */
  size_t b_strip;
  size_t jc, nc, pc, kc;
  float *c;
  size_t ldc;
  size_t groups; /* B strip groups per m block */
  int all_slices; /* bp holds all of K for each strip (b_strip = k·NR): tasks run every KC slice */
  int direct_a; /* with all_slices: A read in place over all of K (no packing, one C write per tile) */
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
#ifdef DL_OWN_PACK_B_TRANS
      if (job->b_dtype == DL_F32) {
        pack_b_trans_f32((const float *)job->b + j0 * sj + job->pc, sj, job->kc, cols, dst, NR);
        continue;
      }
#endif
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

/* Pack rows [row0, row0 + rows) of the A block at K offset job->pc into one MR-tall strip, zero-padded to MR rows. */
static void pack_a_strip(const compute_job *job, size_t row0, size_t rows, float *dst) {
  const size_t si = job->trans_a ? 1 : job->lda;
  const size_t sp = job->trans_a ? job->lda : 1;
  if (!job->trans_a) {
    /* A stored [M, K]: read each row contiguously, write it MR apart. */
    for (size_t i = 0; i < rows; i++) {
      const float *src = job->a + (row0 + i) * si + job->pc;
      for (size_t q = 0; q < job->kc; q++) dst[q * MR + i] = src[q];
    }
    for (size_t i = rows; i < MR; i++)
      for (size_t q = 0; q < job->kc; q++) dst[q * MR + i] = 0.0f;
    return;
  }
  for (size_t q = 0; q < job->kc; q++) {
    size_t i = 0;
    for (; i < rows; i++) dst[q * MR + i] = job->a[(row0 + i) * si + (job->pc + q) * sp];
    for (; i < MR; i++) dst[q * MR + i] = 0.0f;
  }
}

static void pack_a(const compute_job *job, size_t ic, size_t mc, float *ap) {
  for (size_t s = 0; s * MR < mc; s++) {
    size_t rows = mc - s * MR < MR ? mc - s * MR : MR;
    pack_a_strip(job, ic + s * MR, rows, ap + s * job->kc * MR);
  }
}

/* GCC/Clang vector extension: 16 floats. The compiler maps it to 1 zmm, 2 ymm or 4 xmm registers
 * depending on the clone being compiled. aligned(4) lets it load from any float pointer. */
typedef float v16 __attribute__((vector_size(64), aligned(4)));

/* Micro-kernels read A element (i, q) at a[i·si + q·sp]: packed strips (si = 1, sp = MR) or A in place. */
#ifndef DL_OWN_MICRO_KERNEL
/* acc = Σ_q a[q][0..MR) ⊗ b[q][0..NR) over kc packed steps. */
static inline __attribute__((always_inline)) void micro_kernel(const float *a, size_t si, size_t sp, const float *b, size_t kc, float acc[MR][NR]) {
  v16 sum[MR];
  for (int i = 0; i < MR; i++) sum[i] = (v16){0};
  for (size_t q = 0; q < kc; q++) {
    const v16 bv = *(const v16 *)(b + q * NR);
    for (int i = 0; i < MR; i++) sum[i] += a[q * sp + i * si] * bv;
  }
  memcpy(acc, sum, sizeof sum);
}
#endif

#ifndef DL_OWN_TILE_KERNEL
/* C[rows × cols] = alpha · (A strip · B strip) + keep · C; C is not read when overwrite. */
static inline __attribute__((always_inline)) void tile_kernel(const float *a, size_t si, size_t sp, const float *b, size_t kc, float *c, size_t ldc,
                               size_t rows, size_t cols, float alpha, float keep, int overwrite) {
  float acc[MR][NR];
  micro_kernel(a, si, sp, b, kc, acc);
  for (size_t i = 0; i < rows; i++) {
    float *crow = c + i * ldc;
    const float *tile = acc[i];
    if (overwrite) {
      for (size_t j = 0; j < cols; j++) crow[j] = alpha * tile[j];
    } else {
      for (size_t j = 0; j < cols; j++) crow[j] = keep * crow[j] + alpha * tile[j];
    }
  }
}
#endif

/* Strips [sb_begin, sb_end) of the packed B panel against one A block: packed (ap, strips kc·MR apart) or, when
 * ap is NULL, A read in place (a partial last strip is packed into edge, MR·kc floats). */
static void macro_kernel(const compute_job *job, size_t ic, size_t mc, const float *ap, float *edge, size_t sb_begin,
                         size_t sb_end) {
  const int overwrite = job->pc == 0 && job->beta == 0.0f;
  const float keep = job->pc == 0 ? job->beta : 1.0f;
  const size_t rs = job->trans_a ? 1 : job->lda, cs = job->trans_a ? job->lda : 1;
  const int edge_packed = !ap && mc % MR != 0;
  if (edge_packed) pack_a_strip(job, ic + mc / MR * MR, mc % MR, edge);
  for (size_t sb = sb_begin; sb < sb_end; sb++) {
    const float *bp = job->bp + sb * job->b_strip;
    size_t cols = job->nc - sb * NR < NR ? job->nc - sb * NR : NR;
    for (size_t sa = 0; sa * MR < mc; sa++) {
      size_t rows = mc - sa * MR < MR ? mc - sa * MR : MR;
      float *c = job->c + (ic + sa * MR) * job->ldc + job->jc + sb * NR;
      /* Ask for the C tile while the micro-kernel runs: with a short K the update of C is most of the traffic. */
      for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j += 16) __builtin_prefetch(c + i * job->ldc + j, 1);
      if (ap) tile_kernel(ap + sa * job->kc * MR, 1, MR, bp, job->kc, c, job->ldc, rows, cols, job->alpha, keep, overwrite);
      else if (rows < MR) tile_kernel(edge, 1, MR, bp, job->kc, c, job->ldc, rows, cols, job->alpha, keep, overwrite);
      else tile_kernel(job->a + (ic + sa * MR) * rs + job->pc * cs, rs, cs, bp, job->kc, c, job->ldc, rows, cols, job->alpha, keep, overwrite);
    }
  }
}

/* Task t = (m block, group of B strips); groups > 1 only when there are too few m blocks to keep
 * every thread busy (then each task packs its A block itself — cheap next to the multiply). */
static void compute_range(void *p, size_t begin, size_t end) {
  const compute_job *job = p;
  float *ap = malloc((job->direct_a ? (size_t)MR * job->k : (size_t)MC * KC) * sizeof(float));
  if (!ap) abort();
  const size_t strips = (job->nc + NR - 1) / NR;
  size_t packed_blk = (size_t)-1;
  for (size_t t = begin; t < end; t++) {
    size_t blk = t / job->groups, g = t % job->groups;
    size_t ic = blk * MC;
    size_t mc = job->m - ic < MC ? job->m - ic : MC;
    size_t sb_begin = strips * g / job->groups, sb_end = strips * (g + 1) / job->groups;
    if (job->direct_a) {
      macro_kernel(job, ic, mc, NULL, ap, sb_begin, sb_end);
    } else if (!job->all_slices) {
      if (blk != packed_blk) { pack_a(job, ic, mc, ap); packed_blk = blk; }
      macro_kernel(job, ic, mc, ap, NULL, sb_begin, sb_end);
    } else {
      for (size_t pc = 0; pc < job->k; pc += KC) {
        compute_job slice = *job;
        slice.pc = pc;
        slice.kc = job->k - pc < KC ? job->k - pc : KC;
        slice.bp = job->bp + pc * NR;
        pack_a(&slice, ic, mc, ap);
        macro_kernel(&slice, ic, mc, ap, NULL, sb_begin, sb_end);
      }
    }
  }
  free(ap);
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
    /* Narrow B (attention's N = head dim): the whole K × nc panel fits the buffer, so pack it once, each strip over
     * all of K, and let each task run every slice; one fork-join instead of one per slice. With at most
     * DL_DIRECT_A_STRIPS strips each A element is used only that often, so packing A would cost more than it saves:
     * the micro-kernel reads A in place over all of K and writes each C tile once. */
    if (k > KC && k * strips * NR <= (size_t)KC * NC) {
      pack_b_job pj = {b, b_dtype, trans_b, ldb, jc, nc, 0, k, bp};
      dl_parallel_for(strips, 1, pack_b_range, &pj);
      const int direct = !trans_a && strips <= DL_DIRECT_A_STRIPS; /* A [K, M] in place would touch a new line per k step */
      compute_job cj = {trans_a, m, k, alpha, beta, a, lda, bp, k * NR, jc, nc, 0, k, c, ldc, groups, 1, direct};
      dl_parallel_for(m_blocks * groups, 1, compute_range, &cj);
      continue;
    }
    for (size_t pc = 0; pc < k; pc += KC) {
      size_t kc = k - pc < KC ? k - pc : KC;
      pack_b_job pj = {b, b_dtype, trans_b, ldb, jc, nc, pc, kc, bp};
      dl_parallel_for(strips, 8, pack_b_range, &pj);
      compute_job cj = {trans_a, m, k, alpha, beta, a, lda, bp, kc * NR, jc, nc, pc, kc, c, ldc, groups, 0, 0};
      dl_parallel_for(m_blocks * groups, 1, compute_range, &cj);
    }
  }
  free(bp);
}
