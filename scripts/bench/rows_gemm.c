// Kernel micro-benchmark for batched decode: C[m, n] = A[m, k] · Wᵀ on one thread, three ways —
// 0: the packed GEMM (dk_sgemm_isa), 1: the few-row kernel (dk_sgemm_rows_job, what products of
// up to 32 rows run), 2: one GEMV per row (dk_sgemv_isa). Best of 20 calls, thread CPU time.
//
//   S=Sources/CDogeKernels; clang -O2 -I$S/include scripts/bench/rows_gemm.c $S/*.c -o /tmp/rows_gemm -lpthread -lm
//   /tmp/rows_gemm 16 32768 256 1      # m n k mode [isa: 2 avx512 (default), 1 avx2]
#include "CDogeKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: rows_gemm m n k mode(0 packed, 1 rows, 2 gemv per row) [isa]\n"); return 64; }
    long m = atol(argv[1]), n = atol(argv[2]), k = atol(argv[3]);
    int mode = atoi(argv[4]), isa = argc > 5 ? atoi(argv[5]) : DK_ISA_AVX512;
    float *a = malloc(m * k * sizeof(float)), *w = malloc(n * k * sizeof(float)), *c = malloc(m * n * sizeof(float));
    for (long i = 0; i < m * k; i++) a[i] = (rand() % 100) / 100.0f;
    for (long i = 0; i < n * k; i++) w[i] = (rand() % 100) / 100.0f;
    dk_sgemm_args g = {0, 1, m, n, k, 1, 0, a, w, c, k, k, n, NULL, isa};
    double best = 1e9;
    for (int r = 0; r < 20; r++) {
        double t = now();
        if (mode == 0) dk_sgemm_isa(isa, 0, 1, m, n, k, 1, a, k, w, k, 0, c, n);
        else if (mode == 1) dk_sgemm_rows_job(&g, 0, 1);
        else for (long j = 0; j < m; j++) dk_sgemv_isa(isa, n, k, 1, w, k, a + j * k, 0, c + j * n);
        t = now() - t;
        if (t < best) best = t;
    }
    printf("mode %d m=%ld n=%ld k=%ld: %.3f ms, %.1f GFLOP/s\n", mode, m, n, k, best * 1e3, 2.0 * m * n * k / best / 1e9);
    return 0;
}
