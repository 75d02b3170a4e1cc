// GEMV for decode (m == 1). Memory-bound: the goal is to stream W once at full bandwidth, so
// four rows share each x load and every row keeps two accumulators to hide FMA latency.
#include "CDogeKernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include "gemv_reductions.h"

static inline float finish(float alpha, float dot, float beta, const float *y) {
    return beta == 0.0f ? alpha * dot : alpha * dot + beta * *y;
}

static void sgemv_portable(long n, long k, float alpha, const float *w, long ldw, const float *x,
                           float beta, float *y) {
    for (long i = 0; i < n; i++) {
        const float *r = w + i * ldw;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        long p = 0;
        for (; p + 4 <= k; p += 4) { s0 += r[p] * x[p]; s1 += r[p + 1] * x[p + 1]; s2 += r[p + 2] * x[p + 2]; s3 += r[p + 3] * x[p + 3]; }
        for (; p < k; p++) s0 += r[p] * x[p];
        y[i] = finish(alpha, (s0 + s1) + (s2 + s3), beta, y + i);
    }
}

static void sgemv_t_portable(long n, long k, float alpha, const float *b, long ldb, const float *x,
                             float beta, float *y) {
    for (long j = 0; j < n; j++) {
        float s = 0;
        for (long p = 0; p < k; p++) s += x[p] * b[p * ldb + j];
        y[j] = finish(alpha, s, beta, y + j);
    }
}

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
static inline __m256i tail_mask8(long r) {  // lanes < r set
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static void sgemv_avx2(long n, long k, float alpha, const float *w, long ldw, const float *x,
                       float beta, float *y) {
    long i = 0;
    __m256i tm = tail_mask8(k & 7);
    for (; i + 4 <= n; i += 4) {
        const float *r0 = w + i * ldw, *r1 = r0 + ldw, *r2 = r1 + ldw, *r3 = r2 + ldw;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        long p = 0;
        for (; p + 16 <= k; p += 16) {
            // One line of the next group's first row per step: the hardware prefetchers then find
            // the next rows in time (measured +8 % decode; prefetching all four rows was slower).
            _mm_prefetch((const char *)(r3 + ldw + p), _MM_HINT_T0);
            __m256 x0 = _mm256_loadu_ps(x + p), x1 = _mm256_loadu_ps(x + p + 8);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p), x0, a0); b0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p + 8), x1, b0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + p), x0, a1); b1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + p + 8), x1, b1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + p), x0, a2); b2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + p + 8), x1, b2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + p), x0, a3); b3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + p + 8), x1, b3);
        }
        for (; p + 8 <= k; p += 8) {
            __m256 x0 = _mm256_loadu_ps(x + p);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p), x0, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + p), x0, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + p), x0, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + p), x0, a3);
        }
        if (p < k) {
            __m256 x0 = _mm256_maskload_ps(x + p, tm);
            a0 = _mm256_fmadd_ps(_mm256_maskload_ps(r0 + p, tm), x0, a0);
            a1 = _mm256_fmadd_ps(_mm256_maskload_ps(r1 + p, tm), x0, a1);
            a2 = _mm256_fmadd_ps(_mm256_maskload_ps(r2 + p, tm), x0, a2);
            a3 = _mm256_fmadd_ps(_mm256_maskload_ps(r3 + p, tm), x0, a3);
        }
        store4(hsum4x8(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1), _mm256_add_ps(a2, b2), _mm256_add_ps(a3, b3)),
               alpha, beta, y + i);
    }
    for (; i < n; i++) {
        const float *r0 = w + i * ldw;
        __m256 a0 = _mm256_setzero_ps(), b0 = a0;
        long p = 0;
        for (; p + 16 <= k; p += 16) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p), _mm256_loadu_ps(x + p), a0);
            b0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p + 8), _mm256_loadu_ps(x + p + 8), b0);
        }
        for (; p + 8 <= k; p += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p), _mm256_loadu_ps(x + p), a0);
        if (p < k) a0 = _mm256_fmadd_ps(_mm256_maskload_ps(r0 + p, tm), _mm256_maskload_ps(x + p, tm), a0);
        y[i] = finish(alpha, hsum8(_mm256_add_ps(a0, b0)), beta, y + i);
    }
}

// x·B: 32 outputs at a time, one broadcast of x[p] feeds four FMAs along a row of B.
static void sgemv_t_avx2(long n, long k, float alpha, const float *b, long ldb, const float *x,
                         float beta, float *y) {
    long j = 0;
    for (; j + 32 <= n; j += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        const float *bp = b + j;
        for (long p = 0; p < k; p++, bp += ldb) {
            __m256 xv = _mm256_broadcast_ss(x + p);
            a0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(bp), a0);
            a1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(bp + 8), a1);
            a2 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(bp + 16), a2);
            a3 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(bp + 24), a3);
        }
        __m256 acc[4] = {a0, a1, a2, a3};
        for (int q = 0; q < 4; q++) {
            __m256 r = _mm256_mul_ps(_mm256_set1_ps(alpha), acc[q]);
            if (beta != 0.0f) r = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(y + j + 8 * q), r);
            _mm256_storeu_ps(y + j + 8 * q, r);
        }
    }
    for (; j < n; j += 8) {
        long cnt = n - j < 8 ? n - j : 8;
        __m256i m = tail_mask8(cnt);
        __m256 a0 = _mm256_setzero_ps();
        const float *bp = b + j;
        for (long p = 0; p < k; p++, bp += ldb)
            a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + p), _mm256_maskload_ps(bp, m), a0);
        __m256 r = _mm256_mul_ps(_mm256_set1_ps(alpha), a0);
        if (beta != 0.0f) r = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_maskload_ps(y + j, m), r);
        _mm256_maskstore_ps(y + j, m, r);
    }
}
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
static void sgemv_avx512(long n, long k, float alpha, const float *w, long ldw, const float *x,
                         float beta, float *y) {
    __mmask16 tm = (__mmask16)((1u << (k & 15)) - 1);
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *r0 = w + i * ldw, *r1 = r0 + ldw, *r2 = r1 + ldw, *r3 = r2 + ldw;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        long p = 0;
        for (; p + 32 <= k; p += 32) {
            _mm_prefetch((const char *)(r3 + ldw + p), _MM_HINT_T0);
            _mm_prefetch((const char *)(r3 + ldw + p + 16), _MM_HINT_T0);
            __m512 x0 = _mm512_loadu_ps(x + p), x1 = _mm512_loadu_ps(x + p + 16);
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(r0 + p), x0, a0); b0 = _mm512_fmadd_ps(_mm512_loadu_ps(r0 + p + 16), x1, b0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(r1 + p), x0, a1); b1 = _mm512_fmadd_ps(_mm512_loadu_ps(r1 + p + 16), x1, b1);
            a2 = _mm512_fmadd_ps(_mm512_loadu_ps(r2 + p), x0, a2); b2 = _mm512_fmadd_ps(_mm512_loadu_ps(r2 + p + 16), x1, b2);
            a3 = _mm512_fmadd_ps(_mm512_loadu_ps(r3 + p), x0, a3); b3 = _mm512_fmadd_ps(_mm512_loadu_ps(r3 + p + 16), x1, b3);
        }
        for (; p + 16 <= k; p += 16) {
            __m512 x0 = _mm512_loadu_ps(x + p);
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(r0 + p), x0, a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(r1 + p), x0, a1);
            a2 = _mm512_fmadd_ps(_mm512_loadu_ps(r2 + p), x0, a2);
            a3 = _mm512_fmadd_ps(_mm512_loadu_ps(r3 + p), x0, a3);
        }
        if (p < k) {
            __m512 x0 = _mm512_maskz_loadu_ps(tm, x + p);
            a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tm, r0 + p), x0, a0);
            a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tm, r1 + p), x0, a1);
            a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tm, r2 + p), x0, a2);
            a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tm, r3 + p), x0, a3);
        }
        a0 = _mm512_add_ps(a0, b0); a1 = _mm512_add_ps(a1, b1); a2 = _mm512_add_ps(a2, b2); a3 = _mm512_add_ps(a3, b3);
        store4(hsum4x8(fold256(a0), fold256(a1), fold256(a2), fold256(a3)), alpha, beta, y + i);
    }
    for (; i < n; i++) {
        const float *r0 = w + i * ldw;
        __m512 a0 = _mm512_setzero_ps();
        long p = 0;
        for (; p + 16 <= k; p += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(r0 + p), _mm512_loadu_ps(x + p), a0);
        if (p < k) a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tm, r0 + p), _mm512_maskz_loadu_ps(tm, x + p), a0);
        y[i] = finish(alpha, _mm512_reduce_add_ps(a0), beta, y + i);
    }
}
#pragma clang attribute pop
#endif

void dk_sgemv(long n, long k, float alpha, const float *w, long ldw, const float *x, float beta, float *y) {
    dk_sgemv_isa(DK_ISA_AVX512, n, k, alpha, w, ldw, x, beta, y);
}

void dk_sgemv_t(long n, long k, float alpha, const float *b, long ldb, const float *x, float beta, float *y) {
    dk_sgemv_t_isa(DK_ISA_AVX512, n, k, alpha, b, ldb, x, beta, y);
}

void dk_sgemv_isa(int isa, long n, long k, float alpha, const float *w, long ldw, const float *x, float beta, float *y) {
    if (n <= 0) return;
#if defined(__x86_64__)
    if (isa > dk_isa()) isa = dk_isa();
    if (isa >= DK_ISA_AVX512) { sgemv_avx512(n, k, alpha, w, ldw, x, beta, y); return; }
    if (isa >= DK_ISA_AVX2) { sgemv_avx2(n, k, alpha, w, ldw, x, beta, y); return; }
#endif
    sgemv_portable(n, k, alpha, w, ldw, x, beta, y);
}

void dk_sgemv_t_isa(int isa, long n, long k, float alpha, const float *b, long ldb, const float *x, float beta, float *y) {
    if (n <= 0) return;
#if defined(__x86_64__)
    if (isa > dk_isa()) isa = dk_isa();
    if (isa >= DK_ISA_AVX2) { sgemv_t_avx2(n, k, alpha, b, ldb, x, beta, y); return; }
#endif
    sgemv_t_portable(n, k, alpha, b, ldb, x, beta, y);
}

void dk_sgemv_job(void *ctx, int part, int nparts) {
    const dk_sgemv_args *g = ctx;
    // Split rows in multiples of 16 (whole cache lines of y, whole 4-row groups of W).
    long units = (g->n + 15) / 16;
    long per = units / nparts, extra = units % nparts;
    long u0 = part * per + (part < extra ? part : extra), u1 = u0 + per + (part < extra ? 1 : 0);
    long lo = u0 * 16 < g->n ? u0 * 16 : g->n, hi = u1 * 16 < g->n ? u1 * 16 : g->n;
    if (lo >= hi) return;
    if (g->trans) dk_sgemv_t_isa(g->isa, hi - lo, g->k, g->alpha, g->w + lo, g->ld, g->x, g->beta, g->y + lo);
    else dk_sgemv_isa(g->isa, hi - lo, g->k, g->alpha, g->w + lo * g->ld, g->ld, g->x, g->beta, g->y + lo);
}
