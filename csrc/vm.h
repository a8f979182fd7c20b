/*
 * The OTTL virtual machine: bytecode compiled by ottl/compiler (opcodes in vm_opcodes.h, made
 * from ottl/compiler/opcodes.py) run over a columnar batch a block of rows at a time
 * (docs/engine.md). A program is verified once when it is loaded, so the interpreter trusts
 * every index it reads. Loading and running need no Python: both are safe without the GIL.
 */
#ifndef OTTL_VM_H
#define OTTL_VM_H

#include <stddef.h>
#include <stdint.h>

#include "otlp_batch.h"
#include "ottl_limits.h"
#include "vm_opcodes.h"

typedef struct {
    int32_t *code;
    size_t ncode;
    /* The constant pool: a value tag (OTTL_V_*) and its payload; STRING and BYTES payloads
     * index the program's string table. */
    uint8_t *const_tag;
    int64_t *const_val;
    size_t nconsts;
    /* The program's string table (deduplicated by the compiler): string i is
     * str_bytes[str_off[i]:str_off[i+1]]. */
    uint8_t *str_bytes;
    int64_t *str_off;
    size_t nstrings;
    int nregs, nmasks;
    /* What the loader learned while verifying: the attribute loads (owner field, key string)
     * each LOAD_ATTR names, gathered once per batch, and the parent fields broadcast once. */
    int32_t *attr_field, *attr_key;
    size_t nattr;
    int32_t *load_slot; /* per pc of a LOAD_ATTR: its index in attr_*; else -1 */
    int signal;         /* OTTL_BATCH_* that every field needs, or 0 */
    int writes;         /* the program writes the batch (a statement) */
    int nderived;       /* derived-column slots it reads: each run must bring that many */
} ottl_vm_program;

typedef struct {
    char message[256];
    int64_t pc; /* the instruction at fault, or -1; OTTL_VM_NEEDS_REFERENCE: see below */
} ottl_vm_error;

/* err->pc of a prepare (and the return of ottl_vm_column) refusing a batch the VM does not read
 * natively but the reference evaluator judges (an id of irregular length, which the reference
 * refuses to build a record from): the caller hands the batch to the reference. */
#define OTTL_VM_NEEDS_REFERENCE (-2)

/* Copies and verifies a program; 0 with *out set, or -1 with err filled. */
int ottl_vm_load(const int32_t *code, size_t ncode, const uint8_t *const_tag,
                 const int64_t *const_val, size_t nconsts, const uint8_t *str_bytes,
                 const int64_t *str_off, size_t nstrings, int nregs, int nmasks,
                 ottl_vm_program **out, ottl_vm_error *err);
void ottl_vm_free(ottl_vm_program *p);

/* Gathers what the program reads that the batch does not hold as columns (attributes by key,
 * parents' fields broadcast to records, ids and their hex, kind names: these last interned into
 * the string table) into the batch's derived-column cache, once per batch and key. Writes the
 * batch: call it with the batch to yourself (under the GIL), before ottl_vm_filter. 0, or -1
 * with err filled (err->pc OTTL_VM_NEEDS_REFERENCE: see below). */
int ottl_vm_prepare(const ottl_vm_program *p, ottl_batch *b, ottl_vm_error *err);

/* Runs a condition program over every record of a prepared batch: out[i] = 1 where it holds.
 * Only reads the batch. 0, or -1 with err filled (out of memory, wrong signal). */
int ottl_vm_filter(const ottl_vm_program *p, const ottl_batch *b, uint8_t *out,
                   ottl_vm_error *err);

/* A column the caller computed for this batch (a converter's results), one value per record. */
typedef struct {
    const uint8_t *tags;
    const int64_t *vals;
} ottl_vm_derived;

/* ottl_vm_filter / ottl_vm_execute for programs that read derived columns: `derived` holds
 * the program's nderived columns (string and bytes payloads are ids of this batch). */
int ottl_vm_filter_derived(const ottl_vm_program *p, const ottl_batch *b,
                           const ottl_vm_derived *derived, size_t nderived, uint8_t *out,
                           ottl_vm_error *err);
int ottl_vm_execute_derived(const ottl_vm_program *p, ottl_batch *b, const uint8_t *gate,
                            const ottl_vm_derived *derived, size_t nderived, uint8_t *out,
                            ottl_vm_error *err);
/* One field's or attribute's values over the batch, as the VM reads them (attribute: `key`
 * bytes of a F_*_ATTRS owner; field: key NULL), into tags/vals of one entry per record; a
 * record without the key gets the tag `missing` (OTTL_V_NONE as the VM reads it, or
 * OTTL_V_ABSENT to tell it from a key without a value). 0, -1 (out of memory, or not a
 * loadable field), or OTTL_VM_NEEDS_REFERENCE. Reading ids or kind names interns them: the
 * batch's string table may move. */
int ottl_vm_column(const ottl_vm_program *p, ottl_batch *b, int32_t field, const uint8_t *key,
                   size_t key_len, uint8_t missing, uint8_t *tags, int64_t *vals);
/* Interns bytes into the batch's string table: the id, or -1 when out of memory. */
int32_t ottl_vm_intern(ottl_batch *b, const uint8_t *s, size_t len);

/* Runs a statement program over a prepared batch, writing it: gate (one byte per record, or
 * NULL for all) limits the records it may touch; out[i] = 1 where the statement ran (its
 * `where` held). Drops the batch's derived columns when attributes changed. 0, or -1 with err
 * filled; after a failure to allocate while rebuilding attributes the batch is unusable. */
int ottl_vm_execute(const ottl_vm_program *p, ottl_batch *b, const uint8_t *gate, uint8_t *out,
                    ottl_vm_error *err);

/* The batch's per-record "changed by a statement" flags, or NULL when none changed. */
const uint8_t *ottl_vm_dirty(const ottl_batch *b);
/* Empties every record's `cache` map (a transform group starts with it empty). 0. */
int ottl_vm_cache_reset(ottl_batch *b);
/* Sets an id of records rows[0..n) (ascending): `field` is F_SPAN_TRACE_ID, F_SPAN_SPAN_ID,
 * F_SPAN_PARENT_SPAN_ID, F_LOG_TRACE_ID or F_LOG_SPAN_ID (or its .string field), ids holds n
 * ids of the field's width (16 or 8 bytes) back to back. An all-zero id clears the field (the
 * reference's empty id, which OTLP leaves out). A record whose id changed is marked dirty, and
 * the batch's derived columns are dropped. 0; -1 when out of memory (marks only, which cost
 * re-encoding); -2 for another field or a row out of range or order. */
int ottl_vm_set_ids(ottl_batch *b, int32_t field, size_t n, const int64_t *rows,
                    const uint8_t *ids);

/* Which kernels run: "avx2" or "scalar" (OTTL_SIMD=scalar in the environment forces the
 * scalar ones; see vm_kernels.c). */
const char *ottl_vm_simd(void);
/* Forces the scalar kernels (1) or picks by CPU again (0). For tests and benchmarks. */
void ottl_vm_force_scalar(int on);

#endif /* OTTL_VM_H */
