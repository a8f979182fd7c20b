/*
 * Runtime choice of the VM's block kernels (DESIGN.md decision 6): the same loops built scalar
 * (no vectorization, any CPU) and, on x86-64 with GCC or Clang, for AVX2, picked by
 * __builtin_cpu_supports. No -march=native anywhere, so a wheel runs on any x86-64 CPU.
 * OTTL_SIMD=scalar in the environment forces the scalar kernels (tests run both).
 */
#include "vm_kernels.h"

#include <stdlib.h>
#include <string.h>

#include "otlp_batch.h"
#include "vm_opcodes.h"

/* The scalar path: the same loops, kept scalar so it is a true baseline for any CPU. */
#if defined(__GNUC__) && !defined(__clang__)
#define K_ATTR __attribute__((optimize("no-tree-vectorize")))
#else
#define K_ATTR
#endif
#define K(name) name##_scalar
#include "vm_kernels_impl.h"
#undef K
#undef K_ATTR

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define OTTL_HAVE_AVX2_KERNELS 1
#define K_ATTR __attribute__((target("avx2")))
#define K(name) name##_avx2
#include "vm_kernels_impl.h"
#undef K
#undef K_ATTR
#endif

#define TABLE(suffix)                                                                      \
    {#suffix, cmp_i32_##suffix, cmp_u32_##suffix, cmp_i64_##suffix,                       \
     cmp_tagged_int_##suffix, cmp_tagged_i32_##suffix, eq_tagged_id_##suffix, mask_and_##suffix, mask_or_##suffix, \
     mask_not_##suffix, mask_count_##suffix}

static const ottl_vm_kernels scalar = TABLE(scalar);
#ifdef OTTL_HAVE_AVX2_KERNELS
static const ottl_vm_kernels avx2 = TABLE(avx2);
#endif

/* 0: not decided yet; set once (a benign race: every thread decides the same). */
static const ottl_vm_kernels *volatile chosen = NULL;
static int forced_scalar = 0;

static const ottl_vm_kernels *decide(void) {
    const char *env = getenv("OTTL_SIMD");
    if (forced_scalar || (env && (!strcmp(env, "scalar") || !strcmp(env, "off"))))
        return &scalar;
#ifdef OTTL_HAVE_AVX2_KERNELS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return &avx2;
#endif
    return &scalar;
}

const ottl_vm_kernels *ottl_vm_kernels_get(void) {
    const ottl_vm_kernels *k = chosen;
    if (!k) chosen = k = decide();
    return k;
}

void ottl_vm_force_scalar(int on) {
    forced_scalar = on;
    chosen = NULL;
}

const char *ottl_vm_simd(void) { return ottl_vm_kernels_get()->name; }
