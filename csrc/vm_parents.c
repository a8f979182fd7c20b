/*
 * Resource, scope, span-event and record attribute rows rewritten whole (csrc/vm_parents.h).
 *
 * A batch holds few parents (one per ResourceSpans / ScopeSpans; events on some spans), and
 * the statements of those contexts change one at a time through the reference
 * implementation, so a change moves the tail of the owner's attribute pool by the difference
 * in entries rather than rebuilding it. Records' rows come many at a time (an editor of whole
 * maps run by the reference), so they are written in one rebuild of the pool. New entries
 * have no input bytes behind them (src -1): the encoders write them from the columns and keep
 * copying every other row's entries.
 */
#include "vm_parents.h"

#include "vm_write.h"

#include <stdlib.h>
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

/* The span holding event `row`: spans' event offsets ascend from 0. */
static size_t event_span(const ottl_spans *S, size_t row) {
    size_t lo = 0, hi = S->n; /* event_off[lo] <= row < event_off[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if ((size_t)S->event_off[mid] <= row) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* Whether entries [lo, hi) of pool are exactly the row's (keys, tags, values). A KeyValue
 * without a value (OTTL_V_NONE) counts as one with an empty value: OTLP reads both as empty,
 * and the reference's map, which the row comes from, cannot tell them apart. */
static int same_entries(const ottl_kvpool *pool, int64_t lo, int64_t hi,
                        const ottl_parent_row *with) {
    if ((size_t)(hi - lo) != with->n) return 0;
    for (size_t i = 0; i < with->n; i++) {
        int64_t j = lo + (int64_t)i;
        uint8_t tag = pool->tag[j] == OTTL_V_NONE ? OTTL_V_EMPTY : pool->tag[j];
        if (pool->key[j] != with->keys[i] || tag != with->tags[i] || pool->val[j] != with->vals[i])
            return 0;
    }
    return 1;
}

int ottl_vm_set_event(ottl_batch *b, size_t row, const ottl_parent_row *with, uint64_t time) {
    if (b->kind != OTTL_BATCH_SPANS) return -2;
    ottl_events *E = &b->events;
    if (row >= E->n) return -2;
    if (E->name[row] == with->name && E->dropped[row] == with->dropped &&
        E->time[row] == time &&
        same_entries(&b->event_attrs, E->attr_off[row], E->attr_off[row + 1], with))
        return 1;
    /* Marked first: a failure after it leaves a span marked but unchanged, which only costs
     * its re-encoding. */
    if (vm_mark_dirty(b, event_span(&b->spans, row), OTTL_DIRTY_FIELDS)) return -1;
    if (replace_row(&b->event_attrs, E->attr_off, E->n, row, with)) return -1;
    E->name[row] = with->name;
    E->dropped[row] = with->dropped;
    E->time[row] = time;
    return 0;
}

int ottl_vm_keep_events(ottl_batch *b, const uint8_t *keep) {
    if (b->kind != OTTL_BATCH_SPANS) return -2;
    ottl_spans *S = &b->spans;
    ottl_events *E = &b->events;
    ottl_kvpool *P = &b->event_attrs;
    for (size_t s = 0; s < S->n; s++)
        for (int64_t e = S->event_off[s]; e < S->event_off[s + 1]; e++)
            if (!keep[e]) {
                if (vm_mark_dirty(b, s, OTTL_DIRTY_FIELDS)) return -1;
                break;
            }
    /* Compacted in place, front to back: each row's bounds are read before a write can
     * reach them (every write lands at or before the row being read). */
    size_t w = 0, wa = 0;
    for (size_t s = 0; s < S->n; s++) {
        int64_t lo = S->event_off[s], hi = S->event_off[s + 1];
        S->event_off[s] = (int64_t)w;
        for (int64_t e = lo; e < hi; e++) {
            size_t alo = (size_t)E->attr_off[e], ahi = (size_t)E->attr_off[e + 1];
            if (!keep[e]) continue;
            size_t n = ahi - alo;
            if (n && wa != alo) {
                memmove(P->key + wa, P->key + alo, n * sizeof *P->key);
                memmove(P->tag + wa, P->tag + alo, n * sizeof *P->tag);
                memmove(P->val + wa, P->val + alo, n * sizeof *P->val);
                memmove(P->src + wa, P->src + alo, n * sizeof *P->src);
            }
            E->time[w] = E->time[e];
            E->name[w] = E->name[e];
            E->dropped[w] = E->dropped[e];
            E->attr_off[w] = (int64_t)wa;
            wa += n;
            w++;
        }
    }
    S->event_off[S->n] = (int64_t)w;
    E->attr_off[w] = (int64_t)wa;
    E->n = w;
    P->n = wa;
    return 0;
}

int ottl_vm_set_rows(ottl_batch *b, int32_t owner, size_t count, const int64_t *rows,
                     const ottl_parent_row *with) {
    ottl_kvpool *pool;
    int64_t *off;
    size_t n;
    int records;
    int rc = vm_owner_pool(b, owner, &pool, &off, &n, &records);
    if (rc) return rc;
    size_t extra = 0;
    for (size_t k = 0; k < count; k++) {
        if (rows[k] < 0 || (size_t)rows[k] >= n || (k && rows[k] <= rows[k - 1])) return -2;
        extra += with[k].n;
    }
    ottl_kvpool out = {0};
    int64_t *noff = malloc((n + 1) * sizeof *noff);
    rc = -1;
    if (!noff || ottl_kvpool_reserve(&out, pool->n + extra)) goto done;
    size_t k = 0;
    for (size_t r = 0; r < n; r++) {
        noff[r] = (int64_t)out.n;
        if (k < count && (size_t)rows[k] == r) {
            const ottl_parent_row *w = &with[k++];
            if (!same_entries(pool, off[r], off[r + 1], w)) {
                for (size_t i = 0; i < w->n; i++) {
                    out.key[out.n] = w->keys[i];
                    out.tag[out.n] = w->tags[i];
                    out.val[out.n] = w->vals[i];
                    out.src[out.n++] = -1;
                }
                if (records && vm_mark_dirty(b, r, OTTL_DIRTY_ATTRS)) goto done;
                continue;
            }
        }
        if (ottl_kvpool_append(&out, pool, off[r], off[r + 1])) goto done;
    }
    noff[n] = (int64_t)out.n;
    memcpy(off, noff, (n + 1) * sizeof *off);
    vm_replace_pool(pool, &out);
    ottl_batch_drop_derived(b);
    rc = 0;
done:
    ottl_kvpool_release(&out);
    free(noff);
    return rc;
}
