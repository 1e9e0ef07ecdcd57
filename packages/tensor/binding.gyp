# Built by scripts/build-native.mjs, which detects the BLAS and passes --dl_blas=... --dl_blas_cflags=... --dl_blas_libs=...
{
  "variables": {
    "dl_blas%": "none",
    "dl_blas_cflags%": "",
    "dl_blas_libs%": ""
  },
  "targets": [
    {
      "target_name": "difflens_tensor",
      "sources": [
        "native/addon.c", "native/addon-machine.c", "native/mmap.c", "native/threadpool.c", "native/convert.c",
        "native/gemm.c", "native/gemm-avx512.c", "native/gemm-avx2.c",
        "native/gemm-baseline.c", "native/gemm-neon.c", "native/isa.c", "native/peak.c", "native/kernels.c", "native/topk.c",
        "native/sparse.c", "native/optim.c",
        "native/activations.c", "native/activations-avx512.c", "native/activations-avx2.c", "native/activations-baseline.c"
      ],
      # -fno-math-errno: nothing reads errno, and with it GCC keeps sqrt (Adam) scalar in every clone.
      "cflags": ["-O3", "-std=gnu11", "-fno-math-errno", "-pthread", "-fvisibility=hidden", "-Wall", "-Wno-unused-parameter", "<@(dl_blas_cflags)"],
      "cflags!": ["-O2", "-O0"],
      "ldflags": ["-pthread"],
      "libraries": ["<@(dl_blas_libs)", "-lm"],
      "conditions": [
        ["dl_blas=='openblas'", { "defines": ["DL_BLAS_OPENBLAS"] }],
        ["dl_blas=='mkl'", { "defines": ["DL_BLAS_MKL"] }],
        ["dl_blas=='cblas'", { "defines": ["DL_BLAS_CBLAS"] }],
        ["dl_blas=='accelerate'", { "defines": ["DL_BLAS_ACCELERATE"] }],
        ["OS=='linux'", { "libraries": ["-ldl"] }],
        ["OS=='mac'", {
          "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=gnu11", "-fno-math-errno", "<@(dl_blas_cflags)"], "GCC_OPTIMIZATION_LEVEL": "3" }
        }]
      ]
    }
  ]
}
