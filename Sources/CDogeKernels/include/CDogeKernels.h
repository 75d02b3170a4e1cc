#ifndef CDOGE_KERNELS_H
#define CDOGE_KERNELS_H
// Hot SIMD kernels in C: per-function target attributes + run-time CPU dispatch, no build flags.
#include <stddef.h>
#include <stdint.h>

/// 1 when the CPU has AVX-512F (+FMA) and the AVX-512 kernels may run.
int dk_has_avx512(void);
/// 1 when the CPU has AVX2 and FMA.
int dk_has_avx2_fma(void);

// ---- instruction-set level used by every kernel below ------------------------------------
enum { DK_ISA_PORTABLE = 0, DK_ISA_AVX2 = 1, DK_ISA_AVX512 = 2 };
/// The level in use: what the CPU supports, capped by `DOGE_ISA` (portable|avx2|avx512) and
/// by dk_set_isa_limit().
int dk_isa(void);
/// Caps the level (tests use it to run the AVX2 kernels on an AVX-512 CPU). Returns the new level.
int dk_set_isa_limit(int limit);
/// Caps the level for the calling thread only (tests of one ISA running beside others).
int dk_set_thread_isa_limit(int limit);
/// "avx512", "avx2" or "portable".
const char *dk_isa_name(int isa);

// ---- thread pool ---------------------------------------------------------------------------
/// A job: run share `part` of `nparts`. Parts are claimed by whichever thread is free (the
/// caller takes part too), so a job must not assume which thread runs which part.
typedef void (*dk_job_fn)(void *ctx, int part, int nparts);
typedef struct dk_pool dk_pool;
/// `nthreads` counts the caller: it starts nthreads-1 workers that spin while work flows and
/// park on a condition variable after `spin_us` idle microseconds.
dk_pool *dk_pool_create(int nthreads, int spin_us);
int dk_pool_size(const dk_pool *pool);
/// Runs fn(ctx, 0..nparts-1) and returns when all parts are done. Re-entrant or concurrent
/// calls (while the pool is busy) run all parts serially on the caller.
void dk_pool_run(dk_pool *pool, dk_job_fn fn, void *ctx, int nparts);
/// Number of parked workers (for tests/diagnostics).
int dk_pool_sleepers(const dk_pool *pool);

// ---- SGEMM ---------------------------------------------------------------------------------
/// 1 when dk_sgemm has a SIMD kernel at level `isa` (else the caller uses its portable fallback).
int dk_sgemm_available(int isa);
/// Row-major C = alpha·op(A)·op(B) + beta·C on one thread. Returns 0 (doing nothing) when no
/// SIMD kernel is available. beta == 0 never reads C.
int dk_sgemm(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
             const float *b, long ldb, float beta, float *c, long ldc);
/// dk_sgemm with the kernel level given (capped by what the CPU has).
int dk_sgemm_isa(int isa, int transA, int transB, long m, long n, long k, float alpha, const float *a,
                 long lda, const float *b, long ldb, float beta, float *c, long ldc);
typedef struct {
    int transA, transB;
    long m, n, k;
    float alpha, beta;
    const float *a, *b;
    float *c;
    long lda, ldb, ldc;
    void *cblas;  ///< optional cblas_sgemm to run each part with instead of dk_sgemm
    int isa;      ///< kernel level for dk_sgemm_isa
} dk_sgemm_args;
/// C[m, n] = alpha·A·B + beta·C (neither transposed) for 1 ≤ m ≤ 4 with the bits dk_sgemm gives,
/// without padding m to a register tile. Returns 0 (nothing done) where it has no kernel.
int dk_sgemm_few_rows(int isa, long m, long n, long k, float alpha, const float *a, long lda, const float *b,
                      long ldb, float beta, float *c, long ldc);
/// Pool job: computes share `part` of a dk_sgemm_args product (split by N, or by M when N is small).
void dk_sgemm_job(void *ctx, int part, int nparts);

// ---- GEMV ----------------------------------------------------------------------------------
/// y[i] = alpha·(W[i,:]·x) + beta·y[i], i < n; W is [n,k] with row stride ldw. beta == 0 never reads y.
void dk_sgemv(long n, long k, float alpha, const float *w, long ldw, const float *x, float beta, float *y);
/// y[j] = alpha·Σ_p x[p]·B[p,j] + beta·y[j], j < n; B is [k,n] with row stride ldb (x·B).
void dk_sgemv_t(long n, long k, float alpha, const float *b, long ldb, const float *x, float beta, float *y);
void dk_sgemv_isa(int isa, long n, long k, float alpha, const float *w, long ldw, const float *x, float beta, float *y);
void dk_sgemv_t_isa(int isa, long n, long k, float alpha, const float *b, long ldb, const float *x, float beta, float *y);
typedef struct {
    int trans;  ///< 0: dk_sgemv (W[n,k]); 1: dk_sgemv_t (B[k,n])
    long n, k, ld;
    float alpha, beta;
    const float *w, *x;
    float *y;
    int isa;
} dk_sgemv_args;
/// Pool job: splits the n outputs.
void dk_sgemv_job(void *ctx, int part, int nparts);

// ---- a few rows against Linear weights (batched decode) ---------------------------------------
/// Pool job: C[m, n] = alpha·A[m, k]·Bᵀ + beta·C of a dk_sgemm_args with B = W [n, k] (transB;
/// transA and cblas ignored), every row of C with the GEMV kernel's arithmetic, so each row has the
/// bits dk_sgemv_job gives it alone, while W streams from memory once per call (gemm_rows.c).
/// Parts take whole 16-row units of W, as dk_sgemv_job.
void dk_sgemm_rows_job(void *ctx, int part, int nparts);

// ---- memory --------------------------------------------------------------------------------
/// Backs the 2 MiB pages spanning [start, start + bytes) with huge pages (Linux MADV_COLLAPSE;
/// values unchanged). Returns how many 2 MiB pages were collapsed; 0 where unsupported.
int dk_prefer_huge_pages(const void *start, size_t bytes);

// ---- element-wise / row-wise ops -------------------------------------------------------------
void dk_rmsnorm(const float *x, const float *w, float eps, long rows, long cols, float *out);
/// In-place softmax of one row. Entries far below the max (masked -3.4e38, -inf) give exactly 0.
void dk_softmax(float *x, long n);
void dk_silu_mul(const float *gate, const float *up, long n, float *out);
void dk_add(const float *x, float *y, long n);                 ///< y += x
/// One AdamW step's constants (torch.optim.AdamW, decoupled weight decay).
typedef struct {
    float decay;         ///< 1 − lr·weight_decay, applied to p first when `decays`
    int decays;
    float b1;            ///< 1 − β1
    float b2;            ///< β2
    float one_minus_b2;  ///< 1 − β2
    float bc2_sqrt;      ///< sqrt(1 − β2^t)
    float eps;
    float step_size;     ///< lr / (1 − β1^t)
} dk_adamw_step;
/// p, m, v updated in place from gradient g: m += b1·(g − m); v = v·β2 + (1−β2)·g²;
/// p += −step·m / (sqrt(v)/bc2 + eps). Same bits on every CPU (no fused multiply-add).
void dk_adamw(float *p, const float *g, float *m, float *v, long n, const dk_adamw_step *s);
void dk_axpy(float alpha, const float *x, float *y, long n);   ///< y += alpha·x
void dk_scale(float alpha, const float *x, float *out, long n); ///< out = alpha·x (out may be x)
void dk_mul(const float *a, const float *b, float *out, long n); ///< out = a ⊙ b
/// out = exp(x); rel. error ≤ ~3e-6; results below FLT_MIN flush to 0.
void dk_exp(const float *x, float *out, long n);
/// out = softplus(x) = log1p(exp(x)), identity for x > 20 (PyTorch threshold).
void dk_softplus(const float *x, float *out, long n);
void dk_bf16_to_f32(const uint16_t *src, float *dst, long n);
void dk_f16_to_f32(const uint16_t *src, float *dst, long n);

// ---- weights stored narrower than float32 (inference) ----------------------------------------
/// Storage of a [rows, cols] weight matrix. Q8_0 / Q4_0: blocks of DK_QBLOCK consecutive values
/// of a row share one F16 scale (llama.cpp's Q8_0 / Q4_0 values): Q8_0 value = q·d with q int8
/// in [−127, 127]; Q4_0 value = (nibble − 8)·d, a block's 16 bytes holding values j (low nibble)
/// and j + 16 (high nibble) of byte j.
enum { DK_W_F32 = 0, DK_W_BF16 = 1, DK_W_F16 = 2, DK_W_Q8_0 = 3, DK_W_Q4_0 = 4 };
#define DK_QBLOCK 32
typedef struct {
    int type;
    long rows, cols;          ///< quantized: cols % DK_QBLOCK == 0
    const void *values;       ///< row-major; dk_wmat_row_bytes(type, cols) bytes per row
    const uint16_t *scales;   ///< quantized: F16 [rows, cols / DK_QBLOCK]; else NULL
} dk_wmat;
long dk_wmat_row_bytes(int type, long cols);
/// Values [c0, c0 + n) of row i as float32 (exact for BF16/F16; q·d for quantized).
void dk_wmat_row(const dk_wmat *w, long i, long c0, long n, float *out);
/// Quantizes float32 rows to DK_W_Q8_0 or DK_W_Q4_0 (cols % DK_QBLOCK == 0).
void dk_quantize_rows(int type, const float *src, long rows, long cols, void *values, uint16_t *scales);
float dk_half_to_float(uint16_t h);
uint16_t dk_float_to_half(float f);   ///< round to nearest even
/// x quantized as Q8_0 blocks with float32 scales (for quantized GEMVs): q [k], d and sum [k/32].
typedef struct { const int8_t *q; const float *d; const int32_t *sum; } dk_xquant;
void dk_quantize_x(const float *x, long k, int8_t *xq, float *xd, int32_t *xsum);
/// The kernel level a typed GEMV runs at (quantized AVX-512 kernels need VNNI; else AVX2).
int dk_wgemv_kernel_level(int isa, int type);
/// y[i − r0] = W[i,:]·x for rows r0 ≤ i < r1. Quantized types read xq (x quantized), others x.
/// BF16/F16 give the bits dk_sgemv_isa gives on the widened matrix.
void dk_wgemv_isa(int isa, const dk_wmat *w, long r0, long r1, const float *x, const dk_xquant *xq, float *y);
typedef struct {
    const dk_wmat *w;
    const float *x;
    dk_xquant xq;
    float *y;
    int isa;
} dk_wgemv_args;
/// Pool job: splits the rows as dk_sgemv_job does.
void dk_wgemv_job(void *ctx, int part, int nparts);
/// C[m, w.rows] = A[m, w.cols] · Wᵀ on one thread, W widened while packed (the float32 micro-kernel
/// runs on the same numbers). Returns 0 when no SIMD kernel is available.
int dk_wgemm_isa(int isa, long m, const float *a, long lda, const dk_wmat *w, float *c, long ldc);
typedef struct {
    long m;
    const float *a;
    long lda;
    const dk_wmat *w;
    float *c;
    long ldc;
    int isa;
} dk_wgemm_args;
/// Pool job: splits as dk_sgemm_job does.
void dk_wgemm_job(void *ctx, int part, int nparts);
/// C[m, w.rows] = A[m, w.cols] · Wᵀ for BF16/F16 W with every row by the 16-bit GEMV kernel (the
/// bits dk_wgemv_job gives each row alone).
typedef struct {
    long m;
    const float *a;
    long lda;
    const dk_wmat *w;
    float *c;
    long ldc;
    int isa;
} dk_wgemm_rows_args;
/// Pool job: whole 16-row units of W per part, as dk_wgemv_job.
void dk_wgemm_rows_job(void *ctx, int part, int nparts);

#endif
