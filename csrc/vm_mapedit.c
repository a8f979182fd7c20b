/*
 * Editors that rewrite a record's whole attribute map: keep_keys, keep_matching_keys,
 * delete_matching_keys, limit, replace_all_patterns, replace_all_matches, truncate_all, and
 * merge_maps (whose source map, one per record, arrives as a value column).
 *
 * What an editor decides per key or per string value (a regular expression, a glob, a
 * truncation) is computed once per distinct key or value in Python, by the reference
 * implementation itself, and arrives here as a table indexed by string id; this file applies
 * the tables to every selected record in one rebuild of the owner's pool, as vm_apply_edits
 * does for set and delete_key.
 */
#include "vm_mapedit.h"

#include "vm.h"
#include "vm_write.h"

#include <stdlib.h>
#include <string.h>

static inline int table_has(const ottl_mapedit *op, int64_t id) {
    return id >= 0 && (size_t)id < op->table_len;
}

/* Removes out's entries [first, n) where drop[i - first] is set, keeping the order. */
static void compact(ottl_kvpool *out, size_t first, const uint8_t *drop) {
    size_t w = first;
    for (size_t r = first; r < out->n; r++) {
        if (drop[r - first]) continue;
        out->key[w] = out->key[r];
        out->tag[w] = out->tag[r];
        out->val[w] = out->val[r];
        out->src[w] = out->src[r];
        w++;
    }
    out->n = w;
}

/* merge_maps: the kvlist `packed` (a run of the value pool) merged into out[first, n). */
static int merge_row(const ottl_batch *b, int64_t strategy, int64_t packed, ottl_kvpool *out,
                     size_t first) {
    const ottl_kvpool *v = &b->values;
    size_t s = (size_t)((uint64_t)packed & 0xffffffffu), m = (size_t)((uint64_t)packed >> 32);
    if (ottl_kvpool_reserve(out, m)) return -1;
    for (size_t j = s; j < s + m; j++) {
        int32_t key = v->key[j];
        size_t last = j, i;
        for (i = s; i < j && v->key[i] != key; i++) {}
        if (i < j) continue; /* met at its first position already */
        for (size_t k = j + 1; k < s + m; k++)
            if (v->key[k] == key) last = k;
        uint8_t tag = v->tag[last] == OTTL_V_NONE ? OTTL_V_EMPTY : v->tag[last];
        int64_t val = v->val[last];
        size_t p = first;
        while (p < out->n && out->key[p] != key) p++;
        if (p < out->n) {
            if (strategy == OTTL_MERGE_INSERT) continue;
            if (out->tag[p] != tag || out->val[p] != val) {
                out->tag[p] = tag;
                out->val[p] = val;
                out->src[p] = -1;
            }
        } else if (strategy != OTTL_MERGE_UPDATE) {
            out->key[out->n] = key;
            out->tag[out->n] = tag;
            out->val[out->n] = val;
            out->src[out->n] = -1;
            out->n++;
        }
    }
    return 0;
}

/* Applies op to the deduplicated row out[first, n) of record r. scratch holds at least
 * n - first bytes. */
static int edit_row(const ottl_batch *b, const ottl_mapedit *op, size_t r, ottl_kvpool *out,
                    size_t first, uint8_t *scratch) {
    size_t len = out->n - first;
    switch (op->kind) {
    case OTTL_MAPEDIT_MERGE:
        if (op->src_tag[r] != OTTL_V_KVLIST) return 0;
        return merge_row(b, op->limit, op->src_val[r], out, first);
    case OTTL_MAPEDIT_KEEP:
        for (size_t i = 0; i < len; i++) {
            int32_t key = out->key[first + i];
            scratch[i] = !(table_has(op, key) && op->keep[key]);
        }
        compact(out, first, scratch);
        return 0;
    case OTTL_MAPEDIT_LIMIT: {
        if ((int64_t)len <= op->limit) return 0;
        int64_t count = 0;
        for (size_t i = 0; i < len; i++) {
            int32_t key = out->key[first + i];
            count += table_has(op, key) && op->keep[key];
        }
        for (size_t i = 0; i < len; i++) {
            int32_t key = out->key[first + i];
            if (table_has(op, key) && op->keep[key]) {
                scratch[i] = 0;
            } else if (count < op->limit) {
                count++;
                scratch[i] = 0;
            } else {
                scratch[i] = 1;
            }
        }
        compact(out, first, scratch);
        return 0;
    }
    case OTTL_MAPEDIT_VALUES:
        for (size_t i = first; i < out->n; i++)
            if (out->tag[i] == OTTL_V_STRING && table_has(op, out->val[i]) &&
                op->map[out->val[i]] >= 0 && op->map[out->val[i]] != out->val[i]) {
                out->val[i] = op->map[out->val[i]];
                out->src[i] = -1;
            }
        return 0;
    case OTTL_MAPEDIT_KEYS: {
        int any = 0;
        for (size_t i = first; i < out->n && !any; i++)
            any = table_has(op, out->key[i]) && op->map[out->key[i]] != -1;
        if (!any) return 0;
        /* Rebuild in place: entry i moves to its new key, which either is new (appended at
         * the write position) or was written already (its value replaced). */
        size_t w = first;
        for (size_t i = first; i < out->n; i++) {
            int32_t key = out->key[i];
            if (table_has(op, key) && op->map[key] != -1) {
                if (op->map[key] == -2) continue; /* the replacement function failed */
                key = op->map[key];
            }
            size_t k = first;
            while (k < w && out->key[k] != key) k++;
            /* Moved down unchanged, its bytes still hold; renamed or merged, they do not. */
            out->src[k] = k == w && key == out->key[i] ? out->src[i] : -1;
            out->key[k] = key;
            out->tag[k] = out->tag[i];
            out->val[k] = out->val[i];
            if (k == w) w++;
        }
        out->n = w;
        return 0;
    }
    }
    return -2;
}

int ottl_vm_map_edit(ottl_batch *b, int32_t owner, const uint8_t *mask, const ottl_mapedit *op) {
    if (op->kind < OTTL_MAPEDIT_KEEP || op->kind > OTTL_MAPEDIT_MERGE) return -2;
    if (op->kind == OTTL_MAPEDIT_MERGE &&
        (!op->src_tag || !op->src_val || op->limit < OTTL_MERGE_INSERT ||
         op->limit > OTTL_MERGE_UPSERT))
        return -2;
    size_t n;
    ottl_kvpool *pool;
    int64_t *off;
    int records;
    int found = vm_owner_pool(b, owner, &pool, &off, &n, &records);
    if (found) return found;
    size_t widest = 0;
    for (size_t r = 0; r < n; r++)
        if ((size_t)(off[r + 1] - off[r]) > widest) widest = (size_t)(off[r + 1] - off[r]);
    uint8_t *scratch = malloc(widest ? widest : 1);
    ottl_kvpool out = {0};
    int rc = -1;
    if (!scratch || ottl_kvpool_reserve(&out, pool->n)) goto done;
    for (size_t r = 0; r < n; r++) {
        int64_t lo = off[r], hi = off[r + 1];
        size_t first = out.n;
        off[r] = (int64_t)first;
        if (!mask[r]) {
            if (ottl_kvpool_append(&out, pool, lo, hi)) goto done;
            continue;
        }
        if (vm_dedup_row(pool, lo, hi, &out)) goto done;
        int e = edit_row(b, op, r, &out, first, scratch);
        if (e) {
            rc = e;
            goto done;
        }
        if (records && !vm_same_row(pool, lo, hi, &out, first) &&
            vm_mark_dirty(b, r, OTTL_DIRTY_ATTRS))
            goto done;
    }
    off[n] = (int64_t)out.n;
    vm_replace_pool(pool, &out);
    ottl_batch_drop_derived(b);
    rc = 0;
done:
    /* On failure the offsets may be half rewritten: the caller reports the batch as lost. */
    ottl_kvpool_release(&out);
    free(scratch);
    return rc;
}
