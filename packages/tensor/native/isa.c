/* Which compiled ISA path the blocked GEMM runs: the best the CPU supports, or DIFFLENS_ISA=avx512|avx2|baseline
 * (x86-64) or neon|baseline (arm64), refused when the CPU lacks it. Checked per feature (AVX2 and FMA, AVX-512F)
 * rather than by x86-64 level, so a CPU or VM that hides an unrelated level-3 feature (MOVBE, XSAVE…) still gets its
 * AVX2+FMA kernel. */
#include "difflens.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const isa_names[] = {"baseline", "avx2", "avx512", "neon"};
static int isa_chosen = -1;
static char isa_reason[200] = "";

int dl_isa_supported(int isa) {
  if (isa == DL_ISA_BASELINE) return 1;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (isa == DL_ISA_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == DL_ISA_AVX512) return __builtin_cpu_supports("avx512f") && dl_isa_supported(DL_ISA_AVX2);
#endif
#if defined(__aarch64__)
  if (isa == DL_ISA_NEON) return 1; /* Advanced SIMD is mandatory in ARMv8-A */
#endif
  return 0;
}

static int best_isa(void) {
  for (int isa = DL_ISA_COUNT - 1; isa > DL_ISA_BASELINE; isa--)
    if (dl_isa_supported(isa)) return isa;
  return DL_ISA_BASELINE;
}

/* The path named `name`, or -1. */
int dl_isa_by_name(const char *name) {
  for (int isa = 0; isa < DL_ISA_COUNT; isa++)
    if (strcmp(name, isa_names[isa]) == 0) return isa;
  return -1;
}

/* Returns NULL, or why `name` cannot run here (unknown name, or a path this CPU lacks). */
const char *dl_isa_set(const char *name) {
  static char error[200];
  int isa = dl_isa_by_name(name);
  if (isa < 0) {
#if defined(__aarch64__)
    snprintf(error, sizeof error, "unknown ISA path \"%s\" (expected neon or baseline)", name);
#else
    snprintf(error, sizeof error, "unknown ISA path \"%s\" (expected avx512, avx2 or baseline)", name);
#endif
    return error;
  }
  if (!dl_isa_supported(isa)) {
    snprintf(error, sizeof error, "this CPU lacks the %s path (%s); it supports up to %s", name,
             isa == DL_ISA_AVX512 ? "AVX-512F"
             : isa == DL_ISA_NEON ? "arm64 NEON"
                                  : "AVX2 and FMA", isa_names[best_isa()]);
    return error;
  }
  isa_chosen = isa;
  snprintf(isa_reason, sizeof isa_reason, "selected");
  return NULL;
}

/* Applies DIFFLENS_ISA once; returns NULL or the reason it was refused (then the best path stays in use). */
const char *dl_isa_init(void) {
  if (isa_chosen >= 0) return NULL;
  isa_chosen = best_isa();
  snprintf(isa_reason, sizeof isa_reason, "best this CPU supports");
  const char *env = getenv("DIFFLENS_ISA");
  if (!env || !*env) return NULL;
  const char *error = dl_isa_set(env);
  if (!error) snprintf(isa_reason, sizeof isa_reason, "DIFFLENS_ISA=%s", env);
  return error;
}

int dl_isa(void) {
  dl_isa_init();
  return isa_chosen;
}

const char *dl_isa_name(int isa) { return isa >= 0 && isa < DL_ISA_COUNT ? isa_names[isa] : "?"; }
const char *dl_isa_reason(void) {
  dl_isa_init();
  return isa_reason;
}
