// Element-wise and row-wise float ops: AVX2 bodies (8 lanes, enough to saturate L1/L2 bandwidth
// on both the AVX2 and the AVX-512 machines) and portable scalar fallbacks. Tails (n % 8) run
// through a small stack buffer so every lane goes through the same vector code.
#include "CDogeKernels.h"
#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline float bits_to_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static float f16_scalar(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return bits_to_f32(sign | 0x7f800000u | (man << 13));  // inf / nan, payload kept
    if (exp != 0) return bits_to_f32(sign | ((exp + 112) << 23) | (man << 13));
    if (man == 0) return bits_to_f32(sign);
    int e = -1;  // subnormal half: normalise (always a normal float)
    do { e++; man <<= 1; } while (!(man & 0x400));
    return bits_to_f32(sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13));
}

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define V __m256
#define SET1 _mm256_set1_ps

// Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, degree-5 polynomial; 2^n applied as two halves so
// results down to the subnormal range stay exact-ish. x > 88.72 → inf, x < -103.97 → 0 (exactly),
// NaN → NaN (min/max return their second operand when either is NaN).
static inline V exp8(V x) {
    const V hi = SET1(88.72283905f), lo = SET1(-103.972084f);
    V over = _mm256_cmp_ps(x, hi, _CMP_GT_OQ), under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    V xc = _mm256_min_ps(hi, _mm256_max_ps(lo, x));
    V n = _mm256_round_ps(_mm256_mul_ps(xc, SET1(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    V r = _mm256_fnmadd_ps(n, SET1(0.693359375f), xc);
    r = _mm256_fnmadd_ps(n, SET1(-2.12194440e-4f), r);
    V p = SET1(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, SET1(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, SET1(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, SET1(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, SET1(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, SET1(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, SET1(1.0f)));
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i e1 = _mm256_srai_epi32(ni, 1), e2 = _mm256_sub_epi32(ni, e1);
    V s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e1, _mm256_set1_epi32(127)), 23));
    V s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e2, _mm256_set1_epi32(127)), 23));
    V y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    y = _mm256_blendv_ps(y, SET1(INFINITY), over);
    return _mm256_andnot_ps(under, y);
}

// log(u) for u in [1, 2] (Cephes logf polynomial around 1).
static inline V log_1to2(V u) {
    V m = _mm256_mul_ps(u, SET1(0.5f));
    V small = _mm256_cmp_ps(m, SET1(0.707106781186547524f), _CMP_LT_OQ);
    V x = _mm256_sub_ps(_mm256_blendv_ps(m, u, small), SET1(1.0f));
    V e = _mm256_andnot_ps(small, SET1(1.0f));
    V z = _mm256_mul_ps(x, x);
    V p = SET1(7.0376836292e-2f);
    p = _mm256_fmadd_ps(p, x, SET1(-1.1514610310e-1f));
    p = _mm256_fmadd_ps(p, x, SET1(1.1676998740e-1f));
    p = _mm256_fmadd_ps(p, x, SET1(-1.2420140846e-1f));
    p = _mm256_fmadd_ps(p, x, SET1(1.4249322787e-1f));
    p = _mm256_fmadd_ps(p, x, SET1(-1.6668057665e-1f));
    p = _mm256_fmadd_ps(p, x, SET1(2.0000714765e-1f));
    p = _mm256_fmadd_ps(p, x, SET1(-2.4999993993e-1f));
    p = _mm256_fmadd_ps(p, x, SET1(3.3333331174e-1f));
    V y = _mm256_mul_ps(_mm256_mul_ps(p, x), z);
    y = _mm256_fmadd_ps(e, SET1(-2.12194440e-4f), y);
    y = _mm256_fnmadd_ps(SET1(0.5f), z, y);
    return _mm256_fmadd_ps(e, SET1(0.693359375f), _mm256_add_ps(x, y));
}

// softplus = max(x,0) + log1p(exp(-|x|)); log1p(t) = log(u)·t/(u-1) with u = 1+t keeps full
// relative accuracy for tiny t (Kahan's trick); identity above 20 like torch.nn.functional.softplus.
static inline V softplus8(V x) {
    V a = _mm256_andnot_ps(SET1(-0.0f), x);
    V t = exp8(_mm256_sub_ps(_mm256_setzero_ps(), a));
    V u = _mm256_add_ps(SET1(1.0f), t);
    V lp = _mm256_div_ps(_mm256_mul_ps(log_1to2(u), t), _mm256_sub_ps(u, SET1(1.0f)));
    lp = _mm256_blendv_ps(lp, t, _mm256_cmp_ps(u, SET1(1.0f), _CMP_EQ_OQ));
    V r = _mm256_add_ps(_mm256_max_ps(_mm256_setzero_ps(), x), lp);
    return _mm256_blendv_ps(r, x, _mm256_cmp_ps(x, SET1(20.0f), _CMP_GT_OQ));
}

static void exp_avx2(const float *x, float *out, long n) {
    for (long i = 0; i < n; i += 8) {
        if (i + 8 <= n) { _mm256_storeu_ps(out + i, exp8(_mm256_loadu_ps(x + i))); continue; }
        float t[8] = {0};
        memcpy(t, x + i, (size_t)(n - i) * 4);
        _mm256_storeu_ps(t, exp8(_mm256_loadu_ps(t)));
        memcpy(out + i, t, (size_t)(n - i) * 4);
    }
}

static void softplus_avx2(const float *x, float *out, long n) {
    for (long i = 0; i < n; i += 8) {
        if (i + 8 <= n) { _mm256_storeu_ps(out + i, softplus8(_mm256_loadu_ps(x + i))); continue; }
        float t[8] = {0};
        memcpy(t, x + i, (size_t)(n - i) * 4);
        _mm256_storeu_ps(t, softplus8(_mm256_loadu_ps(t)));
        memcpy(out + i, t, (size_t)(n - i) * 4);
    }
}

static void silu_mul_avx2(const float *g, const float *u, long n, float *out) {
    for (long i = 0; i < n; i += 8) {
        float tg[8] = {0}, tu[8] = {0}, to[8];
        long r = n - i < 8 ? n - i : 8;
        const float *gp = g + i, *up = u + i;
        float *op = out + i;
        if (r < 8) { memcpy(tg, gp, (size_t)r * 4); memcpy(tu, up, (size_t)r * 4); gp = tg; up = tu; op = to; }
        V gv = _mm256_loadu_ps(gp);
        V s = _mm256_div_ps(gv, _mm256_add_ps(SET1(1.0f), exp8(_mm256_sub_ps(_mm256_setzero_ps(), gv))));
        _mm256_storeu_ps(op, _mm256_mul_ps(s, _mm256_loadu_ps(up)));
        if (r < 8) memcpy(out + i, to, (size_t)r * 4);
    }
}

static float hsum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

static void rmsnorm_avx2(const float *x, const float *w, float eps, long rows, long cols, float *out) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *or = out + r * cols;
        V a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        long c = 0;
        for (; c + 32 <= cols; c += 32) {
            V v0 = _mm256_loadu_ps(xr + c), v1 = _mm256_loadu_ps(xr + c + 8);
            V v2 = _mm256_loadu_ps(xr + c + 16), v3 = _mm256_loadu_ps(xr + c + 24);
            a0 = _mm256_fmadd_ps(v0, v0, a0); a1 = _mm256_fmadd_ps(v1, v1, a1);
            a2 = _mm256_fmadd_ps(v2, v2, a2); a3 = _mm256_fmadd_ps(v3, v3, a3);
        }
        for (; c + 8 <= cols; c += 8) { V v = _mm256_loadu_ps(xr + c); a0 = _mm256_fmadd_ps(v, v, a0); }
        float ss = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
        for (; c < cols; c++) ss += xr[c] * xr[c];
        float scale = 1.0f / sqrtf(ss / (float)cols + eps);
        V sv = SET1(scale);
        c = 0;
        for (; c + 8 <= cols; c += 8)
            _mm256_storeu_ps(or + c, _mm256_mul_ps(_mm256_loadu_ps(w + c), _mm256_mul_ps(_mm256_loadu_ps(xr + c), sv)));
        for (; c < cols; c++) or[c] = w[c] * (xr[c] * scale);
    }
}

static void softmax_avx2(float *x, long n) {
    if (n <= 0) return;
    V mv = SET1(-INFINITY);
    long i = 0;
    for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + i));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    float m = fmaxf(_mm_cvtss_f32(m4), _mm_cvtss_f32(_mm_movehdup_ps(m4)));
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    V msv = SET1(m), sum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        V e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), msv));
        _mm256_storeu_ps(x + i, e);
        sum = _mm256_add_ps(sum, e);
    }
    if (i < n) {
        float t[8];
        for (int q = 0; q < 8; q++) t[q] = i + q < n ? x[i + q] - m : -INFINITY;  // pad → exp 0
        V e = exp8(_mm256_loadu_ps(t));
        sum = _mm256_add_ps(sum, e);
        _mm256_storeu_ps(t, e);
        memcpy(x + i, t, (size_t)(n - i) * 4);
    }
    V inv = SET1(1.0f / hsum(sum));
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
    for (; i < n; i++) x[i] *= _mm256_cvtss_f32(inv);
}

static void axpy_avx2(float alpha, const float *x, float *y, long n) {
    V av = SET1(alpha);
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += alpha * x[i];
}

static void add_avx2(const float *x, float *y, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

static void scale_avx2(float alpha, const float *x, float *out, long n) {
    V av = SET1(alpha);
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_mul_ps(av, _mm256_loadu_ps(x + i)));
    for (; i < n; i++) out[i] = alpha * x[i];
}

static void mul_avx2(const float *a, const float *b, float *out, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; i++) out[i] = a[i] * b[i];
}

static void bf16_avx2(const uint16_t *src, float *dst, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + i)));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_slli_epi32(v, 16));
    }
    for (; i < n; i++) dst[i] = bits_to_f32((uint32_t)src[i] << 16);
}

static void f16_avx2(const uint16_t *src, float *dst, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = f16_scalar(src[i]);
}
// AdamW on 8 values at a time with the scalar formula's exact operations (see dk_adamw).
static long adamw_avx2(float *p, const float *g, float *m, float *v, long n, const dk_adamw_step *s) {
    const V decay = SET1(s->decay), b1 = SET1(s->b1), b2 = SET1(s->b2), c2 = SET1(s->one_minus_b2);
    const V bc2 = SET1(s->bc2_sqrt), eps = SET1(s->eps), step = SET1(-s->step_size);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        V pv = _mm256_loadu_ps(p + i), gv = _mm256_loadu_ps(g + i), mv = _mm256_loadu_ps(m + i), vv = _mm256_loadu_ps(v + i);
        if (s->decays) pv = _mm256_mul_ps(pv, decay);
        mv = _mm256_add_ps(mv, _mm256_mul_ps(b1, _mm256_sub_ps(gv, mv)));
        vv = _mm256_add_ps(_mm256_mul_ps(vv, b2), _mm256_mul_ps(_mm256_mul_ps(c2, gv), gv));
        V den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vv), bc2), eps);
        pv = _mm256_add_ps(pv, _mm256_mul_ps(step, _mm256_div_ps(mv, den)));
        _mm256_storeu_ps(p + i, pv); _mm256_storeu_ps(m + i, mv); _mm256_storeu_ps(v + i, vv);
    }
    return i;
}
#undef V
#undef SET1
#pragma clang attribute pop
#define HAVE_AVX2 (dk_isa() >= DK_ISA_AVX2)
#else
#define HAVE_AVX2 0
#endif

// ---- dispatch + portable fallbacks ----------------------------------------------------------
#if defined(__x86_64__)
#define DISPATCH(call) do { if (HAVE_AVX2) { call; return; } } while (0)
#else
#define DISPATCH(call) do { } while (0)
#endif

static float exp_scalar(float x) { return x < -103.972084f ? 0.0f : expf(x); }

void dk_exp(const float *x, float *out, long n) {
    DISPATCH(exp_avx2(x, out, n));
    for (long i = 0; i < n; i++) out[i] = exp_scalar(x[i]);
}

void dk_softplus(const float *x, float *out, long n) {
    DISPATCH(softplus_avx2(x, out, n));
    for (long i = 0; i < n; i++) out[i] = x[i] > 20.0f ? x[i] : log1pf(expf(x[i]));
}

void dk_silu_mul(const float *gate, const float *up, long n, float *out) {
    DISPATCH(silu_mul_avx2(gate, up, n, out));
    for (long i = 0; i < n; i++) { float g = gate[i]; out[i] = g / (1.0f + expf(-g)) * up[i]; }
}

void dk_rmsnorm(const float *x, const float *w, float eps, long rows, long cols, float *out) {
    DISPATCH(rmsnorm_avx2(x, w, eps, rows, cols, out));
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float ss = 0;
        for (long c = 0; c < cols; c++) ss += xr[c] * xr[c];
        float scale = 1.0f / sqrtf(ss / (float)cols + eps);
        for (long c = 0; c < cols; c++) out[r * cols + c] = w[c] * (xr[c] * scale);
    }
}

void dk_softmax(float *x, long n) {
    DISPATCH(softmax_avx2(x, n));
    if (n <= 0) return;
    float m = -INFINITY, sum = 0;
    for (long i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    for (long i = 0; i < n; i++) { x[i] = exp_scalar(x[i] - m); sum += x[i]; }
    float inv = 1.0f / sum;
    for (long i = 0; i < n; i++) x[i] *= inv;
}

void dk_add(const float *x, float *y, long n) {
    DISPATCH(add_avx2(x, y, n));
    for (long i = 0; i < n; i++) y[i] += x[i];
}

void dk_axpy(float alpha, const float *x, float *y, long n) {
    DISPATCH(axpy_avx2(alpha, x, y, n));
    for (long i = 0; i < n; i++) y[i] += alpha * x[i];
}

void dk_scale(float alpha, const float *x, float *out, long n) {
    DISPATCH(scale_avx2(alpha, x, out, n));
    for (long i = 0; i < n; i++) out[i] = alpha * x[i];
}

void dk_mul(const float *a, const float *b, float *out, long n) {
    DISPATCH(mul_avx2(a, b, out, n));
    for (long i = 0; i < n; i++) out[i] = a[i] * b[i];
}

void dk_bf16_to_f32(const uint16_t *src, float *dst, long n) {
    DISPATCH(bf16_avx2(src, dst, n));
    for (long i = 0; i < n; i++) dst[i] = bits_to_f32((uint32_t)src[i] << 16);
}

void dk_f16_to_f32(const uint16_t *src, float *dst, long n) {
    DISPATCH(f16_avx2(src, dst, n));
    for (long i = 0; i < n; i++) dst[i] = f16_scalar(src[i]);
}

// Scalar AdamW, one operation at a time: no fused multiply-add, so every CPU and the SIMD path
// above give the same bits (training runs are reproducible across machines).
#pragma STDC FP_CONTRACT OFF
void dk_adamw(float *p, const float *g, float *m, float *v, long n, const dk_adamw_step *s) {
    long i = 0;
#if defined(__x86_64__)
    if (HAVE_AVX2) i = adamw_avx2(p, g, m, v, n, s);
#endif
    for (; i < n; i++) {
        if (s->decays) p[i] *= s->decay;
        m[i] += s->b1 * (g[i] - m[i]);
        v[i] = v[i] * s->b2 + s->one_minus_b2 * g[i] * g[i];
        float den = sqrtf(v[i]) / s->bc2_sqrt + s->eps;
        p[i] += -s->step_size * (m[i] / den);
    }
}
