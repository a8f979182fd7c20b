/* Writing resource, scope and span-event rows of a batch (csrc/vm_parents.c): what
 * resource-, scope- and spanevent-context statements change, one row at a time, and the span
 * events a filter drops. */
#ifndef OTTL_VM_PARENTS_H
#define OTTL_VM_PARENTS_H

#include <stddef.h>
#include <stdint.h>

#include "otlp_batch.h"

enum { OTTL_PARENT_RESOURCE = 0, OTTL_PARENT_SCOPE = 1 };

/* Appends n entries to the batch's value pool as one run (keys NULL for an array's elements)
 * and stores the array or kvlist value that holds them in *packed. 0, or -1 when out of
 * memory. */
int ottl_vm_push_values(ottl_batch *b, size_t n, const int32_t *keys, const uint8_t *tags,
                        const int64_t *vals, int64_t *packed);

/* A resource or scope row's new contents: its attributes (n entries, in order) and scalar
 * fields (string ids; name and version are a scope's only). */
typedef struct {
    size_t n;
    const int32_t *keys;
    const uint8_t *tags;
    const int64_t *vals;
    uint32_t dropped;
    int32_t schema_url, name, version;
} ottl_parent_row;

/* Replaces row `row` of the resources (OTTL_PARENT_RESOURCE) or scopes with `with`; the row
 * is then present on the wire, and the VM's per-batch columns are dropped (they broadcast
 * the old contents). 0; -1 when out of memory (the batch is unchanged); -2 for a bad owner
 * or row. */
int ottl_vm_set_parent(ottl_batch *b, int owner, size_t row, const ottl_parent_row *with);

/* Replaces span event `row` of a span batch: its attributes (with->n entries), name
 * (with->name), dropped attribute count and time; the span holding it is marked dirty, so the
 * encoder writes it from the columns. 0; 1 when the event already holds exactly that (nothing
 * is written or marked: interned strings compare by id, doubles by their bits, but a map or
 * list value stored anew never equals the old one); -1 when out of memory (the event is
 * unchanged); -2 for a batch of logs or a row out of range. */
int ottl_vm_set_event(ottl_batch *b, size_t row, const ottl_parent_row *with, uint64_t time);

/* Removes the span events whose keep[row] is 0 (keep has one entry per event), with their
 * attributes; the spans that lost events are marked dirty. 0; -1 when out of memory (nothing
 * removed); -2 for a batch of logs. */
int ottl_vm_keep_events(ottl_batch *b, const uint8_t *keep);

/* Replaces the rows `rows` (ascending record indexes, count of them) of the map field `owner`
 * (the records' attributes, or their cache) with `with` (their n, keys, tags and vals; the
 * rest unused), in one rebuild of its pool. A row that already holds exactly that is left as
 * it came; the others are marked dirty. 0; -1 when out of memory (the batch is unchanged but
 * for marks, which only cost re-encoding); -2 for a bad owner or rows. */
int ottl_vm_set_rows(ottl_batch *b, int32_t owner, size_t count, const int64_t *rows,
                     const ottl_parent_row *with);

#endif /* OTTL_VM_PARENTS_H */
