// Packed GotoBLAS-style SGEMM: pack op(B) into KC×NR slivers (L1) and op(A) into MC×KC blocks
// (L2), then run a register-tile micro-kernel. Packing absorbs the transposes, so one kernel
// serves all four combinations. Kernels get their ISA from per-function target attributes and
// are chosen at run time (no build flags), see dk_isa().
#include "CDogeKernels.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef void (*dk_kernel)(long kc, const float *pa, const float *pb, float *c, long ldc,
                          float alpha, float beta);

typedef struct {
    int mr, nr;
    long kc, mc, nc;  // cache blocking: A block MC×KC lives in L2, B block KC×NC in L3
    dk_kernel kern;
} dk_gemm_cfg;

// C_tile = alpha·acc + beta·C_tile, never reading C when beta == 0 (garbage/NaN must not leak).
#define DK_STORE(ST, LD, ADD, MUL, SET1, cptr, acc)                                              \
    do {                                                                                         \
        if (beta == 0.0f) ST(cptr, MUL(SET1(alpha), acc));                                       \
        else if (beta == 1.0f) ST(cptr, ADD(LD(cptr), MUL(SET1(alpha), acc)));                   \
        else ST(cptr, ADD(MUL(SET1(beta), LD(cptr)), MUL(SET1(alpha), acc)));                    \
    } while (0)

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
// 6×16 tile: 12 ymm accumulators + 2 B loads + 1 broadcast = 15 of 16 registers.
static void kern_avx2_6x16(long kc, const float *pa, const float *pb, float *c, long ldc,
                           float alpha, float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (long p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8), a;
        _mm_prefetch((const char *)(pb + 64), _MM_HINT_T0);
        a = _mm256_broadcast_ss(pa + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(pa + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(pa + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(pa + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(pa + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
        a = _mm256_broadcast_ss(pa + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
        pa += 6; pb += 16;
    }
#define ST8(p, v) _mm256_storeu_ps(p, v)
#define S8(r, a0, a1) DK_STORE(ST8, _mm256_loadu_ps, _mm256_add_ps, _mm256_mul_ps, _mm256_set1_ps, c + (r) * ldc, a0); \
                      DK_STORE(ST8, _mm256_loadu_ps, _mm256_add_ps, _mm256_mul_ps, _mm256_set1_ps, c + (r) * ldc + 8, a1)
    S8(0, c00, c01); S8(1, c10, c11); S8(2, c20, c21); S8(3, c30, c31); S8(4, c40, c41); S8(5, c50, c51);
#undef S8
#undef ST8
}

// In-register 8×8 transpose: r[i] holds row i on entry, column i on return.
static inline void transpose8_avx2(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20); r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20); r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31); r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31); r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// Packs a full NR-wide sliver of op(B) = Wᵀ (W [n,k] row-major, the Linear-layer case) with 8×8
// register transposes: reads 8 rows of W contiguously, writes 8 packed k-rows. Returns the
// number of k values done (a multiple of 8); the caller packs the rest.
static long pack_bt_avx2(int nr, long kc, const float *b, long ldb, float *pb) {
    long p0 = 0;
    for (; p0 + 8 <= kc; p0 += 8) {
        for (int jb = 0; jb < nr; jb += 8) {
            const float *src = b + (long)jb * ldb + p0;
            __m256 r[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * ldb);
            transpose8_avx2(r);
            float *dst = pb + p0 * nr + jb;
            for (int i = 0; i < 8; i++) _mm256_store_ps(dst + i * nr, r[i]);
        }
    }
    return p0;
}

// Packs a 6-row panel of row-major A (the AVX2 kernel's MR) 8 columns at a time: an 8×8
// transpose of the six rows and two zero rows, then each column's first 6 values. Returns the
// columns done; the caller packs the rest.
static long pack_a6_avx2(long kc, const float *a, long lda, float *pa) {
    long p0 = 0;
    for (; p0 + 8 <= kc; p0 += 8) {
        __m256 r[8];
        for (int i = 0; i < 6; i++) r[i] = _mm256_loadu_ps(a + i * lda + p0);
        r[6] = r[7] = _mm256_setzero_ps();
        transpose8_avx2(r);
        float *dst = pa + p0 * 6;
        for (int p = 0; p < 7; p++) _mm256_storeu_ps(dst + p * 6, r[p]);  // each overwrites the last's 2 spare values
        _mm_storeu_ps(dst + 42, _mm256_castps256_ps128(r[7]));
        _mm_storel_pi((__m64 *)(dst + 46), _mm256_extractf128_ps(r[7], 1));
    }
    return p0;
}

// Packs a 12-row panel (the AVX-512 kernel's MR) 8 columns at a time: rows 0–7 and rows 8–11
// (plus four zero rows) through two 8×8 transposes; each column is then 8 + 4 exact stores.
static long pack_a12_avx2(long kc, const float *a, long lda, float *pa) {
    long p0 = 0;
    for (; p0 + 8 <= kc; p0 += 8) {
        __m256 hi[8], lo[8];
        for (int i = 0; i < 8; i++) hi[i] = _mm256_loadu_ps(a + i * lda + p0);
        for (int i = 0; i < 4; i++) lo[i] = _mm256_loadu_ps(a + (8 + i) * lda + p0);
        lo[4] = lo[5] = lo[6] = lo[7] = _mm256_setzero_ps();
        transpose8_avx2(hi);
        transpose8_avx2(lo);
        float *dst = pa + p0 * 12;
        for (int p = 0; p < 8; p++) {
            _mm256_storeu_ps(dst + p * 12, hi[p]);
            _mm_storeu_ps(dst + p * 12 + 8, _mm256_castps256_ps128(lo[p]));
        }
    }
    return p0;
}
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
// 12×32 tile: 24 zmm accumulators + 2 B loads + 1 broadcast of 32 registers.
static void kern_avx512_12x32(long kc, const float *pa, const float *pb, float *c, long ldc,
                              float alpha, float beta) {
    __m512 acc[12][2];
    for (int i = 0; i < 12; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (long p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(pb), b1 = _mm512_load_ps(pb + 16);
        _mm_prefetch((const char *)(pb + 128), _MM_HINT_T0);
#pragma clang loop unroll(full)
        for (int i = 0; i < 12; i++) {
            __m512 a = _mm512_set1_ps(pa[i]);
            acc[i][0] = _mm512_fmadd_ps(a, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(a, b1, acc[i][1]);
        }
        pa += 12; pb += 32;
    }
#define ST16(p, v) _mm512_storeu_ps(p, v)
#pragma clang loop unroll(full)
    for (int i = 0; i < 12; i++) {
        DK_STORE(ST16, _mm512_loadu_ps, _mm512_add_ps, _mm512_mul_ps, _mm512_set1_ps, c + i * ldc, acc[i][0]);
        DK_STORE(ST16, _mm512_loadu_ps, _mm512_add_ps, _mm512_mul_ps, _mm512_set1_ps, c + i * ldc + 16, acc[i][1]);
    }
#undef ST16
}
#pragma clang attribute pop
#endif

static const dk_gemm_cfg cfg_avx2 = {6, 16, 256, 120, 2048, NULL};
static const dk_gemm_cfg cfg_avx512 = {12, 32, 256, 192, 4096, NULL};

static int gemm_cfg(int isa, dk_gemm_cfg *cfg) {
#if defined(__x86_64__)
    if (isa > dk_isa()) isa = dk_isa();
    if (isa >= DK_ISA_AVX512) { *cfg = cfg_avx512; cfg->kern = kern_avx512_12x32; return 1; }
    if (isa >= DK_ISA_AVX2) { *cfg = cfg_avx2; cfg->kern = kern_avx2_6x16; return 1; }
#endif
    (void)cfg_avx2; (void)cfg_avx512;
    return 0;
}

int dk_sgemm_available(int isa) {
    dk_gemm_cfg cfg;
    return gemm_cfg(isa, &cfg);
}

// op(A)[i0.., p0..] packed as MR-row slivers, k-major inside a sliver, zero-padded to MR rows.
static void pack_a(int mr, long mc, long kc, const float *a, long lda, int trans, float *pa) {
    for (long i0 = 0; i0 < mc; i0 += mr, pa += (long)mr * kc) {
        long rows = mc - i0 < mr ? mc - i0 : mr;
        if (trans) {  // A(i,p) = a[p*lda + i]: MR contiguous floats per p
            for (long p = 0; p < kc; p++) {
                const float *src = a + p * lda + i0;
                float *dst = pa + p * mr;
                long i = 0;
                for (; i < rows; i++) dst[i] = src[i];
                for (; i < mr; i++) dst[i] = 0;
            }
        } else {      // A(i,p) = a[i*lda + p]: read rows contiguously, write with stride MR
#if defined(__x86_64__)
            if ((mr == 6 || mr == 12) && rows == mr) {  // full panels of the AVX2 / AVX-512 kernels
                long done = mr == 6 ? pack_a6_avx2(kc, a + i0 * lda, lda, pa) : pack_a12_avx2(kc, a + i0 * lda, lda, pa);
                for (long i = 0; i < mr; i++)
                    for (long p = done; p < kc; p++) pa[p * mr + i] = a[(i0 + i) * lda + p];
                continue;
            }
#endif
            for (long i = 0; i < rows; i++) {
                const float *src = a + (i0 + i) * lda;
                for (long p = 0; p < kc; p++) pa[p * mr + i] = src[p];
            }
            for (long i = rows; i < mr; i++)
                for (long p = 0; p < kc; p++) pa[p * mr + i] = 0;
        }
    }
}

// op(B)[p0.., j0..] packed as NR-column slivers, k-major inside a sliver, zero-padded to NR.
static void pack_b(int nr, long nc, long kc, const float *b, long ldb, int trans, float *pb) {
    for (long j0 = 0; j0 < nc; j0 += nr, pb += (long)nr * kc) {
        long cols = nc - j0 < nr ? nc - j0 : nr;
        if (!trans) {  // B(p,j) = b[p*ldb + j]
            for (long p = 0; p < kc; p++) {
                const float *src = b + p * ldb + j0;
                float *dst = pb + p * nr;
                long j = 0;
                for (; j < cols; j++) dst[j] = src[j];
                for (; j < nr; j++) dst[j] = 0;
            }
        } else {       // B(p,j) = b[j*ldb + p] (weights [N,K]): rows of W become columns
            long done = 0;
#if defined(__x86_64__)
            if (cols == nr) done = pack_bt_avx2(nr, kc, b + j0 * ldb, ldb, pb);  // SIMD kernels imply AVX2
#endif
            for (long j = 0; j < cols; j++) {
                const float *src = b + (j0 + j) * ldb;
                for (long p = done; p < kc; p++) pb[p * nr + j] = src[p];
            }
            for (long j = cols; j < nr; j++)
                for (long p = 0; p < kc; p++) pb[p * nr + j] = 0;
        }
    }
}

// Per-thread packing buffers (up to ~4.5 MB), grown on demand and kept; a pthread key frees
// them when a thread exits, so short-lived caller threads do not leak.
static _Thread_local float *tl_buf;
static _Thread_local size_t tl_cap;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_key_init(void) { pthread_key_create(&scratch_key, free); }

static float *scratch(size_t floats) {
    if (floats > tl_cap) {
        pthread_once(&scratch_once, scratch_key_init);
        free(tl_buf);
        tl_cap = floats;
        tl_buf = aligned_alloc(64, ((floats * sizeof(float)) + 63) / 64 * 64);
        pthread_setspecific(scratch_key, tl_buf);
    }
    return tl_buf;
}

// Typed weights (Linear W [n,k] as BF16/F16/Q8_0/Q4_0): each sliver's rows are widened into
// float32 rows first, then packed exactly as float32 weights would be, so the micro-kernel sees
// the same numbers (BF16/F16: the same bits as a float32 copy of the checkpoint).
static void pack_b_typed(int nr, long nc, long kc, const dk_wmat *w, long j0abs, long p0, float *pb, float *rows) {
    for (long j0 = 0; j0 < nc; j0 += nr, pb += (long)nr * kc) {
        long cols = nc - j0 < nr ? nc - j0 : nr;
        for (long j = 0; j < cols; j++) dk_wmat_row(w, j0abs + j0 + j, p0, kc, rows + j * kc);
        pack_b(nr, cols, kc, rows, kc, 1, pb);
    }
}

static void scale_c(long m, long n, float beta, float *c, long ldc) {
    for (long i = 0; i < m; i++) {
        float *row = c + i * ldc;
        if (beta == 0.0f) memset(row, 0, (size_t)n * sizeof(float));
        else if (beta != 1.0f) for (long j = 0; j < n; j++) row[j] *= beta;
    }
}

// An edge tile from `tmp` into C as DK_STORE would store it (one loop per beta case, so they vectorize).
static void store_edge(long mrr, long nrr, float alpha, const float *tmp, long ldt, float be, float *cp, long ldc) {
    for (long i = 0; i < mrr; i++) {
        const float *t = tmp + i * ldt;
        float *d = cp + i * ldc;
        // alpha·t as its own statement: never contracted into an FMA with the add (DK_STORE's rounding).
        if (be == 0.0f) for (long j = 0; j < nrr; j++) d[j] = alpha * t[j];
        else if (be == 1.0f) for (long j = 0; j < nrr; j++) { float v = alpha * t[j]; d[j] = d[j] + v; }
        else for (long j = 0; j < nrr; j++) { float v = alpha * t[j], w = be * d[j]; d[j] = w + v; }
    }
}

static void sgemm_blocked(const dk_gemm_cfg *cf, int ta, int tb, long m, long n, long k, float alpha,
                          const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc,
                          const dk_wmat *wb) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) { scale_c(m, n, beta, c, ldc); return; }
    const int mr = cf->mr, nr = cf->nr;
    long kcMax = k < cf->kc ? k : cf->kc;
    long mcMax = (m < cf->mc ? m : cf->mc) + mr;
    long ncMax = (n < cf->nc ? n : cf->nc) + nr;
    float *pb = scratch((size_t)(kcMax * (mcMax + ncMax + (wb ? nr : 0))) + 16 * 16);
    float *pa = pb + kcMax * ncMax;
    float *wrows = pa + kcMax * mcMax;  // typed weights: one sliver's rows in float32
    float tmp[16 * 32] __attribute__((aligned(64)));  // edge tiles land here first

    for (long jc = 0; jc < n; jc += cf->nc) {
        long nc = n - jc < cf->nc ? n - jc : cf->nc;
        for (long pc = 0; pc < k; pc += cf->kc) {
            long kc = k - pc < cf->kc ? k - pc : cf->kc;
            float be = pc == 0 ? beta : 1.0f;  // later k-blocks accumulate
            if (wb) pack_b_typed(nr, nc, kc, wb, jc, pc, pb, wrows);
            else pack_b(nr, nc, kc, tb ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, tb, pb);
            for (long ic = 0; ic < m; ic += cf->mc) {
                long mc = m - ic < cf->mc ? m - ic : cf->mc;
                pack_a(mr, mc, kc, ta ? a + pc * lda + ic : a + ic * lda + pc, lda, ta, pa);
                for (long jr = 0; jr < nc; jr += nr) {
                    long nrr = nc - jr < nr ? nc - jr : nr;
                    for (long ir = 0; ir < mc; ir += mr) {
                        long mrr = mc - ir < mr ? mc - ir : mr;
                        float *cp = c + (ic + ir) * ldc + jc + jr;
                        const float *ap = pa + ir * kc, *bp = pb + jr * kc;
                        if (mrr == mr && nrr == nr) {
                            cf->kern(kc, ap, bp, cp, ldc, alpha, be);
                        } else {
                            cf->kern(kc, ap, bp, tmp, nr, 1.0f, 0.0f);
                            store_edge(mrr, nrr, alpha, tmp, nr, be, cp, ldc);
                        }
                    }
                }
            }
        }
    }
}

int dk_sgemm(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
             const float *b, long ldb, float beta, float *c, long ldc) {
    return dk_sgemm_isa(DK_ISA_AVX512, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int dk_sgemm_isa(int isa, int transA, int transB, long m, long n, long k, float alpha, const float *a,
                 long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    dk_gemm_cfg cfg;
    if (!gemm_cfg(isa, &cfg)) return 0;
    sgemm_blocked(&cfg, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL);
    return 1;
}

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
// C[m, n] = alpha·A[m, k]·B[k, n] + beta·C for m ≤ 4 (attention's P·V for a few queries), without
// padding m to the 12-row tile. Same arithmetic as sgemm_blocked with cfg_avx512: per element one
// FMA chain over each KC-long slice of k from zero, then C = alpha·acc (+ beta·C) for the first
// slice and C + alpha·acc for the next, so every element has the bits the packed GEMM gives it.
static inline __attribute__((always_inline)) void few_rows_avx512(const int M, long n, long k, float alpha,
                                                                   const float *a, long lda, const float *b, long ldb,
                                                                   float beta, float *c, long ldc) {
    const long KC = cfg_avx512.kc;
    for (long j0 = 0; j0 < n; j0 += 64) {
        long cols = n - j0 < 64 ? n - j0 : 64;
        __mmask16 mk[4];
        for (int v = 0; v < 4; v++) {
            long left = cols - 16 * v;
            mk[v] = left >= 16 ? (__mmask16)0xFFFF : left > 0 ? (__mmask16)((1u << left) - 1) : 0;
        }
        for (long p0 = 0; p0 < k; p0 += KC) {
            long p1 = k - p0 < KC ? k : p0 + KC;
            float be = p0 == 0 ? beta : 1.0f;
            __m512 acc[4][4];
#pragma clang loop unroll(full)
            for (int i = 0; i < M; i++)
#pragma clang loop unroll(full)
                for (int v = 0; v < 4; v++) acc[i][v] = _mm512_setzero_ps();
            for (long p = p0; p < p1; p++) {
                const float *bp = b + p * ldb + j0;
                __m512 bv[4];
#pragma clang loop unroll(full)
                for (int v = 0; v < 4; v++) bv[v] = _mm512_maskz_loadu_ps(mk[v], bp + 16 * v);
#pragma clang loop unroll(full)
                for (int i = 0; i < M; i++) {
                    __m512 ai = _mm512_set1_ps(a[i * lda + p]);
#pragma clang loop unroll(full)
                    for (int v = 0; v < 4; v++) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
                }
            }
            for (int i = 0; i < M; i++)
                for (int v = 0; v < 4 && mk[v]; v++) {
                    float *cp = c + i * ldc + j0 + 16 * v;
                    __m512 t = _mm512_mul_ps(_mm512_set1_ps(alpha), acc[i][v]);
                    if (be == 1.0f) t = _mm512_add_ps(_mm512_maskz_loadu_ps(mk[v], cp), t);
                    else if (be != 0.0f) t = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(be), _mm512_maskz_loadu_ps(mk[v], cp)), t);
                    _mm512_mask_storeu_ps(cp, mk[v], t);
                }
        }
    }
}

static void sgemm_few_rows_avx512(long m, long n, long k, float alpha, const float *a, long lda,
                                  const float *b, long ldb, float beta, float *c, long ldc) {
    switch (m) {
    case 1: few_rows_avx512(1, n, k, alpha, a, lda, b, ldb, beta, c, ldc); break;
    case 2: few_rows_avx512(2, n, k, alpha, a, lda, b, ldb, beta, c, ldc); break;
    case 3: few_rows_avx512(3, n, k, alpha, a, lda, b, ldb, beta, c, ldc); break;
    default: few_rows_avx512(4, n, k, alpha, a, lda, b, ldb, beta, c, ldc); break;
    }
}
#pragma clang attribute pop
#endif

int dk_sgemm_few_rows(int isa, long m, long n, long k, float alpha, const float *a, long lda, const float *b,
                      long ldb, float beta, float *c, long ldc) {
#if defined(__x86_64__)
    if (isa > dk_isa()) isa = dk_isa();
    if (isa >= DK_ISA_AVX512 && m >= 1 && m <= 4 && k > 0 && alpha != 0.0f) {
        sgemm_few_rows_avx512(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return 1;
    }
#endif
    (void)isa; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b; (void)ldb; (void)beta; (void)c; (void)ldc;
    return 0;
}

int dk_wgemm_isa(int isa, long m, const float *a, long lda, const dk_wmat *w, float *c, long ldc) {
    dk_gemm_cfg cfg;
    if (!gemm_cfg(isa, &cfg)) return 0;
    sgemm_blocked(&cfg, 0, 1, m, w->rows, w->cols, 1.0f, a, lda, NULL, w->cols, 0.0f, c, ldc, w);
    return 1;
}

// Split along N (preferred: each thread streams its own share of the weights) or along M,
// in whole register tiles so no tile straddles two threads.
static void part_range(long total, long unit, int part, int nparts, long *lo, long *hi) {
    long units = (total + unit - 1) / unit;
    long per = units / nparts, extra = units % nparts;
    long u0 = part * per + (part < extra ? part : extra);
    long u1 = u0 + per + (part < extra ? 1 : 0);
    *lo = u0 * unit < total ? u0 * unit : total;
    *hi = u1 * unit < total ? u1 * unit : total;
}

typedef void (*cblas_sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *,
                               int, float, float *, int);

static void run_part(const dk_sgemm_args *g, long m, long n, const float *a, const float *b, float *c) {
    if (g->cblas)  // a single-threaded BLAS call per part: our pool does the threading
        ((cblas_sgemm_fn)g->cblas)(101, g->transA ? 112 : 111, g->transB ? 112 : 111, (int)m, (int)n,
                                   (int)g->k, g->alpha, a, (int)g->lda, b, (int)g->ldb, g->beta, c, (int)g->ldc);
    else
        dk_sgemm_isa(g->isa, g->transA, g->transB, m, n, g->k, g->alpha, a, g->lda, b, g->ldb, g->beta, c, g->ldc);
}

void dk_sgemm_job(void *ctx, int part, int nparts) {
    const dk_sgemm_args *g = ctx;
    long lo, hi;
    if (g->n >= g->m || g->m < 24L * nparts) {
        part_range(g->n, 32, part, nparts, &lo, &hi);
        if (lo >= hi) return;
        const float *b = g->transB ? g->b + lo * g->ldb : g->b + lo;
        run_part(g, g->m, hi - lo, g->a, b, g->c + lo);
    } else {
        // Whole MR-row panels per part, so neither part computes a padded edge it could avoid.
        dk_gemm_cfg cfg;
        long unit = !g->cblas && gemm_cfg(g->isa, &cfg) ? cfg.mr : 8;
        part_range(g->m, unit, part, nparts, &lo, &hi);
        if (lo >= hi) return;
        const float *a = g->transA ? g->a + lo : g->a + lo * g->lda;
        run_part(g, hi - lo, g->n, a, g->b, g->c + lo * g->ldc);
    }
}

// Rows [lo, hi) of a typed matrix as a matrix of its own.
static dk_wmat wmat_rows(const dk_wmat *w, long lo, long hi) {
    dk_wmat s = *w;
    s.values = (const uint8_t *)w->values + lo * dk_wmat_row_bytes(w->type, w->cols);
    if (w->scales) s.scales = w->scales + lo * (w->cols / DK_QBLOCK);
    s.rows = hi - lo;
    return s;
}

void dk_wgemm_job(void *ctx, int part, int nparts) {
    const dk_wgemm_args *g = ctx;
    long lo, hi, n = g->w->rows;
    if (n >= g->m || g->m < 24L * nparts) {  // as dk_sgemm_job
        part_range(n, 32, part, nparts, &lo, &hi);
        if (lo >= hi) return;
        dk_wmat sub = wmat_rows(g->w, lo, hi);
        dk_wgemm_isa(g->isa, g->m, g->a, g->lda, &sub, g->c + lo, g->ldc);
    } else {
        dk_gemm_cfg cfg;
        long unit = gemm_cfg(g->isa, &cfg) ? cfg.mr : 8;
        part_range(g->m, unit, part, nparts, &lo, &hi);
        if (lo >= hi) return;
        dk_wgemm_isa(g->isa, hi - lo, g->a + lo * g->lda, g->lda, g->w, g->c + lo * g->ldc, g->ldc);
    }
}
