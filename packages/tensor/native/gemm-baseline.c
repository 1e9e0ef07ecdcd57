/* The blocked GEMM for the compiler's baseline target (SSE2 on x86-64, NEON on arm64): v16 is four xmm/q registers,
 * so a 4 × 16 micro-tile keeps 16 accumulators (SSE2 re-reads B from L1; NEON's 32 registers hold it all). */
#define DL_BLOCKED_NAME dl_gemm_blocked_baseline
#define MR 4
#include "gemm-blocked.h"
