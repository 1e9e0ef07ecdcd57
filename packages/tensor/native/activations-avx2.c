/* The tanh-based activations (activations.h) compiled for AVX2 + FMA: 8 lanes, one ymm register per vector. */
#if defined(__x86_64__) && defined(__GNUC__)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx2,fma")
#endif
#define DL_VW 8
#define DL_ACT_NAME(op) dl_tanh_##op##_avx2
#include "activations.h"
#if defined(__clang__)
#pragma clang attribute pop
#endif
#endif
