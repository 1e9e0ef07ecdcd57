/* Top-k per row by partial selection (topk-scan.h): one vector pass of per-block maxima of the rows' int32 rank
 * keys (the key order is the ranking: NaN above +Inf, −0 equal to +0, so comparisons are integer compares), then a
 * size-k min-heap of (key, index) over only the elements that can still rank in the top k. Ties: equal keys keep the
 * lower index. Output sorted descending.
 * Tried and dropped: a sampled-threshold prefilter — the strided sample's cache misses cost more than the heap work it
 * saved; and a one-pass scan against the heap's running cut-off (~9 GB/s with 2 threads for k = 16 on 32768-wide
 * rows), which spent its time in the heap work of each row's first blocks. */
#include "difflens.h"
#include "topk-scan.h"

#include <stdlib.h>

/* Top-k of one row into heap[0..k) (topk-scan.h), compiled per ISA path. */
DL_MULTIVERSION
static void topk_row(const float *x, size_t n, size_t k, entry *heap, int32_t *block_max) {
  topk_scan_row(x, NULL, n, k, heap, block_max);
}

static void write_sorted(const float *x, entry *heap, size_t k, float *values, int32_t *indices) {
  qsort(heap, k, sizeof(entry), best_first);
  for (size_t i = 0; i < k; i++) {
    values[i] = x[heap[i].idx];
    indices[i] = heap[i].idx;
  }
}

typedef struct { const float *x; size_t n, k; float *values; int32_t *indices; } topk_job;

static void topk_range(void *p, size_t begin, size_t end) {
  const topk_job *j = p;
  entry *heap = malloc(j->k * sizeof(entry));
  int32_t *block_max = malloc(topk_scan_scratch(j->n) * sizeof(int32_t));
  if (!heap || !block_max) abort();
  for (size_t r = begin; r < end; r++) {
    const float *x = j->x + r * j->n;
    topk_row(x, j->n, j->k, heap, block_max);
    write_sorted(x, heap, j->k, j->values + r * j->k, j->indices + r * j->k);
  }
  free(heap);
  free(block_max);
}

void dl_topk(const float *x, size_t rows, size_t n, size_t k, float *values, int32_t *indices) {
  if (k == 0 || rows == 0) return;
  topk_job job = {x, n, k, values, indices};
  dl_parallel_for(rows, (16384 + n - 1) / (n ? n : 1), topk_range, &job);
}
