/* f32 ↔ f16/bf16 conversions, round to nearest even; the same rules as src/convert.ts (tested
 * against it over all 65536 patterns). */
#include "difflens.h"

uint16_t dl_f32_to_bf16(float f) {
  uint32_t bits = dl_f32_to_bits(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x0040u); /* quiet NaN */
  uint32_t lsb = (bits >> 16) & 1u;
  return (uint16_t)((bits + 0x7fffu + lsb) >> 16);
}

uint16_t dl_f32_to_f16(float f) {
  uint32_t bits = dl_f32_to_bits(f);
  uint32_t sign = (bits >> 16) & 0x8000u;
  uint32_t exp = (bits >> 23) & 0xffu;
  uint32_t mant = bits & 0x7fffffu;
  if (exp == 0xffu) return (uint16_t)(mant == 0 ? (sign | 0x7c00u) : (sign | 0x7e00u | (mant >> 13)));
  int half_exp = (int)exp - 127 + 15;
  if (half_exp >= 31) return (uint16_t)(sign | 0x7c00u);
  if (half_exp >= 1) {
    uint32_t half = ((uint32_t)half_exp << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) half++;
    return (uint16_t)(sign | half);
  }
  int shift = 126 - (int)exp;
  if (shift > 24) return (uint16_t)sign;
  uint32_t full = mant | 0x800000u;
  uint32_t half = full >> shift;
  uint32_t rest = full & ((1u << shift) - 1u);
  uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (half & 1u))) half++;
  return (uint16_t)(sign | half);
}

DL_MULTIVERSION
static void widen_bf16(const uint16_t *src, float *dst, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = dl_bf16_to_f32(src[i]);
}

DL_MULTIVERSION
static void widen_f16(const uint16_t *src, float *dst, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = dl_f16_to_f32(src[i]);
}

void dl_widen(const uint16_t *src, int dtype, float *dst, size_t n) {
  if (dtype == DL_BF16) widen_bf16(src, dst, n);
  else widen_f16(src, dst, n);
}

void dl_widen_block(const void *src, int dtype, size_t ld, size_t rows, size_t cols, float *dst, size_t ldd) {
  for (size_t r = 0; r < rows; r++) {
    if (dtype == DL_F32) memcpy(dst + r * ldd, (const float *)src + r * ld, cols * sizeof(float));
    else dl_widen((const uint16_t *)src + r * ld, dtype, dst + r * ldd, cols);
  }
}

typedef struct {
  const void *src;
  int src_dtype;
  void *dst;
  int dst_dtype;
} convert_job;

static void convert_range(void *p, size_t begin, size_t end) {
  const convert_job *j = p;
  if (j->src_dtype == DL_F32) {
    const float *s = (const float *)j->src;
    if (j->dst_dtype == DL_F32) { memcpy((float *)j->dst + begin, s + begin, (end - begin) * 4); return; }
    uint16_t *d = j->dst;
    if (j->dst_dtype == DL_BF16) for (size_t i = begin; i < end; i++) d[i] = dl_f32_to_bf16(s[i]);
    else for (size_t i = begin; i < end; i++) d[i] = dl_f32_to_f16(s[i]);
    return;
  }
  const uint16_t *s = (const uint16_t *)j->src + begin;
  if (j->dst_dtype == DL_F32) { dl_widen(s, j->src_dtype, (float *)j->dst + begin, end - begin); return; }
  uint16_t *d = (uint16_t *)j->dst + begin;
  if (j->dst_dtype == j->src_dtype) { memcpy(d, s, (end - begin) * 2); return; }
  for (size_t i = 0; i < end - begin; i++) {
    float f = j->src_dtype == DL_BF16 ? dl_bf16_to_f32(s[i]) : dl_f16_to_f32(s[i]);
    d[i] = j->dst_dtype == DL_BF16 ? dl_f32_to_bf16(f) : dl_f32_to_f16(f);
  }
}

void dl_convert(const void *src, int src_dtype, void *dst, int dst_dtype, size_t n) {
  convert_job job = {src, src_dtype, dst, dst_dtype};
  dl_parallel_for(n, 1 << 16, convert_range, &job);
}
