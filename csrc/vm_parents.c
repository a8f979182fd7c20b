/*
 * Resource and scope rows rewritten whole (csrc/vm_parents.h).
 *
 * A batch holds few of them (one per ResourceSpans / ScopeSpans), and resource- and
 * scope-context statements change one at a time through the reference implementation, so a
 * change moves the tail of the owner's attribute pool by the difference in entries rather
 * than rebuilding it. New entries have no input bytes behind them (src -1): the encoders
 * write them from the columns and keep copying every other row's entries.
 */
#include "vm_parents.h"

#include <string.h>

int ottl_vm_push_values(ottl_batch *b, size_t n, const int32_t *keys, const uint8_t *tags,
                        const int64_t *vals, int64_t *packed) {
    ottl_kvpool *p = &b->values;
    if (n > UINT32_MAX || p->n > UINT32_MAX) return -1;
    if (ottl_kvpool_reserve(p, n)) return -1;
    size_t start = p->n;
    for (size_t i = 0; i < n; i++) {
        p->key[start + i] = keys ? keys[i] : -1;
        p->tag[start + i] = tags[i];
        p->val[start + i] = vals[i];
        p->src[start + i] = -1;
    }
    p->n += n;
    *packed = (int64_t)((uint64_t)start | ((uint64_t)n << 32));
    return 0;
}

/* Entries [off[row], off[row+1]) of pool become the n given ones; the offsets of later rows
 * move by the difference. */
static int replace_row(ottl_kvpool *pool, int64_t *off, size_t rows, size_t row,
                       const ottl_parent_row *with) {
    size_t lo = (size_t)off[row], hi = (size_t)off[row + 1], n = with->n;
    if (n > hi - lo && ottl_kvpool_reserve(pool, n - (hi - lo))) return -1;
    size_t tail = pool->n - hi;
    if (tail && n != hi - lo) {
        memmove(pool->key + lo + n, pool->key + hi, tail * sizeof *pool->key);
        memmove(pool->tag + lo + n, pool->tag + hi, tail * sizeof *pool->tag);
        memmove(pool->val + lo + n, pool->val + hi, tail * sizeof *pool->val);
        memmove(pool->src + lo + n, pool->src + hi, tail * sizeof *pool->src);
    }
    if (n) {
        memcpy(pool->key + lo, with->keys, n * sizeof *pool->key);
        memcpy(pool->tag + lo, with->tags, n * sizeof *pool->tag);
        memcpy(pool->val + lo, with->vals, n * sizeof *pool->val);
        for (size_t i = 0; i < n; i++) pool->src[lo + i] = -1;
    }
    pool->n = lo + n + tail;
    int64_t delta = (int64_t)n - (int64_t)(hi - lo);
    for (size_t r = row + 1; r <= rows; r++) off[r] += delta;
    return 0;
}

int ottl_vm_set_parent(ottl_batch *b, int owner, size_t row, const ottl_parent_row *with) {
    if (owner == OTTL_PARENT_RESOURCE) {
        ottl_resources *R = &b->resources;
        if (row >= R->n) return -2;
        if (replace_row(&b->resource_attrs, R->attr_off, R->n, row, with)) return -1;
        R->dropped[row] = with->dropped;
        R->schema_url[row] = with->schema_url;
        R->present[row] = 1;
    } else if (owner == OTTL_PARENT_SCOPE) {
        ottl_scopes *S = &b->scopes;
        if (row >= S->n) return -2;
        if (replace_row(&b->scope_attrs, S->attr_off, S->n, row, with)) return -1;
        S->dropped[row] = with->dropped;
        S->schema_url[row] = with->schema_url;
        S->name[row] = with->name;
        S->version[row] = with->version;
        S->present[row] = 1;
    } else {
        return -2;
    }
    ottl_batch_drop_derived(b);
    return 0;
}
