/* Kernels for TopK sparse autoencoders (and any k-sparse code): the bias-add + per-row top-k over an
 * encoder GEMM's output, sparse decode (rows of a table weighted by k codes per row) and its
 * transposed accumulation for the backward pass. Results never depend on the thread count: rows are
 * independent, and the backward pass groups (row, code) pairs by table row and accumulates each table
 * row's gradient in increasing input-row order on one thread. Semantics: src/backends/js/sparse.ts. */
#include "difflens.h"
#include "topk-scan.h"

#include <math.h>
#include <stdlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Top-k of z + bias over one row into heap[0..k) (topk-scan.h), compiled per ISA path. */
DL_MULTIVERSION
static void bias_topk_row(const float *z, const float *bias, size_t n, size_t k, entry *heap, int32_t *block_max) {
  topk_scan_row(z, bias, n, k, heap, block_max);
}

static void emit(const float *z, const float *bias, entry *heap, size_t k, float *values, int32_t *indices) {
  qsort(heap, k, sizeof(entry), best_first);
  for (size_t i = 0; i < k; i++) {
    int32_t j = heap[i].idx;
    values[i] = z[j] + bias[j];
    indices[i] = j;
  }
}

typedef struct {
  const float *z, *bias; size_t n, k; float *values; int32_t *indices;
  const int32_t *cand; size_t ncand, kc; float *cvalues; int32_t *cindices;
} bias_topk_job;

static void bias_topk_range(void *p, size_t begin, size_t end) {
  const bias_topk_job *j = p;
  size_t cap = j->k > j->kc ? j->k : j->kc;
  entry *heap = malloc((cap ? cap : 1) * sizeof(entry));
  int32_t *block_max = malloc(topk_scan_scratch(j->n) * sizeof(int32_t));
  if (!heap || !block_max) abort();
  for (size_t r = begin; r < end; r++) {
    const float *z = j->z + r * j->n;
    if (j->k > 0) {
      bias_topk_row(z, j->bias, j->n, j->k, heap, block_max);
      emit(z, j->bias, heap, j->k, j->values + r * j->k, j->indices + r * j->k);
    }
    if (j->kc > 0) {
      size_t filled = 0;
      for (size_t c = 0; c < j->ncand; c++) {
        int32_t col = j->cand[c];
        heap_offer(heap, &filled, j->kc, (entry){rank_key(z[col] + j->bias[col]), col});
      }
      emit(z, j->bias, heap, j->kc, j->cvalues + r * j->kc, j->cindices + r * j->kc);
    }
  }
  free(heap);
  free(block_max);
}

void dl_bias_topk(const float *z, const float *bias, size_t rows, size_t n, size_t k, float *values, int32_t *indices,
                  const int32_t *cand, size_t ncand, size_t kc, float *cvalues, int32_t *cindices) {
  if (rows == 0 || (k == 0 && kc == 0)) return;
  bias_topk_job job = {z, bias, n, k, values, indices, cand, ncand, kc, cvalues, cindices};
  dl_parallel_for(rows, (16384 + n - 1) / (n ? n : 1), bias_topk_range, &job);
}

/* The decode visits table rows in an order no hardware prefetcher can guess (a row per code): it asks for the next
 * code's row into L2 while it works on this one (~31 → ~25 ms at the SAE bench's shape, 4096 × 32 codes over 32768
 * rows of 1024). The same in the backward pass, for the next pair's input rows, measured no gain, so it has none. */
static inline void prefetch_row(const float *row, size_t d) {
  for (size_t i = 0; i < d; i += 16) __builtin_prefetch(row + i, 0, 2);
}

/* ---- sparse decode: out[r] += alpha · Σ_c relu(val[r,c]) · table[idx[r,c]] ---- */
DL_MULTIVERSION
static void axpy_row(float *restrict out, const float *restrict t, float a, size_t d) {
  for (size_t i = 0; i < d; i++) out[i] += a * t[i];
}

typedef struct { float *out; size_t d; const int32_t *idx; const float *val; size_t kk; const float *table; float alpha; } decode_job;

static void decode_range(void *p, size_t begin, size_t end) {
  const decode_job *j = p;
  size_t last = end * j->kk;
  for (size_t r = begin; r < end; r++) {
    for (size_t c = r * j->kk; c < (r + 1) * j->kk; c++) {
      float a = j->val[c];
      if (!(a > 0.0f)) continue;
      if (c + 1 < last) prefetch_row(j->table + (size_t)j->idx[c + 1] * j->d, j->d);
      axpy_row(j->out + r * j->d, j->table + (size_t)j->idx[c] * j->d, j->alpha * a, j->d);
    }
  }
}

void dl_sparse_decode(float *out, size_t rows, size_t d, const int32_t *idx, const float *val, size_t kk, const float *table, float alpha) {
  decode_job job = {out, d, idx, val, kk, table, alpha};
  dl_parallel_for(rows, 8, decode_range, &job);
}

/* ---- transposed accumulation (backward of the sparse decode and of the encoder rows) ----
 * For each pair (r, c) with a = val[r,c] > 0 and j = idx[r,c]:
 *   dz = g[r]·table[j];  gtable[j] += a·g[r];  genc[j] += dz·x[r];  gbias[j] += dz;  touched[j] = 1.
 * With overwrite, rows j not touched on entry start from zero instead of their contents (which are never read). */
DL_MULTIVERSION
static float dot16(const float *restrict a, const float *restrict b, size_t d) {
  float lane[16] = {0};
  size_t i = 0;
  for (; i + 16 <= d; i += 16)
    for (size_t l = 0; l < 16; l++) lane[l] += a[i + l] * b[i + l];
  float s = 0;
  for (; i < d; i++) s += a[i] * b[i];
  for (size_t l = 0; l < 16; l++) s += lane[l];
  return s;
}

DL_MULTIVERSION
static void two_axpy(float *restrict y1, const float *restrict x1, float a1, float *restrict y2, const float *restrict x2, float a2, size_t d) {
  for (size_t i = 0; i < d; i++) { y1[i] += a1 * x1[i]; y2[i] += a2 * x2[i]; }
}

/* A finished gradient row from L1 scratch to memory. Streaming stores where the target is 16-byte aligned (SSE2,
 * every x86-64): the row is not read first, and does not evict the rows the pass still reuses. */
static void store_row(float *restrict dst, const float *restrict src, size_t d) {
#if defined(__SSE2__)
  if (((uintptr_t)dst & 15) == 0) {
    size_t i = 0;
    for (; i + 4 <= d; i += 4) _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
    for (; i < d; i++) dst[i] = src[i];
    return;
  }
#endif
  memcpy(dst, src, d * sizeof(float));
}

typedef struct {
  size_t kk, d; const int32_t *start, *pairs; const float *val, *g, *x, *table;
  float *gtable, *genc, *gbias; uint8_t *touched; int overwrite;
} backward_job;

static void backward_range(void *p, size_t begin, size_t end) {
  const backward_job *j = p;
  /* Rows overwritten (not yet touched, with overwrite on) accumulate in scratch [2, d] and are stored once. */
  float *scratch = NULL;
  if (j->overwrite && !(scratch = aligned_alloc(64, (2 * j->d * sizeof(float) + 63) / 64 * 64))) abort();
  for (size_t col = begin; col < end; col++) {
    int32_t s = j->start[col], e = j->start[col + 1];
    if (s == e) continue;
    int fresh = j->overwrite && !j->touched[col];
    const float *w = j->table + col * j->d;
    float *gt = fresh ? scratch : j->gtable + col * j->d, *ge = fresh ? scratch + j->d : j->genc + col * j->d;
    float gb = fresh ? 0.0f : j->gbias[col];
    if (fresh) memset(scratch, 0, 2 * j->d * sizeof(float));
    for (int32_t q = s; q < e; q++) {
      size_t pair = (size_t)j->pairs[q], r = pair / j->kk;
      const float *gr = j->g + r * j->d, *xr = j->x + r * j->d;
      float dz = dot16(gr, w, j->d);
      two_axpy(gt, gr, j->val[pair], ge, xr, dz, j->d);
      gb += dz;
    }
    if (fresh) {
      store_row(j->gtable + col * j->d, gt, j->d);
      store_row(j->genc + col * j->d, ge, j->d);
    }
    j->gbias[col] = gb;
    j->touched[col] = 1;
  }
#if defined(__SSE2__)
  _mm_sfence(); /* streaming stores are weakly ordered: make them visible before the pool reports this range done */
#endif
  free(scratch);
}

/* Returns 0 on allocation failure. */
int dl_sparse_backward(size_t rows, size_t kk, size_t d, size_t table_rows, const int32_t *idx, const float *val,
                       const float *g, const float *x, const float *table, float *gtable, float *genc, float *gbias, uint8_t *touched,
                       int overwrite) {
  size_t npairs = rows * kk;
  int32_t *start = calloc(table_rows + 1, sizeof(int32_t));
  int32_t *pairs = malloc((npairs ? npairs : 1) * sizeof(int32_t));
  if (!start || !pairs) { free(start); free(pairs); return 0; }
  /* counting sort of the active pairs by table row, stable (increasing input row within a table row) */
  for (size_t q = 0; q < npairs; q++) if (val[q] > 0.0f) start[idx[q] + 1]++;
  for (size_t c = 0; c < table_rows; c++) start[c + 1] += start[c];
  int32_t *fill = malloc((table_rows ? table_rows : 1) * sizeof(int32_t));
  if (!fill) { free(start); free(pairs); return 0; }
  memcpy(fill, start, table_rows * sizeof(int32_t));
  for (size_t q = 0; q < npairs; q++) if (val[q] > 0.0f) pairs[fill[idx[q]]++] = (int32_t)q;
  free(fill);
  backward_job job = {kk, d, start, pairs, val, g, x, table, gtable, genc, gbias, touched, overwrite};
  dl_parallel_for(table_rows, 64, backward_range, &job);
  free(start);
  free(pairs);
  return 1;
}
