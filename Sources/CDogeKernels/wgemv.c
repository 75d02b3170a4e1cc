// GEMV over weights stored narrower than float32 (decode reads every weight once per token, so
// bytes per weight set the speed).
// - BF16 / F16: widened to float32 in registers. The loops mirror gemv.c's float32 kernels
//   exactly (same accumulators, same order, same tails), so results are bit-identical to
//   widening the whole matrix first and running dk_sgemv.
// - Q8_0 / Q4_0: blocks of 32 weights with one F16 scale each (llama.cpp's Q8_0 / Q4_0 values).
//   x is quantized to int8 blocks too (dk_quantize_x), so a block's dot is an exact integer sum:
//   AVX-512 VNNI (vpdpbusd), AVX2 (vpmaddubsw) or portable C, scaled by dw·dx in float32.
#include "CDogeKernels.h"
#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float dk_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return bits_f32(sign | 0x7f800000u | (man << 13));
    if (exp != 0) return bits_f32(sign | ((exp + 112) << 23) | (man << 13));
    if (man == 0) return bits_f32(sign);
    int e = -1;
    do { e++; man <<= 1; } while (!(man & 0x400));
    return bits_f32(sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13));
}

// Round to nearest even (as torch's .half()); overflow → inf, NaN stays NaN.
uint16_t dk_float_to_half(float f) {
    uint32_t x; memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);          // ≥ 65520 rounds to inf
    if (ax < 0x38800000u) {                                           // below 2^-14: subnormal half
        float a = bits_f32(ax) * 16777216.0f;                         // exact: value in units of 2^-24
        return (uint16_t)(sign | (uint32_t)lrintf(a));
    }
    uint32_t r = ax + 0xfff + ((ax >> 13) & 1);                       // round mantissa to 10 bits
    return (uint16_t)(sign | ((r - 0x38000000u) >> 13));
}

static inline float widen(int type, const uint16_t *p, long i) {
    return type == DK_W_BF16 ? bits_f32((uint32_t)p[i] << 16) : dk_half_to_float(p[i]);
}

long dk_wmat_row_bytes(int type, long cols) {
    switch (type) {
    case DK_W_F32: return cols * 4;
    case DK_W_BF16: case DK_W_F16: return cols * 2;
    case DK_W_Q8_0: return cols;
    case DK_W_Q4_0: return cols / 2;
    default: return 0;
    }
}

void dk_wmat_row(const dk_wmat *w, long i, long c0, long n, float *out) {
    switch (w->type) {
    case DK_W_F32: memcpy(out, (const float *)w->values + i * w->cols + c0, (size_t)n * 4); return;
    case DK_W_BF16: dk_bf16_to_f32((const uint16_t *)w->values + i * w->cols + c0, out, n); return;
    case DK_W_F16: dk_f16_to_f32((const uint16_t *)w->values + i * w->cols + c0, out, n); return;
    case DK_W_Q8_0: case DK_W_Q4_0: {
        // One scale conversion per block; the per-value loops vectorise.
        const uint16_t *d = w->scales + i * (w->cols / DK_QBLOCK);
        long c = c0;
        while (c < c0 + n) {
            long b = c / DK_QBLOCK, j0 = c % DK_QBLOCK, j1 = c0 + n - b * DK_QBLOCK;
            if (j1 > DK_QBLOCK) j1 = DK_QBLOCK;
            float s = dk_half_to_float(d[b]), v[DK_QBLOCK];
            if (w->type == DK_W_Q8_0) {
                const int8_t *q = (const int8_t *)w->values + i * w->cols + b * DK_QBLOCK;
                for (int j = 0; j < DK_QBLOCK; j++) v[j] = (float)q[j] * s;
            } else {
                const uint8_t *q = (const uint8_t *)w->values + i * (w->cols / 2) + b * 16;
                for (int j = 0; j < 16; j++) {
                    v[j] = (float)((q[j] & 15) - 8) * s;
                    v[j + 16] = (float)((q[j] >> 4) - 8) * s;
                }
            }
            memcpy(out + (c - c0), v + j0, (size_t)(j1 - j0) * sizeof(float));
            c += j1 - j0;
        }
        return;
    }
    }
}

// Q8_0: d = max|x| / 127, q = round(x / d). Q4_0: m = the value of largest magnitude (sign
// kept), d = m / −8, q = clamp(round-half-up(x / d) + 8, 0, 15) — llama.cpp's definitions.
void dk_quantize_rows(int type, const float *src, long rows, long cols, void *values, uint16_t *scales) {
    long nb = cols / DK_QBLOCK;
    for (long r = 0; r < rows; r++) {
        for (long b = 0; b < nb; b++) {
            const float *x = src + r * cols + b * DK_QBLOCK;
            if (type == DK_W_Q8_0) {
                float amax = 0;
                for (int j = 0; j < DK_QBLOCK; j++) amax = fmaxf(amax, fabsf(x[j]));
                uint16_t dh = dk_float_to_half(amax / 127.0f);
                float d = dk_half_to_float(dh), id = d != 0 ? 1.0f / d : 0;
                int8_t *q = (int8_t *)values + r * cols + b * DK_QBLOCK;
                for (int j = 0; j < DK_QBLOCK; j++) {
                    float v = roundf(x[j] * id);
                    q[j] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
                }
                scales[r * nb + b] = dh;
            } else {
                float amax = 0, m = 0;
                for (int j = 0; j < DK_QBLOCK; j++)
                    if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); m = x[j]; }
                uint16_t dh = dk_float_to_half(m / -8.0f);
                float d = dk_half_to_float(dh), id = d != 0 ? 1.0f / d : 0;
                uint8_t *q = (uint8_t *)values + r * (cols / 2) + b * 16;
                for (int j = 0; j < 16; j++) {
                    float lo = floorf(x[j] * id + 8.5f), hi = floorf(x[j + 16] * id + 8.5f);
                    int a = lo < 0 ? 0 : lo > 15 ? 15 : (int)lo, c = hi < 0 ? 0 : hi > 15 ? 15 : (int)hi;
                    q[j] = (uint8_t)(a | (c << 4));
                }
                scales[r * nb + b] = dh;
            }
        }
    }
}

void dk_quantize_x(const float *x, long k, int8_t *xq, float *xd, int32_t *xsum) {
    for (long b = 0; b < k / DK_QBLOCK; b++) {
        const float *v = x + b * DK_QBLOCK;
        float amax = 0;
        for (int j = 0; j < DK_QBLOCK; j++) amax = fmaxf(amax, fabsf(v[j]));
        float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0;
        int32_t s = 0;
        for (int j = 0; j < DK_QBLOCK; j++) {
            int q = (int)roundf(v[j] * id);
            q = q > 127 ? 127 : q < -127 ? -127 : q;
            xq[b * DK_QBLOCK + j] = (int8_t)q;
            s += q;
        }
        xd[b] = d;
        xsum[b] = s;
    }
}

// ---- portable ---------------------------------------------------------------------------------
static void hgemv_portable(int type, long n, long k, const uint16_t *w, const float *x, float *y) {
    for (long i = 0; i < n; i++) {
        const uint16_t *r = w + i * k;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        long p = 0;
        for (; p + 4 <= k; p += 4) {
            s0 += widen(type, r, p) * x[p]; s1 += widen(type, r, p + 1) * x[p + 1];
            s2 += widen(type, r, p + 2) * x[p + 2]; s3 += widen(type, r, p + 3) * x[p + 3];
        }
        for (; p < k; p++) s0 += widen(type, r, p) * x[p];
        y[i] = 1.0f * ((s0 + s1) + (s2 + s3));
    }
}

static float qdot_portable(int type, const void *row, const uint16_t *d, const int8_t *xq, const float *xd, long nb) {
    float acc = 0;
    for (long b = 0; b < nb; b++) {
        int32_t s = 0;
        if (type == DK_W_Q8_0) {
            const int8_t *q = (const int8_t *)row + b * DK_QBLOCK;
            for (int j = 0; j < DK_QBLOCK; j++) s += q[j] * xq[b * DK_QBLOCK + j];
        } else {
            const uint8_t *q = (const uint8_t *)row + b * 16;
            for (int j = 0; j < 16; j++)
                s += ((q[j] & 15) - 8) * xq[b * DK_QBLOCK + j] + ((q[j] >> 4) - 8) * xq[b * DK_QBLOCK + j + 16];
        }
        acc += (float)s * (dk_half_to_float(d[b]) * xd[b]);
    }
    return acc;
}

#if defined(__x86_64__)
// ---- AVX2 (mirrors sgemv_avx2) ------------------------------------------------------------
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
static inline __attribute__((always_inline)) __m256 ld8(int type, const uint16_t *p) {
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    return type == DK_W_BF16 ? _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)) : _mm256_cvtph_ps(h);
}

static inline float hsum8w(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

static inline __m128 hsum4x8w(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

// The tail (k % 8 values) widened into a zero-padded buffer: the same lanes as a masked load.
static inline __attribute__((always_inline)) __m256 tail8(int type, const uint16_t *p, long r) {
    uint16_t t[8] = {0};
    memcpy(t, p, (size_t)r * 2);
    return ld8(type, t);
}

static inline __attribute__((always_inline)) void hgemv_avx2(int type, long n, long k, const uint16_t *w,
                                                             const float *x, float *y) {
    long i = 0, rem = k & 7;
    __m256i tm = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (; i + 4 <= n; i += 4) {
        const uint16_t *r0 = w + i * k, *r1 = r0 + k, *r2 = r1 + k, *r3 = r2 + k;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        long p = 0;
        for (; p + 16 <= k; p += 16) {
            _mm_prefetch((const char *)(r3 + k + p), _MM_HINT_T0);
            __m256 x0 = _mm256_loadu_ps(x + p), x1 = _mm256_loadu_ps(x + p + 8);
            a0 = _mm256_fmadd_ps(ld8(type, r0 + p), x0, a0); b0 = _mm256_fmadd_ps(ld8(type, r0 + p + 8), x1, b0);
            a1 = _mm256_fmadd_ps(ld8(type, r1 + p), x0, a1); b1 = _mm256_fmadd_ps(ld8(type, r1 + p + 8), x1, b1);
            a2 = _mm256_fmadd_ps(ld8(type, r2 + p), x0, a2); b2 = _mm256_fmadd_ps(ld8(type, r2 + p + 8), x1, b2);
            a3 = _mm256_fmadd_ps(ld8(type, r3 + p), x0, a3); b3 = _mm256_fmadd_ps(ld8(type, r3 + p + 8), x1, b3);
        }
        for (; p + 8 <= k; p += 8) {
            __m256 x0 = _mm256_loadu_ps(x + p);
            a0 = _mm256_fmadd_ps(ld8(type, r0 + p), x0, a0);
            a1 = _mm256_fmadd_ps(ld8(type, r1 + p), x0, a1);
            a2 = _mm256_fmadd_ps(ld8(type, r2 + p), x0, a2);
            a3 = _mm256_fmadd_ps(ld8(type, r3 + p), x0, a3);
        }
        if (p < k) {
            __m256 x0 = _mm256_maskload_ps(x + p, tm);
            a0 = _mm256_fmadd_ps(tail8(type, r0 + p, rem), x0, a0);
            a1 = _mm256_fmadd_ps(tail8(type, r1 + p, rem), x0, a1);
            a2 = _mm256_fmadd_ps(tail8(type, r2 + p, rem), x0, a2);
            a3 = _mm256_fmadd_ps(tail8(type, r3 + p, rem), x0, a3);
        }
        __m128 dots = hsum4x8w(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1), _mm256_add_ps(a2, b2), _mm256_add_ps(a3, b3));
        _mm_storeu_ps(y + i, _mm_mul_ps(_mm_set1_ps(1.0f), dots));
    }
    for (; i < n; i++) {
        const uint16_t *r0 = w + i * k;
        __m256 a0 = _mm256_setzero_ps(), b0 = a0;
        long p = 0;
        for (; p + 16 <= k; p += 16) {
            a0 = _mm256_fmadd_ps(ld8(type, r0 + p), _mm256_loadu_ps(x + p), a0);
            b0 = _mm256_fmadd_ps(ld8(type, r0 + p + 8), _mm256_loadu_ps(x + p + 8), b0);
        }
        for (; p + 8 <= k; p += 8) a0 = _mm256_fmadd_ps(ld8(type, r0 + p), _mm256_loadu_ps(x + p), a0);
        if (p < k) a0 = _mm256_fmadd_ps(tail8(type, r0 + p, rem), _mm256_maskload_ps(x + p, tm), a0);
        y[i] = 1.0f * hsum8w(_mm256_add_ps(a0, b0));
    }
}
static void bf16gemv_avx2(long n, long k, const uint16_t *w, const float *x, float *y) { hgemv_avx2(DK_W_BF16, n, k, w, x, y); }
static void f16gemv_avx2(long n, long k, const uint16_t *w, const float *x, float *y) { hgemv_avx2(DK_W_F16, n, k, w, x, y); }

// One block's 8 int32 partial dots: Q8_0 via |x| · (w signed by x), Q4_0 via nibble · x
// (the −8 offset is taken off later with the block sum of x).
static inline __m256i dot8_q8(const int8_t *w, const int8_t *x) {
    __m256i xv = _mm256_loadu_si256((const __m256i *)x), wv = _mm256_loadu_si256((const __m256i *)w);
    __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(xv, xv), _mm256_sign_epi8(wv, xv));
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

static inline __m256i dot8_q4(const uint8_t *q, const int8_t *x) {
    __m128i raw = _mm_loadu_si128((const __m128i *)q);
    __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(15));
    __m256i p16 = _mm256_maddubs_epi16(nib, _mm256_loadu_si256((const __m256i *)x));
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

static float qdot_avx2(int type, const void *row, const uint16_t *d, const int8_t *xq, const float *xd,
                       const int32_t *xsum, long nb) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    long b = 0;
    for (; b + 2 <= nb; b += 2) {
        __m256i s0, s1;
        if (type == DK_W_Q8_0) {
            s0 = dot8_q8((const int8_t *)row + b * 32, xq + b * 32);
            s1 = dot8_q8((const int8_t *)row + b * 32 + 32, xq + b * 32 + 32);
        } else {
            s0 = _mm256_sub_epi32(dot8_q4((const uint8_t *)row + b * 16, xq + b * 32), _mm256_zextsi128_si256(_mm_cvtsi32_si128(8 * xsum[b])));
            s1 = _mm256_sub_epi32(dot8_q4((const uint8_t *)row + b * 16 + 16, xq + b * 32 + 32), _mm256_zextsi128_si256(_mm_cvtsi32_si128(8 * xsum[b + 1])));
        }
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(_cvtsh_ss(d[b]) * xd[b]), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_set1_ps(_cvtsh_ss(d[b + 1]) * xd[b + 1]), acc1);
    }
    if (b < nb) {
        __m256i s0 = type == DK_W_Q8_0 ? dot8_q8((const int8_t *)row + b * 32, xq + b * 32)
            : _mm256_sub_epi32(dot8_q4((const uint8_t *)row + b * 16, xq + b * 32), _mm256_zextsi128_si256(_mm_cvtsi32_si128(8 * xsum[b])));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(_cvtsh_ss(d[b]) * xd[b]), acc0);
    }
    return hsum8w(_mm256_add_ps(acc0, acc1));
}
#pragma clang attribute pop

// ---- AVX-512 (mirrors sgemv_avx512) ---------------------------------------------------------
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma,f16c"))), apply_to = function)
static inline __attribute__((always_inline)) __m512 ld16(int type, const uint16_t *p) {
    __m256i h = _mm256_loadu_si256((const __m256i *)p);
    return type == DK_W_BF16 ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)) : _mm512_cvtph_ps(h);
}

static inline __attribute__((always_inline)) __m512 tail16(int type, const uint16_t *p, long r) {
    uint16_t t[16] = {0};
    memcpy(t, p, (size_t)r * 2);
    return ld16(type, t);
}

static inline __m256 fold256w(__m512 v) {
    return _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
}

static inline __m128 hsum4x8w5(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

static inline __attribute__((always_inline)) void hgemv_avx512(int type, long n, long k, const uint16_t *w,
                                                               const float *x, float *y) {
    long rem = k & 15;
    __mmask16 tm = (__mmask16)((1u << rem) - 1);
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint16_t *r0 = w + i * k, *r1 = r0 + k, *r2 = r1 + k, *r3 = r2 + k;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        long p = 0;
        for (; p + 32 <= k; p += 32) {
            _mm_prefetch((const char *)(r3 + k + p), _MM_HINT_T0);
            __m512 x0 = _mm512_loadu_ps(x + p), x1 = _mm512_loadu_ps(x + p + 16);
            a0 = _mm512_fmadd_ps(ld16(type, r0 + p), x0, a0); b0 = _mm512_fmadd_ps(ld16(type, r0 + p + 16), x1, b0);
            a1 = _mm512_fmadd_ps(ld16(type, r1 + p), x0, a1); b1 = _mm512_fmadd_ps(ld16(type, r1 + p + 16), x1, b1);
            a2 = _mm512_fmadd_ps(ld16(type, r2 + p), x0, a2); b2 = _mm512_fmadd_ps(ld16(type, r2 + p + 16), x1, b2);
            a3 = _mm512_fmadd_ps(ld16(type, r3 + p), x0, a3); b3 = _mm512_fmadd_ps(ld16(type, r3 + p + 16), x1, b3);
        }
        for (; p + 16 <= k; p += 16) {
            __m512 x0 = _mm512_loadu_ps(x + p);
            a0 = _mm512_fmadd_ps(ld16(type, r0 + p), x0, a0);
            a1 = _mm512_fmadd_ps(ld16(type, r1 + p), x0, a1);
            a2 = _mm512_fmadd_ps(ld16(type, r2 + p), x0, a2);
            a3 = _mm512_fmadd_ps(ld16(type, r3 + p), x0, a3);
        }
        if (p < k) {
            __m512 x0 = _mm512_maskz_loadu_ps(tm, x + p);
            a0 = _mm512_fmadd_ps(tail16(type, r0 + p, rem), x0, a0);
            a1 = _mm512_fmadd_ps(tail16(type, r1 + p, rem), x0, a1);
            a2 = _mm512_fmadd_ps(tail16(type, r2 + p, rem), x0, a2);
            a3 = _mm512_fmadd_ps(tail16(type, r3 + p, rem), x0, a3);
        }
        a0 = _mm512_add_ps(a0, b0); a1 = _mm512_add_ps(a1, b1); a2 = _mm512_add_ps(a2, b2); a3 = _mm512_add_ps(a3, b3);
        __m128 dots = hsum4x8w5(fold256w(a0), fold256w(a1), fold256w(a2), fold256w(a3));
        _mm_storeu_ps(y + i, _mm_mul_ps(_mm_set1_ps(1.0f), dots));
    }
    for (; i < n; i++) {
        const uint16_t *r0 = w + i * k;
        __m512 a0 = _mm512_setzero_ps();
        long p = 0;
        for (; p + 16 <= k; p += 16) a0 = _mm512_fmadd_ps(ld16(type, r0 + p), _mm512_loadu_ps(x + p), a0);
        if (p < k) a0 = _mm512_fmadd_ps(tail16(type, r0 + p, rem), _mm512_maskz_loadu_ps(tm, x + p), a0);
        y[i] = 1.0f * _mm512_reduce_add_ps(a0);
    }
}
static void bf16gemv_avx512(long n, long k, const uint16_t *w, const float *x, float *y) { hgemv_avx512(DK_W_BF16, n, k, w, x, y); }
static void f16gemv_avx512(long n, long k, const uint16_t *w, const float *x, float *y) { hgemv_avx512(DK_W_F16, n, k, w, x, y); }
#pragma clang attribute pop

// ---- AVX-512 VNNI: two blocks (64 values) per step ---------------------------------------------
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c"))), apply_to = function)
static float qdot_vnni(int type, const void *row, const uint16_t *d, const int8_t *xq, const float *xd,
                       const int32_t *xsum, long nb) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
    const __m512i lo = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(2));
    long b = 0;
    for (; b + 4 <= nb; b += 4) {
        __m128 s = _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(d + b))), _mm_loadu_ps(xd + b));
        __m512 s4 = _mm512_zextps128_ps512(s);
        __m512i t0, t1;
        if (type == DK_W_Q8_0) {
            const int8_t *w = (const int8_t *)row + b * 32;
            __m512i x0 = _mm512_loadu_si512(xq + b * 32), x1 = _mm512_loadu_si512(xq + b * 32 + 64);
            __m512i w0 = _mm512_loadu_si512(w), w1 = _mm512_loadu_si512(w + 64);
            __m512i z = _mm512_setzero_si512();
            w0 = _mm512_mask_sub_epi8(w0, _mm512_movepi8_mask(x0), z, w0);
            w1 = _mm512_mask_sub_epi8(w1, _mm512_movepi8_mask(x1), z, w1);
            t0 = _mm512_dpbusd_epi32(z, _mm512_abs_epi8(x0), w0);
            t1 = _mm512_dpbusd_epi32(z, _mm512_abs_epi8(x1), w1);
        } else {
            const uint8_t *q = (const uint8_t *)row + b * 16;
            __m512i raw = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)q));
            raw = _mm512_inserti64x4(raw, _mm256_loadu_si256((const __m256i *)(q + 32)), 1);
            __m512i m15 = _mm512_set1_epi8(15);
            __m512i l = _mm512_and_si512(raw, m15), h = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m15);
            // 128-bit lanes: raw = [A B | C D] (16 bytes per block) → [A.lo A.hi B.lo B.hi], [C.lo …]
            __m512i n0 = _mm512_permutex2var_epi64(l, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), h);
            __m512i n1 = _mm512_permutex2var_epi64(l, _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15), h);
            __m512i z = _mm512_setzero_si512();
            t0 = _mm512_dpbusd_epi32(z, n0, _mm512_loadu_si512(xq + b * 32));
            t1 = _mm512_dpbusd_epi32(z, n1, _mm512_loadu_si512(xq + b * 32 + 64));
            __m128i c = _mm_slli_epi32(_mm_loadu_si128((const __m128i *)(xsum + b)), 3);
            // subtract 8·Σx of each block from one lane of that block (lanes 0, 8 of t0 and t1)
            __m512i c4 = _mm512_zextsi128_si512(c);
            t0 = _mm512_sub_epi32(t0, _mm512_maskz_permutexvar_epi32(0x0101, _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0), c4));
            t1 = _mm512_sub_epi32(t1, _mm512_maskz_permutexvar_epi32(0x0101, _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2), c4));
        }
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t0), _mm512_permutexvar_ps(lo, s4), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t1), _mm512_permutexvar_ps(hi, s4), acc1);
    }
    float tail = b < nb ? qdot_avx2(type, type == DK_W_Q8_0 ? (const void *)((const int8_t *)row + b * 32)
                                                           : (const void *)((const uint8_t *)row + b * 16),
                                    d + b, xq + b * 32, xd + b, xsum + b, nb - b) : 0.0f;
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + tail;
}
#pragma clang attribute pop
#endif

static int has_vnni(void) {
#if defined(__x86_64__)
    static int v = -1;
    if (v < 0) { __builtin_cpu_init(); v = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni"); }
    return v;
#else
    return 0;
#endif
}

int dk_wgemv_kernel_level(int isa, int type) {
    if (isa > dk_isa()) isa = dk_isa();
    if ((type == DK_W_Q8_0 || type == DK_W_Q4_0) && isa >= DK_ISA_AVX512 && !has_vnni()) isa = DK_ISA_AVX2;
    return isa;
}

void dk_wgemv_isa(int isa, const dk_wmat *w, long r0, long r1, const float *x, const dk_xquant *xq, float *y) {
    long n = r1 - r0, k = w->cols;
    if (n <= 0) return;
    isa = dk_wgemv_kernel_level(isa, w->type);
    if (w->type == DK_W_F32) { dk_sgemv_isa(isa, n, k, 1.0f, (const float *)w->values + r0 * k, k, x, 0.0f, y); return; }
    if (w->type == DK_W_BF16 || w->type == DK_W_F16) {
        const uint16_t *rows = (const uint16_t *)w->values + r0 * k;
#if defined(__x86_64__)
        if (isa >= DK_ISA_AVX512) { (w->type == DK_W_BF16 ? bf16gemv_avx512 : f16gemv_avx512)(n, k, rows, x, y); return; }
        if (isa >= DK_ISA_AVX2) { (w->type == DK_W_BF16 ? bf16gemv_avx2 : f16gemv_avx2)(n, k, rows, x, y); return; }
#endif
        hgemv_portable(w->type, n, k, rows, x, y);
        return;
    }
    long nb = k / DK_QBLOCK, rowBytes = dk_wmat_row_bytes(w->type, k);
    for (long i = r0; i < r1; i++) {
        const void *row = (const uint8_t *)w->values + i * rowBytes;
        const uint16_t *d = w->scales + i * nb;
#if defined(__x86_64__)
        if (isa >= DK_ISA_AVX512) { y[i - r0] = qdot_vnni(w->type, row, d, xq->q, xq->d, xq->sum, nb); continue; }
        if (isa >= DK_ISA_AVX2) { y[i - r0] = qdot_avx2(w->type, row, d, xq->q, xq->d, xq->sum, nb); continue; }
#endif
        y[i - r0] = qdot_portable(w->type, row, d, xq->q, xq->d, nb);
    }
}

void dk_wgemv_job(void *ctx, int part, int nparts) {
    const dk_wgemv_args *g = ctx;
    long n = g->w->rows, units = (n + 15) / 16;  // as dk_sgemv_job: whole 16-row units
    long per = units / nparts, extra = units % nparts;
    long u0 = part * per + (part < extra ? part : extra), u1 = u0 + per + (part < extra ? 1 : 0);
    long lo = u0 * 16 < n ? u0 * 16 : n, hi = u1 * 16 < n ? u1 * 16 : n;
    if (lo < hi) dk_wgemv_isa(g->isa, g->w, lo, hi, g->x, &g->xq, g->y + lo);
}
