/* What every N-API binding file shares: argument unpacking (typed-array views, numbers), the CHECK / FAIL / ARGS
 * macros that throw into JavaScript, and the binding entry points defined outside addon.c. */
#ifndef DL_ADDON_ARGS_H
#define DL_ADDON_ARGS_H
#define NAPI_VERSION 8
#include <node_api.h>

#include <stdio.h>
#include <stdlib.h>

#include "difflens.h"

#define MAX_ARGS 13
#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, "NATIVE_INTERNAL", #call " failed"); return NULL; } } while (0)
#define FAIL(...) do { char msg_[256]; snprintf(msg_, sizeof msg_, __VA_ARGS__); napi_throw_error(env, "NATIVE_ARGUMENT", msg_); return NULL; } while (0)

typedef struct { void *data; size_t length; napi_typedarray_type type; } view;

static inline int get_view(napi_env env, napi_value v, view *out) {
  napi_value ab;
  size_t offset;
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  return napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, &ab, &offset) == napi_ok;
}

static inline double get_num(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

static inline size_t get_size(napi_env env, napi_value v) {
  double d = get_num(env, v);
  return d > 0 ? (size_t)d : 0;
}

static inline bool get_bool(napi_env env, napi_value v) {
  bool b = false;
  napi_get_value_bool(env, v, &b);
  return b;
}

/* Reads argc args and the typed-array views named by `views` ("f" f32, "h" u16, "i" i32, "u" u8, "*" any float, "-" not a view). */
#define ARGS(n, spec) \
  size_t argc = MAX_ARGS; napi_value argv[MAX_ARGS]; view vw[MAX_ARGS]; \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL)); \
  if (argc < (n)) FAIL("expected %d arguments, got %zu", (n), argc); \
  for (int i_ = 0; i_ < (n); i_++) { \
    char s_ = (spec)[i_]; \
    if (s_ == '-') continue; \
    if (!get_view(env, argv[i_], &vw[i_])) FAIL("argument %d: expected a typed array", i_); \
    napi_typedarray_type t_ = vw[i_].type; \
    int ok_ = s_ == 'f' ? t_ == napi_float32_array : s_ == 'h' ? t_ == napi_uint16_array : \
              s_ == 'i' ? t_ == napi_int32_array : s_ == 'u' ? t_ == napi_uint8_array : \
              (t_ == napi_float32_array || t_ == napi_uint16_array); \
    if (!ok_) FAIL("argument %d: wrong typed array type", i_); \
  }

static inline int dtype_matches(const view *v, int dtype) {
  return dtype == DL_F32 ? v->type == napi_float32_array : (dtype == DL_F16 || dtype == DL_BF16) && v->type == napi_uint16_array;
}

static inline napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* Bindings defined in other files, registered by addon.c. */
napi_value dl_mmap_file(napi_env env, napi_callback_info info);  /* mmap.c */
napi_value dl_mmap_range(napi_env env, napi_callback_info info); /* mmap.c */
napi_value dl_alloc_large(napi_env env, napi_callback_info info); /* mmap.c */
napi_value dl_js_set_threads(napi_env env, napi_callback_info info); /* addon-machine.c */
napi_value dl_js_get_threads(napi_env env, napi_callback_info info);
napi_value dl_js_kernels_revision(napi_env env, napi_callback_info info);
napi_value dl_js_blas_name(napi_env env, napi_callback_info info);
napi_value dl_js_gemm_impl(napi_env env, napi_callback_info info);
napi_value dl_js_set_gemm_impl(napi_env env, napi_callback_info info);
napi_value dl_js_isa(napi_env env, napi_callback_info info);
napi_value dl_js_peak(napi_env env, napi_callback_info info);
napi_value dl_js_set_isa(napi_env env, napi_callback_info info);

#endif
