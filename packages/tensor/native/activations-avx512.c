/* The tanh-based activations (activations.h) compiled for AVX-512F: 16 lanes, one zmm register per vector. */
#if defined(__x86_64__) && defined(__GNUC__)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx512f,avx2,fma")
#endif
#define DL_VW 16
#define DL_ACT_NAME(op) dl_tanh_##op##_avx512
#include "activations.h"
#if defined(__clang__)
#pragma clang attribute pop
#endif
#endif
