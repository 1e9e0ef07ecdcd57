/* The top-k selection order shared by topK (topk.c) and the fused bias+top-k (sparse.c): a min-heap of
 * (rank key, index) entries where larger values rank first, NaN ranks above everything, −0 == +0, and ties go to
 * the lower index. Keys are integers so that comparisons are exact and branch-light. */
#ifndef DIFFLENS_TOPK_HEAP_H
#define DIFFLENS_TOPK_HEAP_H

#include "difflens.h"

/* A float's rank as a monotone int32: NaN first, −0 == +0. Masks, not branches, so that loops over it vectorize
 * (a max-reduction over the branchy form stayed scalar). */
static inline int32_t rank_key(float v) {
  uint32_t bits = dl_f32_to_bits(v), magnitude = bits & 0x7fffffffu;
  uint32_t key = bits ^ ((uint32_t)((int32_t)bits >> 31) & 0x7fffffffu); /* negatives: larger magnitude ranks lower */
  uint32_t nonzero = 0u - (uint32_t)(magnitude != 0), nan = 0u - (uint32_t)(magnitude > 0x7f800000u);
  return (int32_t)((key & nonzero & ~nan) | (0x7fffffffu & nan));
}

typedef struct { int32_t key; int32_t idx; } entry;

/* "a ranks below b" = a is the worse of the two. */
static inline int worse(entry a, entry b) { return a.key < b.key || (a.key == b.key && a.idx > b.idx); }

static inline void sift_down(entry *h, size_t k, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, w = i;
    if (l < k && worse(h[l], h[w])) w = l;
    if (r < k && worse(h[r], h[w])) w = r;
    if (w == i) return;
    entry t = h[i]; h[i] = h[w]; h[w] = t;
    i = w;
  }
}

static inline void sift_up(entry *h, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!worse(h[i], h[p])) return;
    entry t = h[i]; h[i] = h[p]; h[p] = t;
    i = p;
  }
}

/* Offers e to a heap of capacity k holding *filled entries; keeps the k best. */
static inline void heap_offer(entry *heap, size_t *filled, size_t k, entry e) {
  if (*filled < k) { heap[*filled] = e; sift_up(heap, (*filled)++); }
  else if (worse(heap[0], e)) { heap[0] = e; sift_down(heap, k, 0); }
}

/* qsort order: best first. */
static inline int best_first(const void *pa, const void *pb) {
  const entry *a = pa, *b = pb;
  if (a->key != b->key) return a->key > b->key ? -1 : 1;
  return a->idx < b->idx ? -1 : (a->idx > b->idx);
}

#endif
