/* What an ISA path should reach: f32 FLOP per cycle per core on this CPU for that path, and the core clock as
 * measured now (a dependent chain of integer adds retires one add per cycle on every x86-64 core since 2006), so
 * peak = threads × clock × FLOP/cycle comes from the machine rather than from a constant. */
#include "difflens.h"

#include <time.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

/* 2 FMA pipes × lanes × 2 FLOP, except where a core splits 512-bit FMAs into two 256-bit halves (AMD Zen 4,
 * family 0x19: the only AMD family with AVX-512 and 256-bit FMA pipes) or has no FMA (baseline: SSE2 mul + add). */
int dl_isa_flops_per_cycle(int isa) {
  if (isa == DL_ISA_AVX2) return 32;
  if (isa == DL_ISA_AVX512) {
#if defined(__x86_64__) && defined(__GNUC__)
    unsigned eax, ebx, ecx, edx;
    char vendor[13] = {0};
    if (__get_cpuid(0, &eax, &ebx, &ecx, &edx)) {
      memcpy(vendor, &ebx, 4), memcpy(vendor + 4, &edx, 4), memcpy(vendor + 8, &ecx, 4);
      __get_cpuid(1, &eax, &ebx, &ecx, &edx);
      unsigned family = ((eax >> 8) & 0xf) + ((eax >> 8 & 0xf) == 0xf ? (eax >> 20) & 0xff : 0);
      if (strcmp(vendor, "AuthenticAMD") == 0 && family == 0x19) return 32;
    }
#endif
    return 64;
  }
  return 16; /* SSE2 mul + add; for NEON a default of 2 × 128-bit FMA pipes, refined by core in src/neon-peak.ts */
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Core clock in GHz from ~20 ms of dependent adds (after ~20 ms of warm-up so a boosting core has ramped up);
 * 0 where the chain cannot be written (neither x86-64 nor arm64). A dependent integer add also retires one per cycle
 * on every arm64 core (Cortex-A53 up, Neoverse, Apple). */
double dl_measure_clock_ghz(void) {
#if (defined(__x86_64__) || defined(__aarch64__)) && defined(__GNUC__)
  double best = 0;
  for (int round = 0; round < 4; round++) {
    uint64_t iters = 2500000, x = 0;
    double t0 = now_s();
#if defined(__x86_64__)
    __asm__ volatile("1:\n\t"
                     "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                     "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                     "dec %1\n\tjnz 1b"
                     : "+r"(x), "+r"(iters));
#elif defined(__aarch64__)
    __asm__ volatile("1:\n\t"
                     "add %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\t"
                     "add %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\t"
                     "subs %1, %1, #1\n\tb.ne 1b"
                     : "+r"(x), "+r"(iters)
                     :
                     : "cc");
#endif
    double ghz = 8 * 2500000 / (now_s() - t0) / 1e9;
    if (round >= 2 && ghz > best) best = ghz;
  }
  return best;
#else
  return 0;
#endif
}
