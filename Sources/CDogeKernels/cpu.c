#include "CDogeKernels.h"
#include <stdlib.h>
#include <string.h>

int dk_has_avx512(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int dk_has_avx2_fma(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
#else
    return 0;
#endif
}

static int isa_detected = -1;  // benign race: every thread computes the same value
static int isa_limit = DK_ISA_AVX512;
static _Thread_local int thread_limit = DK_ISA_AVX512;

static int detect(void) {
    int isa = dk_has_avx512() ? DK_ISA_AVX512 : dk_has_avx2_fma() ? DK_ISA_AVX2 : DK_ISA_PORTABLE;
    const char *env = getenv("DOGE_ISA");
    if (env) {
        int cap = !strcmp(env, "portable") ? DK_ISA_PORTABLE : !strcmp(env, "avx2") ? DK_ISA_AVX2 : DK_ISA_AVX512;
        if (cap < isa) isa = cap;
    }
    return isa;
}

int dk_isa(void) {
    if (isa_detected < 0) isa_detected = detect();
    int isa = isa_detected < isa_limit ? isa_detected : isa_limit;
    return isa < thread_limit ? isa : thread_limit;
}

int dk_set_thread_isa_limit(int limit) {
    thread_limit = limit;
    return dk_isa();
}

int dk_set_isa_limit(int limit) {
    isa_limit = limit;
    return dk_isa();
}

const char *dk_isa_name(int isa) {
    return isa >= DK_ISA_AVX512 ? "avx512" : isa >= DK_ISA_AVX2 ? "avx2" : "portable";
}
