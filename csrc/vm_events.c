/*
 * Span events as log records (csrc/vm_events.h).
 *
 * A log record has every field a span event has (time, a name in event_name, attributes, a
 * dropped count) and sits under a resource and a scope, so the VM's log machinery runs an
 * event group unchanged: the compiler reads spanevent.name as log.event_name and so on
 * (ottl/events_native.py). The copy costs a few hundred microseconds for a batch of
 * 10,000 spans (the string table dominates); the reference evaluator spent about 12 us per
 * event.
 */
#include "vm_events.h"

#include "vm_write.h"

#include <stdlib.h>
#include <string.h>

/* memcpy that accepts the NULL columns of an empty table. */
static void copy_col(void *dst, const void *src, size_t bytes) {
    if (bytes && src) memcpy(dst, src, bytes);
}

static int copy_pool(ottl_kvpool *dst, const ottl_kvpool *src) {
    if (ottl_kvpool_append(dst, src, 0, (int64_t)src->n)) return -1;
    dst->unique = src->unique;
    return 0;
}

static int copy_resources(ottl_batch *l, const ottl_batch *b) {
    const ottl_resources *r = &b->resources;
    ottl_resources *d = &l->resources;
    size_t n = r->n;
    if (ottl_resources_reserve(d, n + 1)) return -1;
    copy_col(d->present, r->present, n * sizeof *d->present);
    copy_col(d->dropped, r->dropped, n * sizeof *d->dropped);
    copy_col(d->schema_url, r->schema_url, n * sizeof *d->schema_url);
    copy_col(d->attr_off, r->attr_off, (n + 1) * sizeof *d->attr_off);
    copy_col(d->scope_off, r->scope_off, (n + 1) * sizeof *d->scope_off);
    copy_col(d->entity_off, r->entity_off, (n + 1) * sizeof *d->entity_off);
    d->n = n;
    if (b->entity_n) {
        l->entity_refs = malloc(b->entity_n * sizeof *l->entity_refs);
        if (!l->entity_refs) return -1;
        memcpy(l->entity_refs, b->entity_refs, b->entity_n * sizeof *l->entity_refs);
        l->entity_n = l->entity_cap = b->entity_n;
    }
    return 0;
}

/* The scopes, their records counted in events: scope s holds the events of its spans. */
static int copy_scopes(ottl_batch *l, const ottl_batch *b) {
    const ottl_scopes *s = &b->scopes;
    ottl_scopes *d = &l->scopes;
    size_t n = s->n;
    if (ottl_scopes_reserve(d, n + 1)) return -1;
    copy_col(d->resource, s->resource, n * sizeof *d->resource);
    copy_col(d->present, s->present, n * sizeof *d->present);
    copy_col(d->name, s->name, n * sizeof *d->name);
    copy_col(d->version, s->version, n * sizeof *d->version);
    copy_col(d->schema_url, s->schema_url, n * sizeof *d->schema_url);
    copy_col(d->dropped, s->dropped, n * sizeof *d->dropped);
    copy_col(d->attr_off, s->attr_off, (n + 1) * sizeof *d->attr_off);
    const int64_t *event_off = b->spans.event_off;
    for (size_t i = 0; i <= n; i++)
        d->rec_off[i] = n && event_off ? event_off[s->rec_off[i]] : 0;
    d->n = n;
    return 0;
}

static int fill_logs(ottl_batch *l, const ottl_batch *b) {
    const ottl_spans *S = &b->spans;
    const ottl_events *E = &b->events;
    ottl_logs *L = &l->logs;
    size_t n = E->n;
    if (ottl_logs_reserve(L, n + 1)) return -1;
    for (size_t s = 0; s < S->n; s++) {
        int64_t first = S->event_off[s], last = S->event_off[s + 1];
        if (first == last) continue;
        /* the span's attributes as a kvlist in the (copied) value pool: the records' body */
        size_t start = l->values.n;
        int64_t lo = S->attr_off[s], hi = S->attr_off[s + 1];
        if (ottl_kvpool_append(&l->values, &b->span_attrs, lo, hi)) return -1;
        for (size_t i = start; i < l->values.n; i++) l->values.src[i] = -1;
        int64_t packed = (int64_t)((uint64_t)start | ((uint64_t)(hi - lo) << 32));
        /* the span's ids as the record's, an irregular one (kept aside by the decoder)
         * marked so: the VM then hands the batch to the reference */
        uint8_t ids = S->present[s] & (OTTL_P_TRACE_ID | OTTL_P_SPAN_ID | OTTL_P_IRR_TRACE_ID |
                                       OTTL_P_IRR_SPAN_ID);
        for (int64_t e = first; e < last; e++) {
            L->resource[e] = S->resource[s];
            L->scope[e] = S->scope[s];
            /* what a statement may read of the event's span, and the event's index */
            L->severity_text[e] = S->name[s];
            L->severity_number[e] = S->kind[s];
            L->body_tag[e] = OTTL_V_KVLIST;
            L->body[e] = packed;
            L->flags[e] = (uint32_t)(e - first);
            memcpy(L->trace_id + 16 * (size_t)e, S->trace_id + 16 * s, 16);
            memcpy(L->span_id + 8 * (size_t)e, S->span_id + 8 * s, 8);
            L->present[e] = ids;
            L->observed_time[e] = S->start_time[s];
        }
    }
    copy_col(L->time, E->time, n * sizeof *L->time);
    copy_col(L->event_name, E->name, n * sizeof *L->event_name);
    copy_col(L->dropped, E->dropped, n * sizeof *L->dropped);
    copy_col(L->attr_off, E->attr_off, (n + 1) * sizeof *L->attr_off);
    if (!n) L->attr_off[0] = 0;
    for (size_t e = 0; e < n; e++) {
        L->byte_start[e] = L->byte_end[e] = 0;
        L->attrs_at[e] = L->attrs_end[e] = -1;
    }
    L->n = n;
    return 0;
}

ottl_batch *ottl_vm_events_as_logs(const ottl_batch *b) {
    if (b->kind != OTTL_BATCH_SPANS) return NULL;
    ottl_batch *l = ottl_batch_new(OTTL_BATCH_LOGS, 0);
    if (!l) return NULL;
    ottl_strtab_free(&l->strings);
    if (ottl_strtab_copy(&l->strings, &b->strings) || copy_pool(&l->values, &b->values) ||
        copy_pool(&l->resource_attrs, &b->resource_attrs) ||
        copy_pool(&l->scope_attrs, &b->scope_attrs) || copy_resources(l, b) ||
        copy_scopes(l, b) || fill_logs(l, b) || copy_pool(&l->log_attrs, &b->event_attrs)) {
        ottl_batch_free(l);
        return NULL;
    }
    /* The decoder does not note repeated keys in events: a rebuild deduplicates. */
    l->log_attrs.unique = 0;
    /* Entries keep their input offsets (src), which stay true of b's input. */
    l->input = b->input;
    l->input_len = b->input_len;
    return l;
}

#define SWAP(T, x, y) \
    do {              \
        T t_ = (x);   \
        (x) = (y);    \
        (y) = t_;     \
    } while (0)

int ottl_vm_events_from_logs(ottl_batch *b, ottl_batch *l) {
    ottl_spans *S = &b->spans;
    ottl_events *E = &b->events;
    ottl_logs *L = &l->logs;
    if (b->kind != OTTL_BATCH_SPANS || l->kind != OTTL_BATCH_LOGS || L->n != E->n) return -2;
    if (!l->dirty) {
        ottl_batch_reset(l, OTTL_BATCH_LOGS); /* spent all the same */
        return 0;
    }
    /* Marks first: a failure leaves b unchanged but for marks, which only cost re-encoding. */
    for (size_t s = 0; s < S->n; s++)
        for (int64_t e = S->event_off[s]; e < S->event_off[s + 1]; e++)
            if (l->dirty[e]) {
                if (vm_mark_dirty(b, s, OTTL_DIRTY_FIELDS)) return -1;
                break;
            }
    size_t n = E->n;
    copy_col(E->time, L->time, n * sizeof *E->time);
    copy_col(E->name, L->event_name, n * sizeof *E->name);
    copy_col(E->dropped, L->dropped, n * sizeof *E->dropped);
    if (E->attr_off) copy_col(E->attr_off, L->attr_off, (n + 1) * sizeof *E->attr_off);
    SWAP(ottl_kvpool, b->event_attrs, l->log_attrs);
    SWAP(ottl_strtab, b->strings, l->strings);
    SWAP(ottl_kvpool, b->values, l->values);
    ottl_batch_drop_derived(b);
    /* The log batch now holds b's old pools, which its records' ids and offsets do not fit:
     * spent, it is emptied, so reading it shows nothing rather than garbage. */
    ottl_batch_reset(l, OTTL_BATCH_LOGS);
    return 0;
}
