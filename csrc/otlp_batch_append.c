/*
 * Appending one decoded batch to another: what joins the parts of a parallel decode
 * (otlp_decode_parallel.c) into the batch a single decode of the whole input would have built.
 *
 * The source's rows follow the destination's, so every index into another table moves by that
 * table's row count in the destination, and every string id is looked up again in the
 * destination's string table. Interning the source's strings there in the source's id order
 * adds the new ones in the order the source met them, which is the order one decode of both
 * inputs in turn would have added them: the joined table is that decode's, id for id.
 */
#include "otlp_batch.h"

#include <stdlib.h>
#include <string.h>

/* Row counts of the destination before the append: the amounts the source's indexes move by. */
typedef struct {
    int64_t resources, scopes, spans, events, links, logs, entities;
    int64_t resource_attrs, scope_attrs, values, span_attrs, event_attrs, link_attrs, log_attrs;
    const int32_t *ids; /* source string id -> destination string id */
} shift_t;

/* src's strings in dst, in src's id order; the map from src's ids to dst's, or NULL when out of
 * memory. A string checked as UTF-8 in either table is checked in the result. */
static int32_t *map_strings(ottl_strtab *dst, const ottl_strtab *src) {
    int32_t *ids = malloc((src->count ? src->count : 1) * sizeof *ids);
    if (!ids) return NULL;
    for (size_t i = 0; i < src->count; i++) {
        const uint8_t *p = (const uint8_t *)ottl_strtab_ptr(src, (int32_t)i);
        int32_t id = ottl_strtab_intern_hashed(dst, p, ottl_strtab_len(src, (int32_t)i),
                                               src->hash[i]);
        if (id < 0) {
            free(ids);
            return NULL;
        }
        dst->utf8[id] |= src->utf8[i];
        ids[i] = id;
    }
    return ids;
}

static void map_ids(int32_t *dst, const int32_t *src, size_t n, const int32_t *ids) {
    for (size_t i = 0; i < n; i++) dst[i] = ids[src[i]];
}

static void shift32(int32_t *dst, const int32_t *src, size_t n, int64_t by) {
    for (size_t i = 0; i < n; i++) dst[i] = (int32_t)(src[i] + by);
}

static void shift64(int64_t *dst, const int64_t *src, size_t n, int64_t by) {
    for (size_t i = 0; i < n; i++) dst[i] = src[i] + by;
}

#define COPY(dst, src, n) memcpy((dst), (src), (n) * sizeof *(src))

/* A value's payload in dst: string ids mapped, containers moved with the values pool. Without
 * branches on the tag, which varies from entry to entry: the lookup reads ids[0] for a
 * payload that is not a string id. */
static inline int64_t moved_value(uint8_t tag, int64_t val, const shift_t *s) {
    int is_string = tag == OTTL_V_STRING || tag == OTTL_V_BYTES;
    /* start | count << 32: a payload's pools hold under 2^31 entries, so the start cannot
     * carry into the count */
    int is_container = tag == OTTL_V_ARRAY || tag == OTTL_V_KVLIST;
    int64_t mapped = s->ids[is_string ? val : 0];
    int64_t moved = val + (is_container ? s->values : 0);
    return is_string ? mapped : moved;
}

static int append_pool(ottl_kvpool *dst, const ottl_kvpool *src, const shift_t *s) {
    size_t n = src->n, at = dst->n;
    dst->unique = dst->unique && src->unique;
    if (!n) return 0; /* an empty pool may have no arrays at all */
    if (ottl_kvpool_reserve(dst, n)) return -1;
    for (size_t i = 0; i < n; i++) {
        int32_t key = src->key[i];
        dst->key[at + i] = key < 0 ? key : s->ids[key];
    }
    for (size_t i = 0; i < n; i++) dst->val[at + i] = moved_value(src->tag[i], src->val[i], s);
    COPY(dst->tag + at, src->tag, n);
    COPY(dst->src + at, src->src, n);
    dst->n = at + n;
    return 0;
}

/* CSR offset columns take the source's n + 1 entries: its closing entry, moved, closes the
 * joined table. */
static int append_resources(ottl_resources *dst, const ottl_resources *src, const shift_t *s) {
    size_t n = src->n, at = dst->n;
    if (ottl_resources_reserve(dst, at + n)) return -1;
    COPY(dst->present + at, src->present, n);
    COPY(dst->dropped + at, src->dropped, n);
    map_ids(dst->schema_url + at, src->schema_url, n, s->ids);
    shift64(dst->attr_off + at, src->attr_off, n + 1, s->resource_attrs);
    shift64(dst->scope_off + at, src->scope_off, n + 1, s->scopes);
    shift64(dst->entity_off + at, src->entity_off, n + 1, s->entities);
    dst->n = at + n;
    return 0;
}

static int append_scopes(ottl_scopes *dst, const ottl_scopes *src, const shift_t *s,
                         int64_t records) {
    size_t n = src->n, at = dst->n;
    if (ottl_scopes_reserve(dst, at + n)) return -1;
    shift32(dst->resource + at, src->resource, n, s->resources);
    COPY(dst->present + at, src->present, n);
    map_ids(dst->name + at, src->name, n, s->ids);
    map_ids(dst->version + at, src->version, n, s->ids);
    map_ids(dst->schema_url + at, src->schema_url, n, s->ids);
    COPY(dst->dropped + at, src->dropped, n);
    shift64(dst->attr_off + at, src->attr_off, n + 1, s->scope_attrs);
    shift64(dst->rec_off + at, src->rec_off, n + 1, records);
    dst->n = at + n;
    return 0;
}

static int append_spans(ottl_spans *dst, const ottl_spans *src, const shift_t *s) {
    size_t n = src->n, at = dst->n;
    if (ottl_spans_reserve(dst, at + n)) return -1;
    shift32(dst->scope + at, src->scope, n, s->scopes);
    shift32(dst->resource + at, src->resource, n, s->resources);
    memcpy(dst->trace_id + 16 * at, src->trace_id, 16 * n);
    memcpy(dst->span_id + 8 * at, src->span_id, 8 * n);
    memcpy(dst->parent_span_id + 8 * at, src->parent_span_id, 8 * n);
    COPY(dst->present + at, src->present, n);
    map_ids(dst->trace_state + at, src->trace_state, n, s->ids);
    map_ids(dst->name + at, src->name, n, s->ids);
    map_ids(dst->status_message + at, src->status_message, n, s->ids);
    COPY(dst->flags + at, src->flags, n);
    COPY(dst->kind + at, src->kind, n);
    COPY(dst->status_code + at, src->status_code, n);
    COPY(dst->start_time + at, src->start_time, n);
    COPY(dst->end_time + at, src->end_time, n);
    COPY(dst->dropped_attrs + at, src->dropped_attrs, n);
    COPY(dst->dropped_events + at, src->dropped_events, n);
    COPY(dst->dropped_links + at, src->dropped_links, n);
    shift64(dst->attr_off + at, src->attr_off, n + 1, s->span_attrs);
    shift64(dst->event_off + at, src->event_off, n + 1, s->events);
    shift64(dst->link_off + at, src->link_off, n + 1, s->links);
    /* Byte positions are in the one input both parts were decoded from: they stay. */
    COPY(dst->byte_start + at, src->byte_start, n);
    COPY(dst->byte_end + at, src->byte_end, n);
    COPY(dst->attrs_at + at, src->attrs_at, n);
    COPY(dst->attrs_end + at, src->attrs_end, n);
    dst->n = at + n;
    return 0;
}

static int append_events(ottl_events *dst, const ottl_events *src, const shift_t *s) {
    size_t n = src->n, at = dst->n;
    if (ottl_events_reserve(dst, at + n)) return -1;
    COPY(dst->time + at, src->time, n);
    map_ids(dst->name + at, src->name, n, s->ids);
    COPY(dst->dropped + at, src->dropped, n);
    shift64(dst->attr_off + at, src->attr_off, n + 1, s->event_attrs);
    dst->n = at + n;
    return 0;
}

static int append_links(ottl_links *dst, const ottl_links *src, const shift_t *s) {
    size_t n = src->n, at = dst->n;
    if (ottl_links_reserve(dst, at + n)) return -1;
    memcpy(dst->trace_id + 16 * at, src->trace_id, 16 * n);
    memcpy(dst->span_id + 8 * at, src->span_id, 8 * n);
    COPY(dst->present + at, src->present, n);
    map_ids(dst->trace_state + at, src->trace_state, n, s->ids);
    COPY(dst->flags + at, src->flags, n);
    COPY(dst->dropped + at, src->dropped, n);
    shift64(dst->attr_off + at, src->attr_off, n + 1, s->link_attrs);
    dst->n = at + n;
    return 0;
}

static int append_logs(ottl_logs *dst, const ottl_logs *src, const shift_t *s) {
    size_t n = src->n, at = dst->n;
    if (ottl_logs_reserve(dst, at + n)) return -1;
    shift32(dst->scope + at, src->scope, n, s->scopes);
    shift32(dst->resource + at, src->resource, n, s->resources);
    COPY(dst->time + at, src->time, n);
    COPY(dst->observed_time + at, src->observed_time, n);
    COPY(dst->severity_number + at, src->severity_number, n);
    map_ids(dst->severity_text + at, src->severity_text, n, s->ids);
    map_ids(dst->event_name + at, src->event_name, n, s->ids);
    COPY(dst->body_tag + at, src->body_tag, n);
    for (size_t i = 0; i < n; i++)
        dst->body[at + i] = moved_value(src->body_tag[i], src->body[i], s);
    COPY(dst->dropped + at, src->dropped, n);
    COPY(dst->flags + at, src->flags, n);
    memcpy(dst->trace_id + 16 * at, src->trace_id, 16 * n);
    memcpy(dst->span_id + 8 * at, src->span_id, 8 * n);
    COPY(dst->present + at, src->present, n);
    shift64(dst->attr_off + at, src->attr_off, n + 1, s->log_attrs);
    COPY(dst->byte_start + at, src->byte_start, n);
    COPY(dst->byte_end + at, src->byte_end, n);
    COPY(dst->attrs_at + at, src->attrs_at, n);
    COPY(dst->attrs_end + at, src->attrs_end, n);
    dst->n = at + n;
    return 0;
}

static int append_irregular(ottl_irregular *dst, const ottl_irregular *src, const shift_t *s) {
    size_t n = src->n, at = dst->n;
    if (!n) return 0;
    if (ottl_irregular_reserve(dst, at + n)) return -1;
    for (size_t i = 0; i < n; i++) {
        int64_t by = src->owner[i] == OTTL_OWNER_SPAN ? s->spans
                   : src->owner[i] == OTTL_OWNER_LINK ? s->links
                                                      : s->logs;
        dst->row[at + i] = (int32_t)(src->row[i] + by);
    }
    COPY(dst->owner + at, src->owner, n);
    COPY(dst->field + at, src->field, n);
    map_ids(dst->sid + at, src->sid, n, s->ids);
    dst->n = at + n;
    return 0;
}

static int append_entities(ottl_batch *dst, const ottl_batch *src, const shift_t *s) {
    size_t n = src->entity_n, at = dst->entity_n;
    if (!n) return 0;
    if (at + n > dst->entity_cap) {
        int32_t *e = realloc(dst->entity_refs, (at + n) * sizeof *e);
        if (!e) return -1;
        dst->entity_refs = e;
        dst->entity_cap = at + n;
    }
    map_ids(dst->entity_refs + at, src->entity_refs, n, s->ids);
    dst->entity_n = at + n;
    return 0;
}

int ottl_batch_append(ottl_batch *dst, const ottl_batch *src) {
    if (dst->kind != src->kind) return -1;
    shift_t s = {
        .resources = (int64_t)dst->resources.n, .scopes = (int64_t)dst->scopes.n,
        .spans = (int64_t)dst->spans.n, .events = (int64_t)dst->events.n,
        .links = (int64_t)dst->links.n, .logs = (int64_t)dst->logs.n,
        .entities = (int64_t)dst->entity_n,
        .resource_attrs = (int64_t)dst->resource_attrs.n,
        .scope_attrs = (int64_t)dst->scope_attrs.n, .values = (int64_t)dst->values.n,
        .span_attrs = (int64_t)dst->span_attrs.n, .event_attrs = (int64_t)dst->event_attrs.n,
        .link_attrs = (int64_t)dst->link_attrs.n, .log_attrs = (int64_t)dst->log_attrs.n,
    };
    int32_t *ids = map_strings(&dst->strings, &src->strings);
    if (!ids) return -1;
    s.ids = ids;
    int64_t records = dst->kind == OTTL_BATCH_SPANS ? s.spans : s.logs;
    int rc = append_resources(&dst->resources, &src->resources, &s) ||
             append_scopes(&dst->scopes, &src->scopes, &s, records) ||
             append_entities(dst, src, &s) ||
             append_pool(&dst->resource_attrs, &src->resource_attrs, &s) ||
             append_pool(&dst->scope_attrs, &src->scope_attrs, &s) ||
             append_pool(&dst->values, &src->values, &s) ||
             append_irregular(&dst->irregular, &src->irregular, &s);
    if (!rc && dst->kind == OTTL_BATCH_SPANS)
        rc = append_spans(&dst->spans, &src->spans, &s) ||
             append_events(&dst->events, &src->events, &s) ||
             append_links(&dst->links, &src->links, &s) ||
             append_pool(&dst->span_attrs, &src->span_attrs, &s) ||
             append_pool(&dst->event_attrs, &src->event_attrs, &s) ||
             append_pool(&dst->link_attrs, &src->link_attrs, &s);
    else if (!rc)
        rc = append_logs(&dst->logs, &src->logs, &s) ||
             append_pool(&dst->log_attrs, &src->log_attrs, &s);
    free(ids);
    if (rc) return -1;
    dst->frames_minimal = dst->frames_minimal && src->frames_minimal;
    dst->unknown_fields += src->unknown_fields;
    return 0;
}
