/* Kernels for TopK sparse autoencoders (and any k-sparse code): the bias-add + per-row top-k over an
 * encoder GEMM's output, sparse decode (rows of a table weighted by k codes per row) and its
 * transposed accumulation for the backward pass. Results never depend on the thread count: rows are
 * independent, and the backward pass groups (row, code) pairs by table row and accumulates each table
 * row's gradient in increasing input-row order on one thread. Semantics: src/backends/js/sparse.ts. */
#include "difflens.h"
#include "topk-heap.h"

#include <math.h>
#include <stdlib.h>

#define BLOCK 32

/* v = x + b for one block; whether any v ranks above `threshold`. */
DL_MULTIVERSION
static int block_add_has_greater(const float *restrict x, const float *restrict b, float *restrict v, size_t len, int32_t threshold) {
  int any = 0;
  for (size_t i = 0; i < len; i++) {
    float s = x[i] + b[i];
    v[i] = s;
    any |= rank_key(s) > threshold;
  }
  return any;
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
  if (!heap) abort();
  float v[BLOCK];
  for (size_t r = begin; r < end; r++) {
    const float *z = j->z + r * j->n;
    if (j->k > 0) {
      size_t filled = 0, i = 0;
      for (; i < j->n && filled < j->k; i++) heap_offer(heap, &filled, j->k, (entry){rank_key(z[i] + j->bias[i]), (int32_t)i});
      while (i < j->n) {
        size_t len = j->n - i < BLOCK ? j->n - i : BLOCK;
        if (block_add_has_greater(z + i, j->bias + i, v, len, heap[0].key)) {
          for (size_t q = 0; q < len; q++) {
            entry e = {rank_key(v[q]), (int32_t)(i + q)};
            if (e.key > heap[0].key) { heap[0] = e; sift_down(heap, j->k, 0); }
          }
        }
        i += len;
      }
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
}

void dl_bias_topk(const float *z, const float *bias, size_t rows, size_t n, size_t k, float *values, int32_t *indices,
                  const int32_t *cand, size_t ncand, size_t kc, float *cvalues, int32_t *cindices) {
  if (rows == 0 || (k == 0 && kc == 0)) return;
  bias_topk_job job = {z, bias, n, k, values, indices, cand, ncand, kc, cvalues, cindices};
  dl_parallel_for(rows, (16384 + n - 1) / (n ? n : 1), bias_topk_range, &job);
}

/* ---- sparse decode: out[r] += alpha · Σ_c relu(val[r,c]) · table[idx[r,c]] ---- */
DL_MULTIVERSION
static void axpy_row(float *restrict out, const float *restrict t, float a, size_t d) {
  for (size_t i = 0; i < d; i++) out[i] += a * t[i];
}

typedef struct { float *out; size_t d; const int32_t *idx; const float *val; size_t kk; const float *table; float alpha; } decode_job;

static void decode_range(void *p, size_t begin, size_t end) {
  const decode_job *j = p;
  for (size_t r = begin; r < end; r++) {
    for (size_t c = r * j->kk; c < (r + 1) * j->kk; c++) {
      float a = j->val[c];
      if (!(a > 0.0f)) continue;
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
 *   dz = g[r]·table[j];  gtable[j] += a·g[r];  genc[j] += dz·x[r];  gbias[j] += dz;  touched[j] = 1. */
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

typedef struct {
  size_t kk, d; const int32_t *start, *pairs; const float *val, *g, *x, *table;
  float *gtable, *genc, *gbias; uint8_t *touched;
} backward_job;

static void backward_range(void *p, size_t begin, size_t end) {
  const backward_job *j = p;
  for (size_t col = begin; col < end; col++) {
    int32_t s = j->start[col], e = j->start[col + 1];
    if (s == e) continue;
    const float *w = j->table + col * j->d;
    float *gt = j->gtable + col * j->d, *ge = j->genc + col * j->d;
    float gb = j->gbias[col];
    for (int32_t q = s; q < e; q++) {
      size_t pair = (size_t)j->pairs[q], r = pair / j->kk;
      const float *gr = j->g + r * j->d, *xr = j->x + r * j->d;
      float dz = dot16(gr, w, j->d);
      two_axpy(gt, gr, j->val[pair], ge, xr, dz, j->d);
      gb += dz;
    }
    j->gbias[col] = gb;
    j->touched[col] = 1;
  }
}

/* Returns 0 on allocation failure. */
int dl_sparse_backward(size_t rows, size_t kk, size_t d, size_t table_rows, const int32_t *idx, const float *val,
                       const float *g, const float *x, const float *table, float *gtable, float *genc, float *gbias, uint8_t *touched) {
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
  backward_job job = {kk, d, start, pairs, val, g, x, table, gtable, genc, gbias, touched};
  dl_parallel_for(table_rows, 64, backward_range, &job);
  free(start);
  free(pairs);
  return 1;
}
