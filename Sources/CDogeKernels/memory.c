// Huge pages for weights. Decode streams every weight once per token; with 4 KiB pages the
// hardware prefetchers stop at each page and the TLB misses every 4 KiB, which on the reference
// VM held a 2-thread read stream to ~17 GB/s instead of ~23 GB/s with 2 MiB pages.
#include "CDogeKernels.h"
#include <stdint.h>
#if defined(__linux__)
#include <sys/mman.h>
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1; older kernels answer EINVAL and nothing changes
#endif
#endif

int dk_prefer_huge_pages(const void *start, size_t bytes) {
#if defined(__linux__)
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (bytes < huge / 2) return 0;  // too small to be worth a 2 MiB page of its own
    // The whole 2 MiB-aligned span: collapsing keeps every byte's value, neighbours included,
    // so a tensor that straddles a boundary (most do) still gets huge pages under it.
    uintptr_t lo = (uintptr_t)start & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)start + bytes + huge - 1) & ~(huge - 1);
    int collapsed = 0;
    for (uintptr_t p = lo; p < hi; p += huge)
        if (madvise((void *)p, huge, MADV_COLLAPSE) == 0) collapsed++;
    return collapsed;
#else
    (void)start; (void)bytes;
    return 0;
#endif
}
