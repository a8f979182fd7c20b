/* Writing statements' results into a batch (csrc/vm_write.c). */
#ifndef OTTL_VM_WRITE_H
#define OTTL_VM_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "otlp_batch.h"
#include "vm_opcodes.h"

enum { VM_EDIT_SET = 0, VM_EDIT_DELETE = 1 };

typedef struct {
    int32_t row, key; /* key: a batch string id */
    uint8_t op, tag;
    int64_t val;
} vm_edit;

typedef struct {
    vm_edit *items;
    size_t n, cap;
    int32_t owner; /* the map field the edits write (one per program) */
} vm_edits;

/* A record id's column (raw or `.string` field): `width` bytes per row, and the present bits
 * that say it is set (`bit`) or of irregular length, kept aside by the decoder (`irr`);
 * `owner` and `name` word messages ("span", "trace_id"). */
typedef struct {
    uint8_t *ids, *present;
    size_t width;
    uint8_t bit, irr;
    const char *owner, *name;
} vm_id_column;

/* The id column of an id field of b; -2 when field is none (or not of b's signal). */
int vm_id_column_of(ottl_batch *b, int32_t field, vm_id_column *out);

/* Marks what changed in a record (OTTL_DIRTY_* bits): the encoder then re-encodes that from
 * the columns. */
int vm_mark_dirty(ottl_batch *b, size_t row, uint8_t what);
/* Writes a scalar field of one record by the reference setter's rules; 0, or -1 (memory). */
int vm_set_field(ottl_batch *b, int32_t f, size_t row, uint8_t tag, int64_t val);
int vm_log_edit(vm_edits *e, int32_t row, int32_t key, uint8_t op, uint8_t tag, int64_t val);
/* The row [lo, hi) of pool as the reference evaluator's map holds it, appended to out: each
 * key once, at its first position, with its last value. 0, or -1 when out of memory. */
int vm_dedup_row(const ottl_kvpool *pool, int64_t lo, int64_t hi, ottl_kvpool *out);
/* Whether out[first, n) holds exactly the entries [lo, hi) of pool (keys, tags, values). */
int vm_same_row(const ottl_kvpool *pool, int64_t lo, int64_t hi, const ottl_kvpool *out,
                size_t first);
/* The pool, CSR offsets and row count of a map field the statements write: the records'
 * attributes (*records = 1: their changes are output) or cache (0; its offsets are made on
 * first use). 0; -1 when out of memory; -2 when owner is neither for this batch. */
int vm_owner_pool(ottl_batch *b, int32_t owner, ottl_kvpool **pool, int64_t **off, size_t *n,
                  int *records);
/* The rebuilt pool `*out` takes the place of `*pool`, keeping its `unique` flag (rows
 * rebuilt from edits or maps hold each key once, the others are as they were); *out is left
 * empty. */
void vm_replace_pool(ottl_kvpool *pool, ottl_kvpool *out);
/* Rebuilds the pool of owner (vm_owner_pool) with the logged edits applied, and empties the
 * log. 0, or -1 when out of memory (the batch is then unusable). */
int vm_apply_edits(ottl_batch *b, int32_t owner, vm_edits *e);

#endif /* OTTL_VM_WRITE_H */
