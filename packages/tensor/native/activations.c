/* Threading and ISA dispatch of the tanh-based activations (one compiled copy per path, see activations.h). */
#include "difflens.h"

typedef void (*softcap_fn)(const float *x, float cap, float *out, size_t n);
typedef void (*gelu_gate_fn)(const float *g, const float *u, float *out, size_t n);

static softcap_fn softcap_path(void) {
  switch (dl_isa()) {
#if defined(__x86_64__) && defined(__GNUC__)
  case DL_ISA_AVX512: return dl_tanh_softcap_avx512;
  case DL_ISA_AVX2: return dl_tanh_softcap_avx2;
#endif
  default: return dl_tanh_softcap_baseline; /* NEON on arm64: the 4-lane vectors are q registers */
  }
}

static gelu_gate_fn gelu_gate_path(void) {
  switch (dl_isa()) {
#if defined(__x86_64__) && defined(__GNUC__)
  case DL_ISA_AVX512: return dl_tanh_gelu_gate_avx512;
  case DL_ISA_AVX2: return dl_tanh_gelu_gate_avx2;
#endif
  default: return dl_tanh_gelu_gate_baseline;
  }
}

#define ACTIVATION_CHUNK ((size_t)8192)

typedef struct { const float *a, *b; float cap; float *out; softcap_fn softcap; gelu_gate_fn gelu_gate; } act_job;

static void softcap_range(void *p, size_t begin, size_t end) {
  const act_job *j = p;
  j->softcap(j->a + begin, j->cap, j->out + begin, end - begin);
}
void dl_tanh_softcap(const float *x, float cap, float *out, size_t n) {
  act_job job = {x, NULL, cap, out, softcap_path(), NULL};
  dl_parallel_for(n, ACTIVATION_CHUNK, softcap_range, &job);
}

static void gelu_gate_range(void *p, size_t begin, size_t end) {
  const act_job *j = p;
  j->gelu_gate(j->a + begin, j->b + begin, j->out + begin, end - begin);
}
void dl_gelu_tanh_gate(const float *g, const float *u, float *out, size_t n) {
  act_job job = {g, u, 0, out, NULL, gelu_gate_path()};
  dl_parallel_for(n, ACTIVATION_CHUNK, gelu_gate_range, &job);
}
