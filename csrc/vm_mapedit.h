/* Editors of a record's whole attribute map (csrc/vm_mapedit.c). */
#ifndef OTTL_VM_MAPEDIT_H
#define OTTL_VM_MAPEDIT_H

#include <stddef.h>
#include <stdint.h>

#include "otlp_batch.h"

/* What to do with each selected record's map. Tables are indexed by batch string id; an id at
 * or past a table's length has no entry. */
typedef enum {
    /* Keep the entries whose key has keep[key] != 0 (keep_keys, keep_matching_keys,
     * delete_matching_keys). */
    OTTL_MAPEDIT_KEEP = 0,
    /* At most `limit` entries: every key with keep[key] != 0 (the priority keys), then the
     * others in map order until the limit (limit). */
    OTTL_MAPEDIT_LIMIT = 1,
    /* A string value v becomes map[v] where map[v] >= 0 (replace_all_patterns "value",
     * replace_all_matches, truncate_all). */
    OTTL_MAPEDIT_VALUES = 2,
    /* A key k becomes map[k] where map[k] >= 0, is dropped where map[k] == -2; when any key
     * changes, the map is rebuilt in order and a key that arrives twice keeps its first
     * position and its last value (replace_all_patterns "key"). */
    OTTL_MAPEDIT_KEYS = 3,
    /* Each selected record's own map from src_tag/src_val (one per record; a kvlist, whose
     * entries are read as the reference's map holds them: each key once, at its first
     * position, with its last value) merged in by `limit` as the strategy: 0 insert (keys
     * not present), 1 update (keys present), 2 upsert (both). An updated key keeps its
     * position; a new one goes at the end. Records whose source is not a kvlist are left
     * alone (merge_maps fails there: the caller judges it). */
    OTTL_MAPEDIT_MERGE = 4,
} ottl_mapedit_kind;

enum { OTTL_MERGE_INSERT = 0, OTTL_MERGE_UPDATE = 1, OTTL_MERGE_UPSERT = 2 };

typedef struct {
    ottl_mapedit_kind kind;
    const uint8_t *keep; /* KEEP, LIMIT */
    const int32_t *map;  /* VALUES, KEYS */
    size_t table_len;
    int64_t limit;       /* LIMIT; MERGE: the strategy */
    const uint8_t *src_tag; /* MERGE: one value per record */
    const int64_t *src_val;
} ottl_mapedit;

/* Applies op to the attribute map (owner: F_SPAN_ATTRS or F_LOG_ATTRS) or the cache
 * (F_SPAN_CACHE, F_LOG_CACHE: never marked dirty) of every record with mask[row] != 0. Each map is first read as the reference's map holds it (each key once, at
 * its first position, with its last value). Records whose attributes change are marked dirty.
 * 0; -1 when out of memory (the batch is then unusable); -2 for a bad owner or kind. */
int ottl_vm_map_edit(ottl_batch *b, int32_t owner, const uint8_t *mask, const ottl_mapedit *op);

#endif /* OTTL_VM_MAPEDIT_H */
