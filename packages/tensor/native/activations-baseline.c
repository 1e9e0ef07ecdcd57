/* The tanh-based activations (activations.h) for the compiler's baseline target: 4 lanes, one xmm (SSE2, x86-64) or
 * q (NEON, arm64) register per vector. */
#define DL_VW 4
#define DL_ACT_NAME(op) dl_tanh_##op##_baseline
#include "activations.h"
