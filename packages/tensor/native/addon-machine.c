/* N-API bindings of the machine and build settings: threads, the BLAS and GEMM in use, the ISA path and its
 * peak. The kernels' bindings are in addon.c. */
#include "addon-args.h"

napi_value dl_js_set_threads(napi_env env, napi_callback_info info) {
  ARGS(1, "-");
  dl_set_threads((int)get_num(env, argv[0]));
  return undefined(env);
}

napi_value dl_js_get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  CHECK(napi_create_int32(env, dl_get_threads(), &v));
  return v;
}

/* Bumped when a kernel binding changes what it computes while keeping its name, so that src/backends/native can tell
 * an add-on built from older sources (it then runs that kernel on js): 1 = sparseBackward's overwriteUntouched. */
#define DL_KERNELS_REVISION 1

napi_value dl_js_kernels_revision(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  CHECK(napi_create_int32(env, DL_KERNELS_REVISION, &v));
  return v;
}

napi_value dl_js_blas_name(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  CHECK(napi_create_string_utf8(env, dl_blas_name(), NAPI_AUTO_LENGTH, &v));
  return v;
}

napi_value dl_js_gemm_impl(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  CHECK(napi_create_string_utf8(env, dl_gemm_impl(), NAPI_AUTO_LENGTH, &v));
  return v;
}

napi_value dl_js_set_gemm_impl(napi_env env, napi_callback_info info) {
  ARGS(1, "-");
  char name[32];
  size_t len;
  CHECK(napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len));
  if (!dl_gemm_set_impl(name)) FAIL("setGemmImpl: \"%s\" is not available in this build", name);
  return undefined(env);
}

/* isa() → { path, reason, supported }: the ISA path the blocked GEMM runs and every path this CPU can run. */
napi_value dl_js_isa(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, v, list;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_string_utf8(env, dl_isa_name(dl_isa()), NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, out, "path", v));
  CHECK(napi_create_string_utf8(env, dl_isa_reason(), NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, out, "reason", v));
  CHECK(napi_create_array(env, &list));
  uint32_t count = 0;
  for (int isa = DL_ISA_COUNT - 1; isa >= DL_ISA_BASELINE; isa--) {
    if (!dl_isa_supported(isa)) continue;
    CHECK(napi_create_string_utf8(env, dl_isa_name(isa), NAPI_AUTO_LENGTH, &v));
    CHECK(napi_set_element(env, list, count++, v));
  }
  CHECK(napi_set_named_property(env, out, "supported", list));
  return out;
}

/* peak(path) → { flopsPerCycle, clockGhz }: per core; the clock measured by this call (~80 ms). */
napi_value dl_js_peak(napi_env env, napi_callback_info info) {
  ARGS(1, "-");
  char name[32];
  size_t len;
  CHECK(napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len));
  int isa = dl_isa_by_name(name);
  if (isa < 0) FAIL("peak: unknown ISA path \"%s\" (expected avx512, avx2, neon or baseline)", name);
  napi_value out, v;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_int32(env, dl_isa_flops_per_cycle(isa), &v));
  CHECK(napi_set_named_property(env, out, "flopsPerCycle", v));
  CHECK(napi_create_double(env, dl_measure_clock_ghz(), &v));
  CHECK(napi_set_named_property(env, out, "clockGhz", v));
  return out;
}

napi_value dl_js_set_isa(napi_env env, napi_callback_info info) {
  ARGS(1, "-");
  char name[32];
  size_t len;
  CHECK(napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len));
  const char *error = dl_isa_set(name);
  if (error) FAIL("setIsa: %s", error);
  return undefined(env);
}
