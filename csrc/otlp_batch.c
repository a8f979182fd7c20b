/* Batch allocation and growth. Tables grow by doubling; all columns of a table grow together. */
#include "otlp_batch.h"

#include <stdlib.h>
#include <string.h>

/*
 * Column allocations. The columns of a table are written (and read) row by row in lockstep,
 * and large blocks come from mmap, all 16 bytes into a page: columns of one width would then
 * map to the same set of the 8-way L1 cache at every row, more of them than it has ways, and
 * evict each other's lines on every row (nine int64 span columns do). So each column of a
 * table starts its own number of cache lines into its block (its "color"); the offset is kept
 * just before the column, where realloc and free find it.
 */
#define COL_HEAD 16 /* bytes before a column's first color: its offset, and malloc alignment */

static size_t col_offset(const void *col) {
    size_t off;
    memcpy(&off, (const char *)col - sizeof off, sizeof off);
    return off;
}

static void *col_realloc(void *col, size_t size, unsigned color) {
    size_t off = col ? col_offset(col) : COL_HEAD + 64 * (size_t)(color % 64);
    char *raw = realloc(col ? (char *)col - off : NULL, size + off);
    if (!raw) return NULL;
    memcpy(raw + off - sizeof off, &off, sizeof off);
    return raw + off;
}

void ottl_col_free(void *col) {
    if (col) free((char *)col - col_offset(col));
}

int ottl_grow_cols(size_t *cap, size_t need, void **cols[], const size_t sizes[], int ncols,
                   unsigned color) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    /* One spare row in every column, so CSR offset columns can hold their closing entry. A
     * failed realloc leaves the column as it was; columns already grown are merely larger.
     * Colors 5 lines apart: 5 is odd, so a table's columns get 64 distinct ones. */
    for (int i = 0; i < ncols; i++) {
        void *p = col_realloc(*cols[i], (c + 1) * sizes[i], color + 5u * (unsigned)i);
        if (!p) return -1;
        *cols[i] = p;
    }
    *cap = c;
    return 0;
}

int ottl_kvpool_reserve(ottl_kvpool *p, size_t extra) {
    void **cols[] = {(void **)&p->key, (void **)&p->tag, (void **)&p->val, (void **)&p->src};
    const size_t sizes[] = {sizeof *p->key, sizeof *p->tag, sizeof *p->val, sizeof *p->src};
    return ottl_grow_cols(&p->cap, p->n + extra, cols, sizes, 4, 2);
}

int ottl_kvpool_append(ottl_kvpool *p, const ottl_kvpool *from, int64_t lo, int64_t hi) {
    size_t n = (size_t)(hi - lo);
    if (!n) return 0;
    if (p->n + n > p->cap && ottl_kvpool_reserve(p, n)) return -1;
    memcpy(p->key + p->n, from->key + lo, n * sizeof *p->key);
    memcpy(p->tag + p->n, from->tag + lo, n * sizeof *p->tag);
    memcpy(p->val + p->n, from->val + lo, n * sizeof *p->val);
    memcpy(p->src + p->n, from->src + lo, n * sizeof *p->src);
    p->n += n;
    return 0;
}

void ottl_kvpool_release(ottl_kvpool *p) {
    ottl_col_free(p->key);
    ottl_col_free(p->tag);
    ottl_col_free(p->val);
    ottl_col_free(p->src);
}

ottl_batch *ottl_batch_new(int kind, size_t input_len) {
    ottl_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->kind = kind;
    /* Distinct strings grow with the payload far slower than its size; this guess only avoids
     * the first few rehashes. */
    if (ottl_strtab_init(&b->strings, input_len / 512 + 64)) {
        free(b);
        return NULL;
    }
    /* Room for a typical payload's records and attributes up front (a record rarely takes
     * under 64 bytes, an attribute under 12), so growth seldom copies; a failure here is
     * harmless, the tables grow on demand. */
    size_t guess = input_len < ((size_t)64 << 20) ? input_len : ((size_t)64 << 20);
    size_t recs = guess / 64 + 16, attrs = guess / 12 + 16; /* huge payloads grow as they go */
    if (kind == OTTL_BATCH_SPANS) {
        (void)ottl_spans_reserve(&b->spans, recs);
        (void)ottl_kvpool_reserve(&b->span_attrs, attrs);
    } else {
        (void)ottl_logs_reserve(&b->logs, recs);
        (void)ottl_kvpool_reserve(&b->log_attrs, attrs);
    }
    return b;
}

void ottl_batch_reset(ottl_batch *b, int kind) {
    b->kind = kind;
    ottl_strtab_reset(&b->strings);
    b->resources.n = b->scopes.n = 0;
    b->resource_attrs.n = b->scope_attrs.n = b->values.n = 0;
    b->entity_n = 0;
    b->irregular.n = 0;
    b->spans.n = b->events.n = b->links.n = 0;
    b->span_attrs.n = b->event_attrs.n = b->link_attrs.n = 0;
    b->logs.n = b->log_attrs.n = 0;
    b->input = NULL;
    b->input_len = 0;
    b->frames_minimal = 0;
    b->unknown_fields = 0;
    ottl_batch_drop_derived(b);
    free(b->dirty);
    b->dirty = NULL;
    b->cache.n = 0;
    free(b->cache_off);
    b->cache_off = NULL;
}

#define FREE_COLS(...)                                                                   \
    do {                                                                                 \
        void *ps_[] = {__VA_ARGS__};                                                     \
        for (size_t i_ = 0; i_ < sizeof ps_ / sizeof *ps_; i_++) ottl_col_free(ps_[i_]); \
    } while (0)

void ottl_batch_drop_derived(ottl_batch *b) {
    if (b->vm_cache && b->vm_cache_free) b->vm_cache_free(b->vm_cache);
    b->vm_cache = NULL;
    b->vm_cache_free = NULL;
}

void ottl_batch_free(ottl_batch *b) {
    if (!b) return;
    ottl_batch_drop_derived(b);
    free(b->dirty);
    ottl_strtab_free(&b->strings);
    ottl_resources *r = &b->resources;
    FREE_COLS(r->present, r->dropped, r->schema_url, r->attr_off, r->scope_off, r->entity_off);
    ottl_scopes *s = &b->scopes;
    FREE_COLS(s->resource, s->present, s->name, s->version, s->schema_url, s->dropped,
             s->attr_off, s->rec_off);
    ottl_kvpool_release(&b->resource_attrs);
    ottl_kvpool_release(&b->scope_attrs);
    ottl_kvpool_release(&b->values);
    free(b->entity_refs);
    ottl_irregular *g = &b->irregular;
    FREE_COLS(g->owner, g->field, g->row, g->sid);
    ottl_spans *sp = &b->spans;
    FREE_COLS(sp->scope, sp->resource, sp->trace_id, sp->span_id, sp->parent_span_id, sp->present,
             sp->trace_state, sp->name, sp->status_message, sp->flags, sp->kind, sp->status_code,
             sp->start_time, sp->end_time, sp->dropped_attrs, sp->dropped_events,
             sp->dropped_links, sp->attr_off, sp->event_off, sp->link_off, sp->byte_start,
             sp->byte_end, sp->attrs_at, sp->attrs_end);
    ottl_events *e = &b->events;
    FREE_COLS(e->time, e->name, e->dropped, e->attr_off);
    ottl_links *l = &b->links;
    FREE_COLS(l->trace_id, l->span_id, l->present, l->trace_state, l->flags, l->dropped, l->attr_off);
    ottl_kvpool_release(&b->span_attrs);
    ottl_kvpool_release(&b->event_attrs);
    ottl_kvpool_release(&b->link_attrs);
    ottl_logs *g2 = &b->logs;
    FREE_COLS(g2->scope, g2->resource, g2->time, g2->observed_time, g2->severity_number,
             g2->severity_text, g2->event_name, g2->body_tag, g2->body, g2->dropped, g2->flags,
             g2->trace_id, g2->span_id, g2->present, g2->attr_off, g2->byte_start, g2->byte_end,
             g2->attrs_at, g2->attrs_end);
    ottl_kvpool_release(&b->log_attrs);
    ottl_kvpool_release(&b->cache);
    free(b->cache_off);
    free(b);
}

/* (void **)&col and the element size of col, for ottl_grow_cols. */
#define RESERVE(t, need, ...)                                                      \
    do {                                                                           \
        void **cols_[] = {__VA_ARGS__};                                            \
        enum { N_ = sizeof cols_ / sizeof *cols_ };                                \
        return ottl_grow_cols(&(t)->cap, need, cols_, sizes_, N_, 0);              \
    } while (0)
#define C(x) (void **)&(x)
#define Z(x) sizeof *(x)

int ottl_resources_reserve(ottl_resources *t, size_t need) {
    const size_t sizes_[] = {Z(t->present), Z(t->dropped), Z(t->schema_url), Z(t->attr_off),
                             Z(t->scope_off), Z(t->entity_off)};
    RESERVE(t, need, C(t->present), C(t->dropped), C(t->schema_url), C(t->attr_off),
            C(t->scope_off), C(t->entity_off));
}

int ottl_scopes_reserve(ottl_scopes *t, size_t need) {
    const size_t sizes_[] = {Z(t->resource), Z(t->present), Z(t->name), Z(t->version),
                             Z(t->schema_url), Z(t->dropped), Z(t->attr_off), Z(t->rec_off)};
    RESERVE(t, need, C(t->resource), C(t->present), C(t->name), C(t->version), C(t->schema_url),
            C(t->dropped), C(t->attr_off), C(t->rec_off));
}

int ottl_spans_reserve(ottl_spans *t, size_t need) {
    const size_t sizes_[] = {Z(t->scope), Z(t->resource), 16, 8, 8, Z(t->present),
                             Z(t->trace_state), Z(t->name), Z(t->status_message), Z(t->flags),
                             Z(t->kind), Z(t->status_code), Z(t->start_time), Z(t->end_time),
                             Z(t->dropped_attrs), Z(t->dropped_events), Z(t->dropped_links),
                             Z(t->attr_off), Z(t->event_off), Z(t->link_off), Z(t->byte_start),
                             Z(t->byte_end), Z(t->attrs_at), Z(t->attrs_end)};
    RESERVE(t, need, C(t->scope), C(t->resource), C(t->trace_id), C(t->span_id),
            C(t->parent_span_id), C(t->present), C(t->trace_state), C(t->name),
            C(t->status_message), C(t->flags), C(t->kind), C(t->status_code), C(t->start_time),
            C(t->end_time), C(t->dropped_attrs), C(t->dropped_events), C(t->dropped_links),
            C(t->attr_off), C(t->event_off), C(t->link_off), C(t->byte_start), C(t->byte_end),
            C(t->attrs_at), C(t->attrs_end));
}

int ottl_events_reserve(ottl_events *t, size_t need) {
    const size_t sizes_[] = {Z(t->time), Z(t->name), Z(t->dropped), Z(t->attr_off)};
    RESERVE(t, need, C(t->time), C(t->name), C(t->dropped), C(t->attr_off));
}

int ottl_links_reserve(ottl_links *t, size_t need) {
    const size_t sizes_[] = {16, 8, Z(t->present), Z(t->trace_state), Z(t->flags), Z(t->dropped),
                             Z(t->attr_off)};
    RESERVE(t, need, C(t->trace_id), C(t->span_id), C(t->present), C(t->trace_state),
            C(t->flags), C(t->dropped), C(t->attr_off));
}

int ottl_logs_reserve(ottl_logs *t, size_t need) {
    const size_t sizes_[] = {Z(t->scope), Z(t->resource), Z(t->time), Z(t->observed_time),
                             Z(t->severity_number), Z(t->severity_text), Z(t->event_name),
                             Z(t->body_tag), Z(t->body), Z(t->dropped), Z(t->flags), 16, 8,
                             Z(t->present), Z(t->attr_off), Z(t->byte_start), Z(t->byte_end),
                             Z(t->attrs_at), Z(t->attrs_end)};
    RESERVE(t, need, C(t->scope), C(t->resource), C(t->time), C(t->observed_time),
            C(t->severity_number), C(t->severity_text), C(t->event_name), C(t->body_tag),
            C(t->body), C(t->dropped), C(t->flags), C(t->trace_id), C(t->span_id),
            C(t->present), C(t->attr_off), C(t->byte_start), C(t->byte_end), C(t->attrs_at),
            C(t->attrs_end));
}

int ottl_irregular_reserve(ottl_irregular *t, size_t need) {
    const size_t sizes_[] = {Z(t->owner), Z(t->field), Z(t->row), Z(t->sid)};
    RESERVE(t, need, C(t->owner), C(t->field), C(t->row), C(t->sid));
}
