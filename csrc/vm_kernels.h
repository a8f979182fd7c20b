/* The VM's block kernels behind one table of function pointers, chosen once by CPU (AVX2 or
 * scalar); vm_kernels_impl.h has the loops. */
#ifndef OTTL_VM_KERNELS_H
#define OTTL_VM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;
    void (*cmp_i32)(const int32_t *col, size_t n, int op, int32_t c, uint8_t *out);
    void (*cmp_u32)(const uint32_t *col, size_t n, int op, uint32_t c, uint8_t *out);
    void (*cmp_i64)(const uint64_t *col, size_t n, int op, int64_t c, uint8_t *out);
    void (*cmp_tagged_int)(const uint8_t *tags, const int64_t *vals, size_t n, int op, int64_t c,
                           uint8_t *out);
    void (*cmp_tagged_i32)(const uint8_t *tags, const int32_t *vals, size_t n, int op, int32_t c,
                           uint8_t *out);
    void (*eq_tagged_id)(const uint8_t *tags, const int64_t *vals, size_t n, uint8_t tag,
                         int64_t id, uint8_t *out);
    void (*mask_and)(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n);
    void (*mask_or)(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n);
    void (*mask_not)(uint8_t *dst, const uint8_t *a, size_t n);
    size_t (*mask_count)(const uint8_t *a, size_t n);
} ottl_vm_kernels;

/* The kernels in use (decided on first call: the environment, then the CPU). */
const ottl_vm_kernels *ottl_vm_kernels_get(void);

#endif /* OTTL_VM_KERNELS_H */
