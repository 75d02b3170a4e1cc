// The GEMV's reductions, shared by gemv.c and gemm_rows.c: a batched row gets the bits of a
// single-row GEMV only while both use these, operation for operation.
#ifndef DOGE_GEMV_REDUCTIONS_H
#define DOGE_GEMV_REDUCTIONS_H
#if defined(__x86_64__)
#include <immintrin.h>

// Four horizontal sums at once (one hadd tree instead of four): lanes = sums of a0..a3.
__attribute__((target("avx2,fma")))
static inline __m128 hsum4x8(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

// One horizontal sum of eight lanes.
__attribute__((target("avx2,fma")))
static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

// y[0..3] = alpha·dots (+ beta·y).
__attribute__((target("avx2,fma")))
static inline void store4(__m128 dots, float alpha, float beta, float *y) {
    __m128 r = _mm_mul_ps(_mm_set1_ps(alpha), dots);
    if (beta != 0.0f) r = _mm_add_ps(r, _mm_mul_ps(_mm_set1_ps(beta), _mm_loadu_ps(y)));
    _mm_storeu_ps(y, r);
}

// A 16-lane accumulator folded to 8 lanes (low half + high half).
__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma")))
static inline __m256 fold256(__m512 v) {
    return _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
}

#endif
#endif
