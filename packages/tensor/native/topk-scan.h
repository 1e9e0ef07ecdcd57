/* Exact top-k of one row (of z, or of z + bias) shared by topK (topk.c) and the SAE's fused bias + top-k
 * (sparse.c), in two passes over the row:
 *   1. the largest rank key of each SCAN_BLOCK-wide block (vector max; the row is read from memory once);
 *   2. T = the k-th largest block maximum. The k blocks holding those maxima each have an element ranking ≥ T, so
 *      no element ranking below T is in the top k: the heap is offered, in index order, only the elements ≥ T of
 *      the blocks whose maximum is ≥ T (about k blocks, revisited from cache).
 * The heap sees the elements a full scan would have kept, in the same order, so the result is the same (ties to the
 * lower index). Why: a one-pass scan against the heap's running cut-off spent most of its time in the scalar heap
 * work of the row's first blocks, while the cut-off was still low (≈ 3 cycles per element at k = 32, n = 32768).
 * Include once per .c file and wrap in a DL_MULTIVERSION function, so the vector passes compile per ISA path. */
#ifndef DIFFLENS_TOPK_SCAN_H
#define DIFFLENS_TOPK_SCAN_H

#include "topk-heap.h"

#define SCAN_BLOCK 32

/* Scratch block maxima for a row of n: this many int32. */
static inline size_t topk_scan_scratch(size_t n) { return n / SCAN_BLOCK + 1; }

static inline __attribute__((always_inline)) int32_t scan_key(const float *z, const float *bias, size_t i) {
  return rank_key(bias ? z[i] + bias[i] : z[i]);
}

/* Leaves the top min(k, n) of row z (+ bias, when not NULL) in heap[0..), a min-heap (heap[0] is the worst kept). */
static inline __attribute__((always_inline)) void topk_scan_row(const float *restrict z, const float *restrict bias,
                                                                size_t n, size_t k, entry *heap, int32_t *block_max) {
  size_t blocks = (n + SCAN_BLOCK - 1) / SCAN_BLOCK, full = n / SCAN_BLOCK;
  for (size_t b = 0; b < full; b++) {
    const float *zb = z + b * SCAN_BLOCK, *bb = bias ? bias + b * SCAN_BLOCK : NULL;
    int32_t m = INT32_MIN;
    for (size_t i = 0; i < SCAN_BLOCK; i++) {
      int32_t key = scan_key(zb, bb, i);
      m = key > m ? key : m;
    }
    block_max[b] = m;
  }
  if (full < blocks) {
    int32_t m = INT32_MIN;
    for (size_t i = full * SCAN_BLOCK; i < n; i++) {
      int32_t key = scan_key(z, bias, i);
      m = key > m ? key : m;
    }
    block_max[full] = m;
  }
  /* T: the k-th largest block maximum (every element is a candidate when there are no more than k blocks). */
  int32_t threshold = INT32_MIN;
  if (blocks > k) {
    size_t filled = 0;
    for (size_t b = 0; b < blocks; b++) heap_offer(heap, &filled, k, (entry){block_max[b], (int32_t)b});
    threshold = heap[0].key;
  }
  size_t filled = 0;
  for (size_t b = 0; b < full; b++) {
    if (block_max[b] < threshold) continue;
    const float *zb = z + b * SCAN_BLOCK, *bb = bias ? bias + b * SCAN_BLOCK : NULL;
    uint32_t candidates = 0; /* bit i: element i of the block ranks ≥ T */
    for (size_t i = 0; i < SCAN_BLOCK; i++) candidates |= (uint32_t)(scan_key(zb, bb, i) >= threshold) << i;
    while (candidates) {
      size_t i = (size_t)__builtin_ctz(candidates);
      candidates &= candidates - 1;
      heap_offer(heap, &filled, k, (entry){scan_key(zb, bb, i), (int32_t)(b * SCAN_BLOCK + i)});
    }
  }
  for (size_t i = full * SCAN_BLOCK; i < n; i++) {
    int32_t key = scan_key(z, bias, i);
    if (key >= threshold) heap_offer(heap, &filled, k, (entry){key, (int32_t)i});
  }
}

#endif
