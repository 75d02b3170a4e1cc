#ifndef CDOGE_KERNELS_H
#define CDOGE_KERNELS_H

/// 1 when the CPU has AVX-512F (+FMA) and the AVX-512 kernels may run.
int dk_has_avx512(void);
/// 1 when the CPU has AVX2 and FMA.
int dk_has_avx2_fma(void);

#endif
