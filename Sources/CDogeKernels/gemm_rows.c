// Products of a few rows against Linear weights, C[m, n] = A[m, k] · Wᵀ (a batched decode step:
// one row per sequence). The packed GEMM would re-pack W (read it, write a copy, read the copy)
// and pad m up to its 12-row tile; here each group of four W rows stays in L1 while every row of
// A passes over it, so W streams from memory once per call, unpacked, and each W load feeds
// several FMAs (AVX-512: four W rows × three A rows; AVX2: two × three).
//
// Each (W row, A row) pair keeps the GEMV kernel's own accumulation chains and reductions, and
// rows are grouped in fours from 16-row-aligned starts as dk_sgemv_job / dk_wgemv_job split, so
// every row of C has the bits a single-row call gives it: a sequence decoded in a batch gets
// exactly the logits it gets alone.
#include "CDogeKernels.h"
#include <stdlib.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include "gemv_reductions.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
// Four rows of W against MB rows of A. Per (W row, A row) the GEMV's two chains: even 16-wide
// chunks of k into a, odd ones into b, the last lone chunk and the masked tail into a. Each
// W load feeds MB FMAs, so the loop is FMA-bound instead of load-bound.
static inline __attribute__((always_inline)) void rows4_avx512(const int MB, long k, float alpha, const float *w, long ldw,
                                                               const float *x, long ldx, float beta, float *y, long ldy,
                                                               __mmask16 tm, const float *pf) {
    const float *r0 = w, *r1 = r0 + ldw, *r2 = r1 + ldw, *r3 = r2 + ldw;
    __m512 a[3][4], b[3][4];
#pragma clang loop unroll(full)
    for (int j = 0; j < MB; j++)
#pragma clang loop unroll(full)
        for (int q = 0; q < 4; q++) a[j][q] = b[j][q] = _mm512_setzero_ps();
    long p = 0;
    for (; p + 32 <= k; p += 32) {
        if (pf) {  // the same 32 columns of a later group's rows, into L2 (into L1 they evict A): W
                   // streams from DRAM during the FMAs (LM head at m = 16: 6.4 → 4.1 ms; m = 4: 5.9 → 2.1 ms)
            for (int r = 0; r < 4; r++) {
                _mm_prefetch((const char *)(pf + r * ldw + p), _MM_HINT_T1);
                _mm_prefetch((const char *)(pf + r * ldw + p + 16), _MM_HINT_T1);
            }
        }
        __m512 w0 = _mm512_loadu_ps(r0 + p), w1 = _mm512_loadu_ps(r1 + p), w2 = _mm512_loadu_ps(r2 + p), w3 = _mm512_loadu_ps(r3 + p);
#pragma clang loop unroll(full)
        for (int j = 0; j < MB; j++) {
            __m512 xv = _mm512_loadu_ps(x + j * ldx + p);
            a[j][0] = _mm512_fmadd_ps(w0, xv, a[j][0]); a[j][1] = _mm512_fmadd_ps(w1, xv, a[j][1]);
            a[j][2] = _mm512_fmadd_ps(w2, xv, a[j][2]); a[j][3] = _mm512_fmadd_ps(w3, xv, a[j][3]);
        }
        w0 = _mm512_loadu_ps(r0 + p + 16); w1 = _mm512_loadu_ps(r1 + p + 16);
        w2 = _mm512_loadu_ps(r2 + p + 16); w3 = _mm512_loadu_ps(r3 + p + 16);
#pragma clang loop unroll(full)
        for (int j = 0; j < MB; j++) {
            __m512 xv = _mm512_loadu_ps(x + j * ldx + p + 16);
            b[j][0] = _mm512_fmadd_ps(w0, xv, b[j][0]); b[j][1] = _mm512_fmadd_ps(w1, xv, b[j][1]);
            b[j][2] = _mm512_fmadd_ps(w2, xv, b[j][2]); b[j][3] = _mm512_fmadd_ps(w3, xv, b[j][3]);
        }
    }
    // Chunk p into the a chains, loaded under mask m (0xffff: a whole chunk).
#define DK_ROWS_A_CHUNK(m)                                                                              \
    do {                                                                                                \
        __m512 w0 = _mm512_maskz_loadu_ps(m, r0 + p), w1 = _mm512_maskz_loadu_ps(m, r1 + p);            \
        __m512 w2 = _mm512_maskz_loadu_ps(m, r2 + p), w3 = _mm512_maskz_loadu_ps(m, r3 + p);            \
        _Pragma("clang loop unroll(full)") for (int j = 0; j < MB; j++) {                                \
            __m512 xv = _mm512_maskz_loadu_ps(m, x + j * ldx + p);                                       \
            a[j][0] = _mm512_fmadd_ps(w0, xv, a[j][0]); a[j][1] = _mm512_fmadd_ps(w1, xv, a[j][1]);     \
            a[j][2] = _mm512_fmadd_ps(w2, xv, a[j][2]); a[j][3] = _mm512_fmadd_ps(w3, xv, a[j][3]);     \
        }                                                                                               \
    } while (0)
    if (p + 16 <= k) { DK_ROWS_A_CHUNK((__mmask16)0xffff); p += 16; }
    if (p < k) DK_ROWS_A_CHUNK(tm);
#undef DK_ROWS_A_CHUNK
#pragma clang loop unroll(full)
    for (int j = 0; j < MB; j++) {
        __m512 s0 = _mm512_add_ps(a[j][0], b[j][0]), s1 = _mm512_add_ps(a[j][1], b[j][1]);
        __m512 s2 = _mm512_add_ps(a[j][2], b[j][2]), s3 = _mm512_add_ps(a[j][3], b[j][3]);
        store4(hsum4x8(fold256(s0), fold256(s1), fold256(s2), fold256(s3)), alpha, beta, y + j * ldy);
    }
}

enum { PF_GROUPS = 4 };  // prefetch distance in 4-row groups (2–16 measured alike)
// W rows [0, n) against every row of A. A 4-row group of W stays in L1 while all of A passes.
static void sgemm_rows_avx512(long m, long n, long k, float alpha, const float *a, long lda, const float *w, long ldw,
                              float beta, float *c, long ldc) {
    __mmask16 tm = (__mmask16)((1u << (k & 15)) - 1);
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *wi = w + i * ldw;
        // The first pass over a group prefetches the group PF_GROUPS ahead (NULL past the end).
        const float *pf = i + 4 * (PF_GROUPS + 1) <= n ? w + (i + 4 * PF_GROUPS) * ldw : NULL;
        long j = 0;
        for (; j + 3 <= m; j += 3, pf = NULL) rows4_avx512(3, k, alpha, wi, ldw, a + j * lda, lda, beta, c + j * ldc + i, ldc, tm, pf);
        if (m - j == 2) rows4_avx512(2, k, alpha, wi, ldw, a + j * lda, lda, beta, c + j * ldc + i, ldc, tm, pf);
        else if (m - j == 1) rows4_avx512(1, k, alpha, wi, ldw, a + j * lda, lda, beta, c + j * ldc + i, ldc, tm, pf);
    }
    // The GEMV's lone rows: one chain over every 16-wide chunk, then _mm512_reduce_add_ps.
    for (; i < n; i++) {
        const float *r0 = w + i * ldw;
        for (long j = 0; j < m; j++) {
            const float *x = a + j * lda;
            __m512 a0 = _mm512_setzero_ps();
            long p = 0;
            for (; p + 16 <= k; p += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(r0 + p), _mm512_loadu_ps(x + p), a0);
            if (p < k) a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tm, r0 + p), _mm512_maskz_loadu_ps(tm, x + p), a0);
            float dot = _mm512_reduce_add_ps(a0), *yp = c + j * ldc + i;
            *yp = beta == 0.0f ? alpha * dot : alpha * dot + beta * *yp;
        }
    }
}
#pragma clang attribute pop
#endif

// Rows of W per block: about 16 KB of weights (half of L1), a multiple of 16.
static long block_rows(long row_bytes) {
    long rows = row_bytes > 0 ? (16384 / row_bytes) / 16 * 16 : 16;
    return rows < 16 ? 16 : rows;
}

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
// Two rows of W against MB rows of A with sgemv_avx2's chains (per 16 columns: the first 8 into
// a, the next 8 into b; a lone 8 and the masked tail into a); out[j][r] = a + b. Sixteen ymm
// registers hold 2 × 2 × MB accumulators, so two rows of W (not the GEMV's four) per pass.
static inline __attribute__((always_inline)) void rows2_avx2(const int MB, long k, const float *w, long ldw, const float *x,
                                                             long ldx, __m256i tm, __m256 out[3][2]) {
    const float *r0 = w, *r1 = w + ldw;
    __m256 a[3][2], b[3][2];
#pragma clang loop unroll(full)
    for (int j = 0; j < MB; j++) a[j][0] = a[j][1] = b[j][0] = b[j][1] = _mm256_setzero_ps();
    long p = 0;
    for (; p + 16 <= k; p += 16) {
        __m256 w0 = _mm256_loadu_ps(r0 + p), w1 = _mm256_loadu_ps(r1 + p);
#pragma clang loop unroll(full)
        for (int j = 0; j < MB; j++) {
            __m256 xv = _mm256_loadu_ps(x + j * ldx + p);
            a[j][0] = _mm256_fmadd_ps(w0, xv, a[j][0]); a[j][1] = _mm256_fmadd_ps(w1, xv, a[j][1]);
        }
        w0 = _mm256_loadu_ps(r0 + p + 8); w1 = _mm256_loadu_ps(r1 + p + 8);
#pragma clang loop unroll(full)
        for (int j = 0; j < MB; j++) {
            __m256 xv = _mm256_loadu_ps(x + j * ldx + p + 8);
            b[j][0] = _mm256_fmadd_ps(w0, xv, b[j][0]); b[j][1] = _mm256_fmadd_ps(w1, xv, b[j][1]);
        }
    }
    if (p + 8 <= k) {
        __m256 w0 = _mm256_loadu_ps(r0 + p), w1 = _mm256_loadu_ps(r1 + p);
#pragma clang loop unroll(full)
        for (int j = 0; j < MB; j++) {
            __m256 xv = _mm256_loadu_ps(x + j * ldx + p);
            a[j][0] = _mm256_fmadd_ps(w0, xv, a[j][0]); a[j][1] = _mm256_fmadd_ps(w1, xv, a[j][1]);
        }
        p += 8;
    }
    if (p < k) {
        __m256 w0 = _mm256_maskload_ps(r0 + p, tm), w1 = _mm256_maskload_ps(r1 + p, tm);
#pragma clang loop unroll(full)
        for (int j = 0; j < MB; j++) {
            __m256 xv = _mm256_maskload_ps(x + j * ldx + p, tm);
            a[j][0] = _mm256_fmadd_ps(w0, xv, a[j][0]); a[j][1] = _mm256_fmadd_ps(w1, xv, a[j][1]);
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < MB; j++) { out[j][0] = _mm256_add_ps(a[j][0], b[j][0]); out[j][1] = _mm256_add_ps(a[j][1], b[j][1]); }
}

static inline __attribute__((always_inline)) void rows4_avx2(const int MB, long k, float alpha, const float *w, long ldw,
                                                             const float *x, long ldx, float beta, float *y, long ldy,
                                                             __m256i tm) {
    __m256 lo[3][2], hi[3][2];
    rows2_avx2(MB, k, w, ldw, x, ldx, tm, lo);
    rows2_avx2(MB, k, w + 2 * ldw, ldw, x, ldx, tm, hi);
#pragma clang loop unroll(full)
    for (int j = 0; j < MB; j++) {  // hsum4x8's lanes are per row: the GEMV's 4-row bits
        __m128 r = _mm_mul_ps(_mm_set1_ps(alpha), hsum4x8(lo[j][0], lo[j][1], hi[j][0], hi[j][1]));
        if (beta != 0.0f) r = _mm_add_ps(r, _mm_mul_ps(_mm_set1_ps(beta), _mm_loadu_ps(y + j * ldy)));
        _mm_storeu_ps(y + j * ldy, r);
    }
}

static void sgemm_rows_avx2(long m, long n, long k, float alpha, const float *a, long lda, const float *w, long ldw,
                            float beta, float *c, long ldc) {
    __m256i tm = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(k & 7)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *wi = w + i * ldw;
        long j = 0;
        for (; j + 3 <= m; j += 3) rows4_avx2(3, k, alpha, wi, ldw, a + j * lda, lda, beta, c + j * ldc + i, ldc, tm);
        if (m - j == 2) rows4_avx2(2, k, alpha, wi, ldw, a + j * lda, lda, beta, c + j * ldc + i, ldc, tm);
        else if (m - j == 1) rows4_avx2(1, k, alpha, wi, ldw, a + j * lda, lda, beta, c + j * ldc + i, ldc, tm);
    }
    // The GEMV's lone rows: both chains, then hsum8.
    for (; i < n; i++) {
        const float *r0 = w + i * ldw;
        for (long j = 0; j < m; j++) {
            const float *x = a + j * lda;
            __m256 a0 = _mm256_setzero_ps(), b0 = a0;
            long p = 0;
            for (; p + 16 <= k; p += 16) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p), _mm256_loadu_ps(x + p), a0);
                b0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p + 8), _mm256_loadu_ps(x + p + 8), b0);
            }
            for (; p + 8 <= k; p += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p), _mm256_loadu_ps(x + p), a0);
            if (p < k) a0 = _mm256_fmadd_ps(_mm256_maskload_ps(r0 + p, tm), _mm256_maskload_ps(x + p, tm), a0);
            float dot = hsum8(_mm256_add_ps(a0, b0)), *yp = c + j * ldc + i;
            *yp = beta == 0.0f ? alpha * dot : alpha * dot + beta * *yp;
        }
    }
}
#pragma clang attribute pop
#endif

static int rows_simd_available(int isa) {
    return (isa < dk_isa() ? isa : dk_isa()) >= DK_ISA_AVX2;
}

// The SIMD kernel of the ISA level (capped by the CPU); 0 when there is none.
static int rows_simd(int isa, long m, long n, long k, float alpha, const float *a, long lda, const float *w, long ldw,
                     float beta, float *c, long ldc) {
#if defined(__x86_64__)
    if (isa > dk_isa()) isa = dk_isa();
    if (isa >= DK_ISA_AVX512) { sgemm_rows_avx512(m, n, k, alpha, a, lda, w, ldw, beta, c, ldc); return 1; }
    if (isa >= DK_ISA_AVX2) { sgemm_rows_avx2(m, n, k, alpha, a, lda, w, ldw, beta, c, ldc); return 1; }
#endif
    return 0;
}

// W rows [lo, hi) of the float32 product.
static void sgemm_rows_range(const dk_sgemm_args *g, long lo, long hi) {
    if (rows_simd(g->isa, g->m, hi - lo, g->k, g->alpha, g->a, g->lda, g->b + lo * g->ldb, g->ldb, g->beta, g->c + lo, g->ldc))
        return;
    long nb = block_rows(g->k * (long)sizeof(float));
    for (long i0 = lo; i0 < hi; i0 += nb) {
        long rows = hi - i0 < nb ? hi - i0 : nb;
        for (long j = 0; j < g->m; j++)
            dk_sgemv_isa(g->isa, rows, g->k, g->alpha, g->b + i0 * g->ldb, g->ldb, g->a + j * g->lda, g->beta,
                         g->c + j * g->ldc + i0);
    }
}

// Whole 16-row units of W per part, as dk_sgemv_job.
static int part_rows(long n, int part, int nparts, long *lo, long *hi) {
    long units = (n + 15) / 16;
    long per = units / nparts, extra = units % nparts;
    long u0 = part * per + (part < extra ? part : extra), u1 = u0 + per + (part < extra ? 1 : 0);
    *lo = u0 * 16 < n ? u0 * 16 : n;
    *hi = u1 * 16 < n ? u1 * 16 : n;
    return *lo < *hi;
}

void dk_sgemm_rows_job(void *ctx, int part, int nparts) {
    const dk_sgemm_args *g = ctx;
    long lo, hi;
    if (part_rows(g->n, part, nparts, &lo, &hi)) sgemm_rows_range(g, lo, hi);
}

void dk_wgemm_rows_job(void *ctx, int part, int nparts) {
    const dk_wgemm_rows_args *g = ctx;
    long lo, hi;
    if (!part_rows(g->w->rows, part, nparts, &lo, &hi)) return;
    long k = g->w->cols;
    // 16 rows at a time widened exactly into float32, then the float32 kernel (the 16-bit GEMV
    // gives the bits of the float32 GEMV on the widened matrix, so these are its bits too).
    float *wide = rows_simd_available(g->isa) ? malloc((size_t)(16 * k) * sizeof(float)) : NULL;
    if (wide) {
        for (long i0 = lo; i0 < hi; i0 += 16) {
            long rows = hi - i0 < 16 ? hi - i0 : 16;
            for (long r = 0; r < rows; r++) dk_wmat_row(g->w, i0 + r, 0, k, wide + r * k);
            rows_simd(g->isa, g->m, rows, k, 1.0f, g->a, g->lda, wide, k, 0.0f, g->c + i0, g->ldc);
        }
        free(wide);
        return;
    }
    long nb = block_rows(dk_wmat_row_bytes(g->w->type, k));
    for (long i0 = lo; i0 < hi; i0 += nb) {
        long i1 = hi - i0 < nb ? hi : i0 + nb;
        for (long j = 0; j < g->m; j++) dk_wgemv_isa(g->isa, g->w, i0, i1, g->a + j * g->lda, NULL, g->c + j * g->ldc + i0);
    }
}
