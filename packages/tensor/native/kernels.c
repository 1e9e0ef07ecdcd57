/* Elementwise, row-wise and reduction kernels, threaded over contiguous ranges. Inner loops are
 * simple counted loops over restrict pointers (sums use 16 independent lanes) so they vectorize
 * without -ffast-math. Semantics match the js backend (src/backends/js). */
#include "difflens.h"

#include <math.h>
#include <stdlib.h>

#define ELEMWISE_CHUNK ((size_t)1 << 15) /* below ~32k elements threading costs more than it saves */

/* ---- broadcast add / mul ---- */
typedef struct { int op; const float *a; const float *b; size_t period; float *out; } binary_job;

DL_MULTIVERSION
static void binary_segment(int op, const float *restrict a, const float *restrict b, float *restrict out, size_t len) {
  if (op == 0) for (size_t i = 0; i < len; i++) out[i] = a[i] + b[i];
  else for (size_t i = 0; i < len; i++) out[i] = a[i] * b[i];
}

static void binary_range(void *p, size_t begin, size_t end) {
  const binary_job *j = p;
  size_t i = begin;
  while (i < end) {
    size_t bi = i % j->period;
    size_t len = j->period - bi;
    if (len > end - i) len = end - i;
    binary_segment(j->op, j->a + i, j->b + bi, j->out + i, len);
    i += len;
  }
}

void dl_binary(int op, const float *a, size_t n, const float *b, size_t period, float *out) {
  binary_job job = {op, a, b, period, out};
  dl_parallel_for(n, ELEMWISE_CHUNK, binary_range, &job);
}

/* ---- scale / axpby / silu ---- */
typedef struct { float alpha, beta; const float *a, *b; float *out; } lin_job;

DL_MULTIVERSION
static void scale_range(void *p, size_t begin, size_t end) {
  const lin_job *j = p;
  const float s = j->alpha;
  for (size_t i = begin; i < end; i++) j->out[i] = j->a[i] * s;
}
void dl_scale(const float *a, float s, float *out, size_t n) {
  lin_job job = {s, 0, a, NULL, out};
  dl_parallel_for(n, ELEMWISE_CHUNK, scale_range, &job);
}

DL_MULTIVERSION
static void axpby_range(void *p, size_t begin, size_t end) {
  const lin_job *j = p;
  const float alpha = j->alpha, beta = j->beta;
  for (size_t i = begin; i < end; i++) j->out[i] = alpha * j->a[i] + beta * j->b[i];
}
void dl_axpby(float alpha, const float *a, float beta, const float *b, float *out, size_t n) {
  lin_job job = {alpha, beta, a, b, out};
  dl_parallel_for(n, ELEMWISE_CHUNK, axpby_range, &job);
}

static inline float silu1(float x) { return x / (1.0f + expf(-x)); }

static void silu_range(void *p, size_t begin, size_t end) {
  const lin_job *j = p;
  for (size_t i = begin; i < end; i++) j->out[i] = silu1(j->a[i]);
}
void dl_silu(const float *x, float *out, size_t n) {
  lin_job job = {0, 0, x, NULL, out};
  dl_parallel_for(n, 8192, silu_range, &job);
}

static void silu_gate_range(void *p, size_t begin, size_t end) {
  const lin_job *j = p;
  for (size_t i = begin; i < end; i++) j->out[i] = silu1(j->a[i]) * j->b[i];
}
void dl_silu_gate(const float *g, const float *u, float *out, size_t n) {
  lin_job job = {0, 0, g, u, out};
  dl_parallel_for(n, 8192, silu_gate_range, &job);
}

/* ---- RMSNorm ---- */
typedef struct { const float *x; const float *w; float *out; size_t d; float eps; } rms_job;

DL_MULTIVERSION
static float sum_squares(const float *x, size_t n) {
  float lanes[16] = {0};
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; l++) lanes[l] += x[i + l] * x[i + l];
  double s = 0;
  for (int l = 0; l < 16; l++) s += lanes[l];
  for (; i < n; i++) s += (double)x[i] * x[i];
  return (float)s;
}

DL_MULTIVERSION
static void rms_range(void *p, size_t begin, size_t end) {
  const rms_job *j = p;
  const size_t d = j->d;
  for (size_t r = begin; r < end; r++) {
    const float *x = j->x + r * d;
    float *y = j->out + r * d;
    const float inv = (float)(1.0 / sqrt((double)sum_squares(x, d) / (double)d + (double)j->eps));
    for (size_t i = 0; i < d; i++) y[i] = x[i] * inv * j->w[i];
  }
}

void dl_rms_norm(const float *x, const void *w, int w_dtype, float w_offset, float *out, size_t rows, size_t d, float eps) {
  float *wf = NULL;
  const float *weights = w;
  if (w_dtype != DL_F32 || w_offset != 0.0f) {
    wf = malloc(d * sizeof(float));
    if (!wf && d) abort();
    if (w_dtype != DL_F32) dl_widen(w, w_dtype, wf, d);
    else memcpy(wf, w, d * sizeof(float));
    for (size_t i = 0; i < d && w_offset != 0.0f; i++) wf[i] += w_offset;
    weights = wf;
  }
  rms_job job = {x, weights, out, d, eps};
  dl_parallel_for(rows, (ELEMWISE_CHUNK + d - 1) / (d ? d : 1), rms_range, &job);
  free(wf);
}

/* ---- RoPE, split halves ---- */
typedef struct { float *x; const int32_t *pos; const float *inv; size_t heads, head_dim, half; } rope_job;

static void rope_range(void *p, size_t begin, size_t end) {
  const rope_job *j = p;
  float *cs = malloc(2 * j->half * sizeof(float));
  if (!cs && j->half) abort();
  float *sn = cs + j->half;
  for (size_t t = begin; t < end; t++) {
    for (size_t i = 0; i < j->half; i++) {
      const float angle = (float)j->pos[t] * j->inv[i]; /* f32 product, as HF computes it */
      cs[i] = (float)cos((double)angle);
      sn[i] = (float)sin((double)angle);
    }
    for (size_t h = 0; h < j->heads; h++) {
      float *v = j->x + (t * j->heads + h) * j->head_dim;
      for (size_t i = 0; i < j->half; i++) {
        const float x1 = v[i], x2 = v[i + j->half];
        v[i] = x1 * cs[i] - x2 * sn[i];
        v[i + j->half] = x2 * cs[i] + x1 * sn[i];
      }
    }
  }
  free(cs);
}

void dl_rope(float *x, const int32_t *positions, const float *inv_freq, size_t tokens, size_t heads, size_t head_dim, size_t half) {
  rope_job job = {x, positions, inv_freq, heads, head_dim, half};
  dl_parallel_for(tokens, 16, rope_range, &job);
}

/* ---- softmax, optionally causal (and sliding-window) ---- */
typedef struct { const float *x; float *out; size_t n, queries; long offset; size_t window; } softmax_job;

static void softmax_range(void *p, size_t begin, size_t end) {
  const softmax_job *j = p;
  for (size_t r = begin; r < end; r++) {
    const float *x = j->x + r * j->n;
    float *y = j->out + r * j->n;
    /* visible keys [first, visible) */
    size_t first = 0, visible = j->n;
    if (j->queries) {
      long v = (long)(r % j->queries) + j->offset + 1;
      visible = v < 0 ? 0 : ((size_t)v > j->n ? j->n : (size_t)v);
      if (j->window && visible > j->window) first = visible - j->window;
    }
    float mx = -INFINITY;
    for (size_t i = first; i < visible; i++) mx = x[i] > mx || isnan(x[i]) ? x[i] : mx;
    double sum = 0;
    for (size_t i = first; i < visible; i++) {
      y[i] = expf(x[i] - mx);
      sum += y[i];
    }
    const float inv = (float)(1.0 / sum);
    for (size_t i = first; i < visible; i++) y[i] *= inv;
    for (size_t i = 0; i < first; i++) y[i] = 0.0f;
    for (size_t i = visible; i < j->n; i++) y[i] = 0.0f;
  }
}

void dl_softmax(const float *x, float *out, size_t rows, size_t n, size_t queries, long offset, size_t window) {
  softmax_job job = {x, out, n, queries, offset, window};
  dl_parallel_for(rows, (8192 + n - 1) / (n ? n : 1), softmax_range, &job);
}

/* ---- gather / scatter-add rows ---- */
typedef struct { const void *table; int dtype; const int32_t *idx; float *out; size_t d; } gather_job;

static void gather_range(void *p, size_t begin, size_t end) {
  const gather_job *j = p;
  for (size_t i = begin; i < end; i++) {
    const size_t row = (size_t)j->idx[i] * j->d;
    if (j->dtype == DL_F32) memcpy(j->out + i * j->d, (const float *)j->table + row, j->d * sizeof(float));
    else dl_widen((const uint16_t *)j->table + row, j->dtype, j->out + i * j->d, j->d);
  }
}

void dl_gather_rows(const void *table, int dtype, const int32_t *idx, size_t count, float *out, size_t d) {
  gather_job job = {table, dtype, idx, out, d};
  dl_parallel_for(count, (ELEMWISE_CHUNK + d - 1) / (d ? d : 1), gather_range, &job);
}

/* Threads split the columns, not the rows, so repeated indices never race and the sum order is i order. */
typedef struct { float *target; const int32_t *idx; size_t count; const float *src; size_t d; } scatter_job;

static void scatter_range(void *p, size_t begin, size_t end) {
  const scatter_job *j = p;
  for (size_t i = 0; i < j->count; i++) {
    float *t = j->target + (size_t)j->idx[i] * j->d;
    const float *s = j->src + i * j->d;
    for (size_t c = begin; c < end; c++) t[c] += s[c];
  }
}

void dl_scatter_add_rows(float *target, const int32_t *idx, size_t count, const float *src, size_t d) {
  scatter_job job = {target, idx, count, src, d};
  size_t min_cols = count * 64 >= ELEMWISE_CHUNK ? 64 : d;
  dl_parallel_for(d, min_cols, scatter_range, &job);
}

/* ---- reductions over the middle axis of [outer, len, inner] ---- */
typedef struct { int op; const float *x; void *out; size_t len, inner; } reduce_job;

/* acc[i] += Σ_a x[a·stride + i] for i < width, a in increasing order (each column's sum is the same serial float64
 * sum as the scalar loop below, but read a row segment at a time, vectorized across columns). */
DL_MULTIVERSION
static void add_rows_f64(const float *restrict x, size_t len, size_t stride, size_t width, double *restrict acc) {
  for (size_t a = 0; a < len; a++) {
    const float *row = x + a * stride;
    for (size_t i = 0; i < width; i++) acc[i] += row[i];
  }
}

#define SUM_COLUMNS 256

/* sum / mean with inner > 1: columns of one outer slice at a time. Walking each column down its stride (the loop
 * below) missed the cache once per element and left the float64 adds one serial chain: the SAE step's column means
 * over [4096, 1024] took ~15 ms that way. */
static void sum_columns_range(const reduce_job *j, size_t begin, size_t end) {
  double acc[SUM_COLUMNS];
  for (size_t item = begin; item < end;) {
    const size_t o = item / j->inner, i = item % j->inner;
    size_t width = j->inner - i;
    if (width > end - item) width = end - item;
    if (width > SUM_COLUMNS) width = SUM_COLUMNS;
    for (size_t c = 0; c < width; c++) acc[c] = 0;
    add_rows_f64(j->x + o * j->len * j->inner + i, j->len, j->inner, width, acc);
    for (size_t c = 0; c < width; c++) ((float *)j->out)[item + c] = (float)(j->op == 1 ? acc[c] / (double)j->len : acc[c]);
    item += width;
  }
}

static void reduce_range(void *p, size_t begin, size_t end) {
  /* item = o · inner + i */
  const reduce_job *j = p;
  if (j->op <= 1 && j->inner > 1) {
    sum_columns_range(j, begin, end);
    return;
  }
  for (size_t item = begin; item < end; item++) {
    const size_t o = item / j->inner, i = item % j->inner;
    const float *x = j->x + o * j->len * j->inner + i;
    const size_t stride = j->inner;
    if (j->op <= 1) {
      double s = 0;
      for (size_t a = 0; a < j->len; a++) s += x[a * stride];
      ((float *)j->out)[item] = (float)(j->op == 1 ? s / (double)j->len : s);
    } else if (j->op == 2) {
      float m = -INFINITY;
      for (size_t a = 0; a < j->len; a++) {
        const float v = x[a * stride];
        if (isnan(v)) { m = v; break; }
        if (v > m) m = v;
      }
      ((float *)j->out)[item] = m;
    } else {
      size_t best = 0;
      float bv = x[0];
      for (size_t a = 1; a < j->len && !isnan(bv); a++) {
        const float v = x[a * stride];
        if (v > bv || isnan(v)) { best = a; bv = v; }
      }
      ((int32_t *)j->out)[item] = (int32_t)best;
    }
  }
}

void dl_reduce(int op, const float *x, void *out, size_t outer, size_t len, size_t inner) {
  reduce_job job = {op, x, out, len, inner};
  dl_parallel_for(outer * inner, (ELEMWISE_CHUNK + len - 1) / (len ? len : 1), reduce_range, &job);
}
