/* N-API bindings: unpack typed arrays (no copies — kernels run on the arrays' own memory), check
 * lengths against the dimensions given, call the kernel. Shape logic lives in TypeScript (ops.ts);
 * the checks here only guard memory safety. Signatures: src/native-addon.ts. */
#include "addon-args.h"

/* gemm(a, b, bDtype, c, m, n, k, transA, transB, alpha, beta, batch) */
static napi_value js_gemm(napi_env env, napi_callback_info info) {
  ARGS(12, "f*-f--------");
  int b_dtype = (int)get_num(env, argv[2]);
  size_t m = get_size(env, argv[4]), n = get_size(env, argv[5]), k = get_size(env, argv[6]);
  bool ta = get_bool(env, argv[7]), tb = get_bool(env, argv[8]);
  float alpha = (float)get_num(env, argv[9]), beta = (float)get_num(env, argv[10]);
  size_t batch = get_size(env, argv[11]);
  if (!dtype_matches(&vw[1], b_dtype)) FAIL("gemm: b's typed array does not match dtype code %d", b_dtype);
  if (vw[0].length < batch * m * k || vw[1].length < batch * k * n || vw[3].length < batch * m * n)
    FAIL("gemm: arrays too short for batch %zu of [%zu,%zu]x[%zu,%zu]", batch, m, k, k, n);
  const size_t elem = b_dtype == DL_F32 ? 4 : 2;
  for (size_t p = 0; p < batch; p++) {
    dl_gemm(ta, tb, m, n, k, alpha, (const float *)vw[0].data + p * m * k, ta ? m : k,
            (const char *)vw[1].data + p * k * n * elem, b_dtype, tb ? k : n, beta,
            (float *)vw[3].data + p * m * n, n);
  }
  return undefined(env);
}

/* binary(op, a, b, out) */
static napi_value js_binary(napi_env env, napi_callback_info info) {
  ARGS(4, "-fff");
  int op = (int)get_num(env, argv[0]);
  size_t n = vw[1].length, period = vw[2].length;
  if (vw[3].length != n || period == 0 || n % period != 0) FAIL("binary: lengths %zu, %zu, %zu do not broadcast", n, period, vw[3].length);
  dl_binary(op, vw[1].data, n, vw[2].data, period, vw[3].data);
  return undefined(env);
}

/* scale(a, s, out) */
static napi_value js_scale(napi_env env, napi_callback_info info) {
  ARGS(3, "f-f");
  if (vw[2].length != vw[0].length) FAIL("scale: length mismatch");
  dl_scale(vw[0].data, (float)get_num(env, argv[1]), vw[2].data, vw[0].length);
  return undefined(env);
}

/* axpby(alpha, a, beta, b, out) */
static napi_value js_axpby(napi_env env, napi_callback_info info) {
  ARGS(5, "-f-ff");
  size_t n = vw[1].length;
  if (vw[3].length != n || vw[4].length != n) FAIL("axpby: length mismatch");
  dl_axpby((float)get_num(env, argv[0]), vw[1].data, (float)get_num(env, argv[2]), vw[3].data, vw[4].data, n);
  return undefined(env);
}

/* rmsNorm(x, w, wDtype, out, d, eps, wOffset) */
static napi_value js_rms_norm(napi_env env, napi_callback_info info) {
  ARGS(7, "f*-f---");
  int w_dtype = (int)get_num(env, argv[2]);
  size_t d = get_size(env, argv[4]);
  if (!dtype_matches(&vw[1], w_dtype) || vw[1].length != d || vw[3].length != vw[0].length || d == 0 || vw[0].length % d)
    FAIL("rmsNorm: bad lengths or dtype");
  dl_rms_norm(vw[0].data, vw[1].data, w_dtype, (float)get_num(env, argv[6]), vw[3].data, vw[0].length / d, d,
              (float)get_num(env, argv[5]));
  return undefined(env);
}

/* rope(x, positions, invFreq, tokens, heads, headDim) */
static napi_value js_rope(napi_env env, napi_callback_info info) {
  ARGS(6, "fif---");
  size_t tokens = get_size(env, argv[3]), heads = get_size(env, argv[4]), hd = get_size(env, argv[5]);
  size_t half = vw[2].length;
  if (vw[0].length != tokens * heads * hd || vw[1].length != tokens || 2 * half > hd) FAIL("rope: bad lengths");
  dl_rope(vw[0].data, vw[1].data, vw[2].data, tokens, heads, hd, half);
  return undefined(env);
}

/* softmax(x, out, n, queries, offset, window) — window 0: none */
static napi_value js_softmax(napi_env env, napi_callback_info info) {
  ARGS(6, "ff----");
  size_t n = get_size(env, argv[2]);
  if (vw[1].length != vw[0].length || (n && vw[0].length % n)) FAIL("softmax: bad lengths");
  dl_softmax(vw[0].data, vw[1].data, n ? vw[0].length / n : 0, n, get_size(env, argv[3]), (long)get_num(env, argv[4]),
             get_size(env, argv[5]));
  return undefined(env);
}

/* tanhSoftcap(x, cap, out) */
static napi_value js_tanh_softcap(napi_env env, napi_callback_info info) {
  ARGS(3, "f-f");
  if (vw[2].length != vw[0].length) FAIL("tanhSoftcap: length mismatch");
  dl_tanh_softcap(vw[0].data, (float)get_num(env, argv[1]), vw[2].data, vw[0].length);
  return undefined(env);
}

/* geluTanhGate(gate, up, out) */
static napi_value js_gelu_tanh_gate(napi_env env, napi_callback_info info) {
  ARGS(3, "fff");
  if (vw[1].length != vw[0].length || vw[2].length != vw[0].length) FAIL("geluTanhGate: length mismatch");
  dl_gelu_tanh_gate(vw[0].data, vw[1].data, vw[2].data, vw[0].length);
  return undefined(env);
}

static napi_value js_silu(napi_env env, napi_callback_info info) {
  ARGS(2, "ff");
  if (vw[1].length != vw[0].length) FAIL("silu: length mismatch");
  dl_silu(vw[0].data, vw[1].data, vw[0].length);
  return undefined(env);
}

static napi_value js_silu_gate(napi_env env, napi_callback_info info) {
  ARGS(3, "fff");
  if (vw[1].length != vw[0].length || vw[2].length != vw[0].length) FAIL("siluGate: length mismatch");
  dl_silu_gate(vw[0].data, vw[1].data, vw[2].data, vw[0].length);
  return undefined(env);
}

/* topK(x, n, k, values, indices) */
static napi_value js_topk(napi_env env, napi_callback_info info) {
  ARGS(5, "f--fi");
  size_t n = get_size(env, argv[1]), k = get_size(env, argv[2]);
  size_t rows = n ? vw[0].length / n : 0;
  if (k > n || (n && vw[0].length % n) || vw[3].length != rows * k || vw[4].length != rows * k) FAIL("topK: bad lengths");
  dl_topk(vw[0].data, rows, n, k, vw[3].data, vw[4].data);
  return undefined(env);
}

/* gatherRows(table, dtype, indices, out, d) */
static napi_value js_gather_rows(napi_env env, napi_callback_info info) {
  ARGS(5, "*-if-");
  int dtype = (int)get_num(env, argv[1]);
  size_t d = get_size(env, argv[4]), count = vw[2].length;
  if (!dtype_matches(&vw[0], dtype) || vw[3].length != count * d || (d && vw[0].length % d)) FAIL("gatherRows: bad lengths");
  const int32_t *idx = vw[2].data;
  size_t rows = d ? vw[0].length / d : 0;
  for (size_t i = 0; i < count; i++) if (idx[i] < 0 || (size_t)idx[i] >= rows) FAIL("gatherRows: index %d out of range", idx[i]);
  dl_gather_rows(vw[0].data, dtype, idx, count, vw[3].data, d);
  return undefined(env);
}

/* scatterAddRows(target, indices, src, d) */
static napi_value js_scatter_add_rows(napi_env env, napi_callback_info info) {
  ARGS(4, "fif-");
  size_t d = get_size(env, argv[3]), count = vw[1].length;
  if (vw[2].length != count * d || (d && vw[0].length % d)) FAIL("scatterAddRows: bad lengths");
  const int32_t *idx = vw[1].data;
  size_t rows = d ? vw[0].length / d : 0;
  for (size_t i = 0; i < count; i++) if (idx[i] < 0 || (size_t)idx[i] >= rows) FAIL("scatterAddRows: index %d out of range", idx[i]);
  dl_scatter_add_rows(vw[0].data, idx, count, vw[2].data, d);
  return undefined(env);
}

/* reduce(op, x, out, outer, len, inner) */
static napi_value js_reduce(napi_env env, napi_callback_info info) {
  ARGS(6, "-f----");
  int op = (int)get_num(env, argv[0]);
  size_t outer = get_size(env, argv[3]), len = get_size(env, argv[4]), inner = get_size(env, argv[5]);
  if (!get_view(env, argv[2], &vw[2])) FAIL("reduce: out must be a typed array");
  int out_ok = op == 3 ? vw[2].type == napi_int32_array : vw[2].type == napi_float32_array;
  if (!out_ok || vw[1].length != outer * len * inner || vw[2].length != outer * inner || (op == 3 && len == 0)) FAIL("reduce: bad lengths");
  dl_reduce(op, vw[1].data, vw[2].data, outer, len, inner);
  return undefined(env);
}

/* convert(src, srcDtype, dst, dstDtype) */
static napi_value js_convert(napi_env env, napi_callback_info info) {
  ARGS(4, "*-*-");
  int sd = (int)get_num(env, argv[1]), dd = (int)get_num(env, argv[3]);
  if (!dtype_matches(&vw[0], sd) || !dtype_matches(&vw[2], dd) || vw[0].length != vw[2].length) FAIL("convert: bad arrays");
  dl_convert(vw[0].data, sd, vw[2].data, dd, vw[0].length);
  return undefined(env);
}

static int indices_in_range(const int32_t *idx, size_t count, size_t limit) {
  for (size_t i = 0; i < count; i++) if (idx[i] < 0 || (size_t)idx[i] >= limit) return 0;
  return 1;
}

/* biasTopK(z, bias, k, values, indices, candidates, kc, cvalues, cindices) */
static napi_value js_bias_topk(napi_env env, napi_callback_info info) {
  ARGS(9, "ff-fii-fi");
  size_t n = vw[1].length, k = get_size(env, argv[2]), kc = get_size(env, argv[6]), nc = vw[5].length;
  size_t rows = n ? vw[0].length / n : 0;
  if (n == 0 || vw[0].length % n || k > n || vw[3].length != rows * k || vw[4].length != rows * k) FAIL("biasTopK: bad lengths");
  if (kc > nc || vw[7].length != rows * kc || vw[8].length != rows * kc || !indices_in_range(vw[5].data, nc, n)) FAIL("biasTopK: bad candidates");
  dl_bias_topk(vw[0].data, vw[1].data, rows, n, k, vw[3].data, vw[4].data, vw[5].data, nc, kc, vw[7].data, vw[8].data);
  return undefined(env);
}

/* sparseDecode(out, indices, values, table, d, alpha) */
static napi_value js_sparse_decode(napi_env env, napi_callback_info info) {
  ARGS(6, "fiff--");
  size_t d = get_size(env, argv[4]);
  size_t rows = d ? vw[0].length / d : 0, kk = rows ? vw[1].length / rows : 0;
  if (d == 0 || vw[0].length % d || vw[3].length % d || vw[1].length != rows * kk || vw[2].length != rows * kk ||
      !indices_in_range(vw[1].data, vw[1].length, vw[3].length / d)) FAIL("sparseDecode: bad lengths or indices");
  dl_sparse_decode(vw[0].data, rows, d, vw[1].data, vw[2].data, kk, vw[3].data, (float)get_num(env, argv[5]));
  return undefined(env);
}

/* sparseBackward(indices, values, g, x, table, gTable, gEnc, gBias, touched, overwriteUntouched) */
static napi_value js_sparse_backward(napi_env env, napi_callback_info info) {
  ARGS(10, "ifffffffu-");
  size_t tr = vw[7].length, d = tr ? vw[4].length / tr : 0, rows = d ? vw[2].length / d : 0, kk = rows ? vw[0].length / rows : 0;
  if (d == 0 || vw[4].length != tr * d || vw[5].length != tr * d || vw[6].length != tr * d || vw[8].length != tr ||
      vw[2].length != rows * d || vw[3].length != rows * d || vw[0].length != rows * kk || vw[1].length != rows * kk ||
      !indices_in_range(vw[0].data, vw[0].length, tr)) FAIL("sparseBackward: bad lengths or indices");
  if (!dl_sparse_backward(rows, kk, d, tr, vw[0].data, vw[1].data, vw[2].data, vw[3].data, vw[4].data, vw[5].data, vw[6].data, vw[7].data, vw[8].data,
                          get_bool(env, argv[9])))
    FAIL("sparseBackward: out of memory");
  return undefined(env);
}

/* adam(p, g, m, v, cols, rowMask, clearGrad, stepSize, bc2Sqrt, beta1, beta2, eps) — empty rowMask = all rows */
static napi_value js_adam(napi_env env, napi_callback_info info) {
  ARGS(12, "ffff-u------");
  size_t n = vw[0].length, cols = get_size(env, argv[4]), masked = vw[5].length;
  if (vw[1].length != n || vw[2].length != n || vw[3].length != n || cols == 0 || n % cols || (masked && masked != n / cols)) FAIL("adam: bad lengths");
  dl_adam(vw[0].data, vw[1].data, vw[2].data, vw[3].data, n, cols, masked ? vw[5].data : NULL, get_bool(env, argv[6]),
          get_num(env, argv[7]), get_num(env, argv[8]), get_num(env, argv[9]), get_num(env, argv[10]), get_num(env, argv[11]));
  return undefined(env);
}

/* adamUnitRows(w, g, m, v, d, rowMask, stepSize, bc2Sqrt, beta1, beta2, eps, normEps) — empty rowMask = all rows */
static napi_value js_adam_unit_rows(napi_env env, napi_callback_info info) {
  ARGS(12, "ffff-u------");
  size_t n = vw[0].length, d = get_size(env, argv[4]), rows = d ? n / d : 0, masked = vw[5].length;
  if (vw[1].length != n || vw[2].length != n || vw[3].length != n || d == 0 || n % d || (masked && masked != rows))
    FAIL("adamUnitRows: bad lengths");
  dl_adam_unit_rows(vw[0].data, vw[1].data, vw[2].data, vw[3].data, rows, d, masked ? vw[5].data : NULL, get_num(env, argv[6]),
                    get_num(env, argv[7]), get_num(env, argv[8]), get_num(env, argv[9]), get_num(env, argv[10]), get_num(env, argv[11]));
  return undefined(env);
}

/* projectOutRows(g, w, d, rowMask) — empty rowMask = all rows */
static napi_value js_project_out_rows(napi_env env, napi_callback_info info) {
  ARGS(4, "ff-u");
  size_t d = get_size(env, argv[2]), rows = d ? vw[0].length / d : 0;
  if (d == 0 || vw[0].length % d || vw[1].length != vw[0].length || (vw[3].length && vw[3].length != rows)) FAIL("projectOutRows: bad lengths");
  dl_project_out_rows(vw[0].data, vw[1].data, rows, d, vw[3].length ? vw[3].data : NULL);
  return undefined(env);
}

/* normalizeRows(w, d, eps) */
static napi_value js_normalize_rows(napi_env env, napi_callback_info info) {
  ARGS(3, "f--");
  size_t d = get_size(env, argv[1]);
  if (d == 0 || vw[0].length % d) FAIL("normalizeRows: bad lengths");
  dl_normalize_rows(vw[0].data, vw[0].length / d, d, get_num(env, argv[2]));
  return undefined(env);
}

NAPI_MODULE_INIT() {
  /* DIFFLENS_ISA naming a path this CPU lacks refuses to load rather than run another path unasked. */
  const char *isa_error = dl_isa_init();
  if (isa_error) {
    char message[300];
    snprintf(message, sizeof message, "DIFFLENS_ISA: %s", isa_error);
    napi_throw_error(env, NULL, message);
    return NULL;
  }
  const napi_property_descriptor props[] = {
#define FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}
    FN("gemm", js_gemm), FN("binary", js_binary), FN("scale", js_scale), FN("axpby", js_axpby),
    FN("rmsNorm", js_rms_norm), FN("rope", js_rope), FN("softmax", js_softmax), FN("silu", js_silu),
    FN("siluGate", js_silu_gate), FN("tanhSoftcap", js_tanh_softcap), FN("geluTanhGate", js_gelu_tanh_gate), FN("topK", js_topk), FN("gatherRows", js_gather_rows),
    FN("scatterAddRows", js_scatter_add_rows), FN("reduce", js_reduce), FN("convert", js_convert),
    FN("setThreads", dl_js_set_threads), FN("getThreads", dl_js_get_threads), FN("blasName", dl_js_blas_name),
    FN("setGemmImpl", dl_js_set_gemm_impl), FN("gemmImpl", dl_js_gemm_impl), FN("mmapFile", dl_mmap_file), FN("mmapRange", dl_mmap_range), FN("allocLarge", dl_alloc_large),
    FN("isa", dl_js_isa), FN("setIsa", dl_js_set_isa), FN("peak", dl_js_peak), FN("kernelsRevision", dl_js_kernels_revision),
    FN("biasTopK", js_bias_topk), FN("sparseDecode", js_sparse_decode), FN("sparseBackward", js_sparse_backward),
    FN("adam", js_adam), FN("projectOutRows", js_project_out_rows), FN("normalizeRows", js_normalize_rows),
    FN("adamUnitRows", js_adam_unit_rows),
#undef FN
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
