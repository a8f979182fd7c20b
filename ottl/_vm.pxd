# cython: language_level=3
"""C declarations of the VM (csrc/vm.h)."""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

from ottl._batch cimport ottl_batch


cdef extern from "vm.h" nogil:
    ctypedef struct ottl_vm_program:
        size_t ncode
        int signal
        int writes
        int nderived
    int OTTL_VM_NEEDS_REFERENCE
    ctypedef struct ottl_vm_error:
        char message[256]
        int64_t pc
    int ottl_vm_load(const int32_t *code, size_t ncode, const uint8_t *const_tag,
                     const int64_t *const_val, size_t nconsts, const uint8_t *str_bytes,
                     const int64_t *str_off, size_t nstrings, int nregs, int nmasks,
                     ottl_vm_program **out, ottl_vm_error *err)
    void ottl_vm_free(ottl_vm_program *p)
    int ottl_vm_prepare(const ottl_vm_program *p, ottl_batch *b, ottl_vm_error *err)
    int ottl_vm_filter(const ottl_vm_program *p, const ottl_batch *b, uint8_t *out,
                       ottl_vm_error *err)
    int ottl_vm_execute(const ottl_vm_program *p, ottl_batch *b, const uint8_t *gate,
                        uint8_t *out, ottl_vm_error *err)
    const uint8_t *ottl_vm_dirty(const ottl_batch *b)
    int ottl_vm_cache_reset(ottl_batch *b)
    int ottl_vm_set_ids(ottl_batch *b, int32_t field, size_t n, const int64_t *rows,
                        const uint8_t *ids)
    ctypedef struct ottl_vm_derived:
        const uint8_t *tags
        const int64_t *vals
    int ottl_vm_filter_derived(const ottl_vm_program *p, const ottl_batch *b,
                               const ottl_vm_derived *derived, size_t nderived, uint8_t *out,
                               ottl_vm_error *err)
    int ottl_vm_execute_derived(const ottl_vm_program *p, ottl_batch *b, const uint8_t *gate,
                                const ottl_vm_derived *derived, size_t nderived, uint8_t *out,
                                ottl_vm_error *err)
    int ottl_vm_column(const ottl_vm_program *p, ottl_batch *b, int32_t field,
                       const uint8_t *key, size_t key_len, uint8_t missing, uint8_t *tags,
                       int64_t *vals)
    int32_t ottl_vm_intern(ottl_batch *b, const uint8_t *s, size_t len)
    const char *ottl_vm_simd()
    void ottl_vm_force_scalar(int on)


cdef extern from "vm_opcodes.h" nogil:
    enum:
        OP_COUNT
        CMP_COUNT
        MATH_COUNT
        F_COUNT
        F_SPAN_TRACE_ID
        F_SPAN_TRACE_ID_STRING
        F_LOG_TRACE_ID
        F_LOG_TRACE_ID_STRING
    const char *const ottl_op_operands[]
    const char *const ottl_op_names[]
    const int ottl_field_signal[]
    const unsigned char ottl_field_is_int[]


cdef extern from "vm_mapedit.h" nogil:
    ctypedef enum ottl_mapedit_kind:
        OTTL_MAPEDIT_KEEP
        OTTL_MAPEDIT_LIMIT
        OTTL_MAPEDIT_VALUES
        OTTL_MAPEDIT_KEYS
        OTTL_MAPEDIT_MERGE
    enum:
        OTTL_MERGE_INSERT
        OTTL_MERGE_UPDATE
        OTTL_MERGE_UPSERT
    ctypedef struct ottl_mapedit:
        ottl_mapedit_kind kind
        const uint8_t *keep
        const int32_t *map
        size_t table_len
        int64_t limit
        const uint8_t *src_tag
        const int64_t *src_val
    int ottl_vm_map_edit(ottl_batch *b, int32_t owner, const uint8_t *mask,
                         const ottl_mapedit *op)


cdef extern from "vm_parents.h" nogil:
    enum:
        OTTL_PARENT_RESOURCE
        OTTL_PARENT_SCOPE
    int ottl_vm_push_values(ottl_batch *b, size_t n, const int32_t *keys, const uint8_t *tags,
                            const int64_t *vals, int64_t *packed)
    ctypedef struct ottl_parent_row:
        size_t n
        const int32_t *keys
        const uint8_t *tags
        const int64_t *vals
        uint32_t dropped
        int32_t schema_url, name, version
    int ottl_vm_set_parent(ottl_batch *b, int owner, size_t row, const ottl_parent_row *row_with)
    int ottl_vm_set_event(ottl_batch *b, size_t row, const ottl_parent_row *row_with,
                          uint64_t time)
    int ottl_vm_keep_events(ottl_batch *b, const uint8_t *keep)
    int ottl_vm_set_rows(ottl_batch *b, int32_t owner, size_t count, const int64_t *rows,
                         const ottl_parent_row *row_with)
