/* The blocked GEMM compiled for AVX-512F (+AVX2/FMA): v16 is one zmm register; 12 rows × 16 columns keep 12
 * accumulators in flight, enough to hide FMA latency (6 left Zen 4 at 0.8 of OpenBLAS SkylakeX). */
#if defined(__x86_64__) && defined(__GNUC__)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx512f,avx2,fma")
#endif
#define DL_BLOCKED_NAME dl_gemm_blocked_avx512
#define MR 12
#include "gemm-blocked.h"
#if defined(__clang__)
#pragma clang attribute pop
#endif
#endif
