/*
 * OTLP decoding shared by traces and logs: errors and their paths, skipping unknown fields,
 * strings, ids, attributes and AnyValue, and the resource / scope framing, which is the same
 * for ResourceSpans/ScopeSpans and ResourceLogs/ScopeLogs (same field numbers).
 */
#include "otlp_decode.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_decode_attr.h"
#include "utf8.h"

/* ---- errors ---- */

static void format_path(const dec_t *d, const char *field, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    int depth = d->depth < DEC_PATH_MAX ? d->depth : DEC_PATH_MAX;
    for (int i = 0; i <= depth && n < cap; i++) {
        const char *name = i < depth ? d->path[i].name : field;
        if (!name) break;
        int w;
        if (i < depth && d->path[i].index >= 0)
            w = snprintf(out + n, cap - n, "%s%s[%d]", n ? "." : "", name, (int)d->path[i].index);
        else
            w = snprintf(out + n, cap - n, "%s%s", n ? "." : "", name);
        if (w < 0) break;
        n += (size_t)w;
    }
}

int dec_fail(dec_t *d, const uint8_t *at, const char *field, const char *fmt, ...) {
    ottl_decode_error *e = d->err;
    e->code = OTTL_DECODE_MALFORMED;
    e->offset = (int64_t)(at - d->base);
    format_path(d, field, e->path, sizeof e->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

int dec_nomem(dec_t *d) {
    d->err->code = OTTL_DECODE_NOMEM;
    snprintf(d->err->message, sizeof d->err->message, "out of memory while decoding");
    return -1;
}

int dec_wire_fail(dec_t *d, int rc, const uint8_t *at, const char *field) {
    switch (rc) {
    case PB_ETRUNC:
        return dec_fail(d, at, field, "truncated: the data ends inside this field");
    case PB_EVARINT:
        return dec_fail(d, at, field, "varint longer than 10 bytes");
    case PB_ELENGTH:
        return dec_fail(d, at, field, "length runs past the end of the enclosing message");
    case PB_ETAG:
        return dec_fail(d, at, field, "invalid tag (field number 0 or over 2^29-1)");
    case PB_EWIRETYPE:
        return dec_fail(d, at, field, "invalid wire type (6 or 7)");
    default:
        return dec_fail(d, at, field, "malformed data");
    }
}

/* ---- unknown fields ---- */

static int skip_group(dec_t *d, const uint8_t **pp, const uint8_t *end, uint32_t field,
                      int depth);

static int skip_value(dec_t *d, const uint8_t **pp, const uint8_t *end, uint32_t field, int wt,
                      int depth) {
    const uint8_t *at = *pp;
    uint64_t v;
    const uint8_t *sub;
    int rc = PB_OK;
    switch (wt) {
    case PB_VARINT:
        rc = pb_read_varint(pp, end, &v);
        break;
    case PB_I64:
        rc = pb_read_fixed64(pp, end, &v);
        break;
    case PB_I32: {
        uint32_t w;
        rc = pb_read_fixed32(pp, end, &w);
        break;
    }
    case PB_LEN:
        rc = pb_read_len(pp, end, &sub);
        if (!rc) *pp = sub;
        break;
    case PB_SGROUP:
        return skip_group(d, pp, end, field, depth + 1);
    default:
        return dec_fail(d, at, NULL, "unexpected end-group tag (field %u)", field);
    }
    if (rc) return dec_wire_fail(d, rc, at, NULL);
    return 0;
}

/* Groups are deprecated but legal in unknown fields; their nesting is bounded like values', so
 * hostile input cannot recurse without limit. */
static int skip_group(dec_t *d, const uint8_t **pp, const uint8_t *end, uint32_t field,
                      int depth) {
    if (depth > OTTL_MAX_NESTING_DEPTH)
        return dec_fail(d, *pp, NULL, "groups nested deeper than %d levels",
                        OTTL_MAX_NESTING_DEPTH);
    for (;;) {
        const uint8_t *at = *pp;
        if (*pp >= end) return dec_fail(d, at, NULL, "truncated: group %u has no end", field);
        uint32_t f;
        int wt;
        int rc = pb_read_tag(pp, end, &f, &wt);
        if (rc) return dec_wire_fail(d, rc, at, NULL);
        if (wt == PB_EGROUP) {
            if (f != field)
                return dec_fail(d, at, NULL, "end-group %u closes group %u", f, field);
            return 0;
        }
        if (skip_value(d, pp, end, f, wt, depth)) return -1;
    }
}

int dec_skip(dec_t *d, const uint8_t **pp, const uint8_t *end, uint32_t field, int wt) {
    d->b->unknown_fields++;
    return skip_value(d, pp, end, field, wt, 0);
}

/* ---- strings and ids ---- */

int dec_string_slow(dec_t *d, const uint8_t *p, size_t len, int utf8, int32_t *out,
                    const char *field) {
    if (len > d->max_string)
        return dec_fail(d, p, field, "%s of %zu bytes is over the limit of %zu bytes",
                        utf8 ? "string" : "bytes value", len, d->max_string);
    int32_t id = ottl_strtab_intern(&d->b->strings, p, len);
    if (id < 0) return dec_nomem(d);
    if (utf8 && !d->b->strings.utf8[id]) {
        size_t bad = ottl_utf8_check(p, len);
        if (bad != len) return dec_fail(d, p + bad, field, "invalid UTF-8 in a string field");
        d->b->strings.utf8[id] = 1;
    }
    *out = id;
    return 0;
}

static void irr_clear(dec_t *d, int owner, int32_t row, int field) {
    ottl_irregular *g = &d->b->irregular;
    for (size_t i = g->n; i-- > 0 && g->owner[i] == owner && g->row[i] == row;) {
        if (g->field[i] != field) continue;
        for (size_t k = i + 1; k < g->n; k++) {
            g->owner[k - 1] = g->owner[k];
            g->field[k - 1] = g->field[k];
            g->row[k - 1] = g->row[k];
            g->sid[k - 1] = g->sid[k];
        }
        g->n--;
        return;
    }
}

int dec_id_slow(dec_t *d, const uint8_t *p, const uint8_t *end, int owner, int32_t row,
                int field, uint8_t *dst, size_t width, uint8_t *present, uint8_t bit,
                uint8_t irr_bit) {
    size_t len = (size_t)(end - p);
    if (PB_UNLIKELY(*present & irr_bit)) {
        irr_clear(d, owner, row, field);
        *present &= (uint8_t)~irr_bit;
    }
    if (PB_LIKELY(len == width)) {
        memcpy(dst, p, width);
        *present |= bit;
        return 0;
    }
    memset(dst, 0, width);
    *present &= (uint8_t)~bit;
    if (len == 0) return 0;
    /* Any other length is legal protobuf; keep it by value beside the fixed columns. */
    int32_t sid = 0;
    if (dec_string(d, p, len, 0, &sid, NULL)) return -1;
    ottl_irregular *g = &d->b->irregular;
    if (ottl_irregular_reserve(g, g->n + 1)) return dec_nomem(d);
    g->owner[g->n] = (uint8_t)owner;
    g->field[g->n] = (uint8_t)field;
    g->row[g->n] = row;
    g->sid[g->n] = sid;
    g->n++;
    *present |= irr_bit;
    return 0;
}

/* ---- values ---- */

static int dec_anyvalue(dec_t *d, const uint8_t *p, const uint8_t *end, int depth,
                        uint8_t *tag_out, int64_t *val_out);

/* Most attribute values are one scalar field filling the whole AnyValue: decode those here
 * without the general loop. 1: done; 0: not that shape, use dec_anyvalue; -1: error. */
static inline int dec_scalar(dec_t *d, const uint8_t *p, const uint8_t *end, uint8_t *tag,
                             int64_t *val) {
    if (p == end) {
        *tag = OTTL_V_EMPTY;
        *val = 0;
        return 1;
    }
    uint8_t t = *p++;
    uint64_t v;
    switch (t) {
    case PB_TAG(1, PB_LEN): {
        if (pb_read_varint(&p, end, &v) || v != (uint64_t)(end - p)) return 0;
        int32_t sid;
        if (dec_string(d, p, (size_t)v, 1, &sid, "string_value")) return -1;
        *tag = OTTL_V_STRING;
        *val = sid;
        return 1;
    }
    case PB_TAG(2, PB_VARINT):
    case PB_TAG(3, PB_VARINT):
        if (pb_read_varint(&p, end, &v) || p != end) return 0;
        *tag = t == PB_TAG(2, PB_VARINT) ? OTTL_V_BOOL : OTTL_V_INT;
        *val = t == PB_TAG(2, PB_VARINT) ? (v != 0) : (int64_t)v;
        return 1;
    case PB_TAG(4, PB_I64):
        if (end - p != 8 || pb_read_fixed64(&p, end, &v)) return 0;
        *tag = OTTL_V_DOUBLE;
        *val = (int64_t)v;
        return 1;
    default:
        return 0;
    }
}

/* The general KeyValue: no predictions (see fast_attribute for the usual shape). */
static int dec_keyvalue(dec_t *d, const uint8_t *p, const uint8_t *end, int depth, int32_t *key,
                        uint8_t *tag, int64_t *val) {
    *key = 0;
    *tag = OTTL_V_NONE;
    *val = 0;
    DEC_FIELDS_BEGIN
    case 1:
        DEC_STRING("key", key, 1);
        break;
    case 2: {
        DEC_SUB("value");
        dec_push(d, "value", -1);
        int rc = dec_scalar(d, p, sub, tag, val);
        if (rc < 0) return -1;
        if (!rc && dec_anyvalue(d, p, sub, depth, tag, val)) return -1;
        dec_pop(d);
        p = sub;
        break;
    }
    DEC_FIELDS_END
    return 0;
}

/* The entries of an ArrayValue (kv = 0) or KeyValueList (kv = 1), pushed on the stack above
 * mark, the start of the enclosing AnyValue's children. */
static int dec_container(dec_t *d, const uint8_t *p, const uint8_t *end, int depth, size_t mark,
                         int kv) {
    DEC_FIELDS_BEGIN
    case 1: {
        DEC_SUB("values");
        size_t index = d->stack.n - mark;
        if (depth + 1 > OTTL_MAX_NESTING_DEPTH)
            return dec_fail(d, at, "values", "values nested deeper than %d levels",
                            OTTL_MAX_NESTING_DEPTH);
        if (index >= d->max_attrs)
            return dec_fail(d, at, "values", "more than %zu entries in one %s", d->max_attrs,
                            kv ? "kvlist" : "array");
        int32_t key = -1;
        uint8_t tag;
        int64_t val;
        dec_push(d, "values", (int32_t)index);
        if (kv) {
            if (dec_keyvalue(d, p, sub, depth + 1, &key, &tag, &val)) return -1;
        } else {
            if (dec_anyvalue(d, p, sub, depth + 1, &tag, &val)) return -1;
        }
        dec_pop(d);
        if (ottl_kvpool_push(&d->stack, key, tag, val)) return dec_nomem(d);
        p = sub;
        break;
    }
    DEC_FIELDS_END
    return 0;
}

static int dec_anyvalue(dec_t *d, const uint8_t *p, const uint8_t *end, int depth,
                        uint8_t *tag_out, int64_t *val_out) {
    size_t mark = d->stack.n;
    uint8_t tag = OTTL_V_EMPTY;
    int64_t val = 0;
    int32_t sid = 0;
    uint64_t v = 0;
    /* A oneof keeps the last member set; a repeated container member merges, as upb does. */
    DEC_FIELDS_BEGIN
    case 1:
        DEC_STRING("string_value", &sid, 1);
        d->stack.n = mark;
        tag = OTTL_V_STRING;
        val = sid;
        break;
    case 2:
        DEC_VARINT("bool_value", v, uint64_t);
        d->stack.n = mark;
        tag = OTTL_V_BOOL;
        val = v != 0;
        break;
    case 3:
        DEC_VARINT("int_value", v, uint64_t);
        d->stack.n = mark;
        tag = OTTL_V_INT;
        val = (int64_t)v;
        break;
    case 4:
        DEC_FIXED64("double_value", v);
        d->stack.n = mark;
        tag = OTTL_V_DOUBLE;
        val = (int64_t)v;
        break;
    case 5:
    case 6: {
        const char *name = field == 5 ? "array_value" : "kvlist_value";
        uint8_t want = field == 5 ? OTTL_V_ARRAY : OTTL_V_KVLIST;
        DEC_SUB(name);
        if (tag != want) {
            d->stack.n = mark;
            tag = want;
        }
        dec_push(d, name, -1);
        if (dec_container(d, p, sub, depth, mark, field == 6)) return -1;
        dec_pop(d);
        p = sub;
        break;
    }
    case 7:
        DEC_STRING("bytes_value", &sid, 0);
        d->stack.n = mark;
        tag = OTTL_V_BYTES;
        val = sid;
        break;
    case 8:
        DEC_VARINT("string_value_strindex", v, uint64_t);
        d->stack.n = mark;
        tag = OTTL_V_STRINDEX;
        val = (int32_t)(uint32_t)v;
        break;
    DEC_FIELDS_END
    if (tag == OTTL_V_ARRAY || tag == OTTL_V_KVLIST) {
        /* Children are complete: move them into the pool as one contiguous run. */
        ottl_kvpool *pool = &d->b->values;
        size_t count = d->stack.n - mark;
        if (ottl_kvpool_reserve(pool, count)) return dec_nomem(d);
        size_t start = pool->n;
        if (count) {
            memcpy(pool->key + start, d->stack.key + mark, count * sizeof *pool->key);
            memcpy(pool->tag + start, d->stack.tag + mark, count * sizeof *pool->tag);
            memcpy(pool->val + start, d->stack.val + mark, count * sizeof *pool->val);
            memcpy(pool->src + start, d->stack.src + mark, count * sizeof *pool->src);
        }
        pool->n += count;
        d->stack.n = mark;
        val = (int64_t)((uint64_t)start | ((uint64_t)count << 32));
    }
    *tag_out = tag;
    *val_out = val;
    return 0;
}

int dec_value(dec_t *d, const uint8_t *p, const uint8_t *end, uint8_t *tag, int64_t *val) {
    return dec_anyvalue(d, p, end, 1, tag, val);
}

/* Every shape but fast_attribute's, through the general KeyValue loop with the error
 * bookkeeping (the attribute's own path frame included). Kept out of line so the fast path's
 * caller stays small. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
static int slow_attribute(dec_t *d, const uint8_t *p, const uint8_t *end, int32_t index,
                          int32_t *key, uint8_t *tag, int64_t *val) {
    dec_push(d, "attributes", index); /* on an error it stays: the message names the path */
    if (PB_UNLIKELY((size_t)index >= d->max_attrs))
        return dec_fail(d, p, NULL, "more than %zu attributes", d->max_attrs);
    if (dec_keyvalue(d, p, end, 1, key, tag, val)) return -1;
    dec_pop(d);
    return 0;
}

int dec_attribute_slow(dec_t *d, const uint8_t *p, const uint8_t *end, ottl_kvpool *pool,
                       int32_t *count, int32_t src) {
    int32_t key;
    uint8_t tag;
    int64_t val;
    int32_t n = *count;
    if (slow_attribute(d, p, end, n, &key, &tag, &val)) return -1;
    if (ottl_kvpool_push_src(pool, key, tag, val, src)) return dec_nomem(d);
    *count = n + 1;
    return 0;
}

/* ---- resources and scopes ---- */

/* Only checked, not stored as fields: the message is kept as its bytes, but must be as valid
 * as the official parser requires (UTF-8 strings, sound framing). */
static int dec_entity_ref(dec_t *d, const uint8_t *p, const uint8_t *end) {
    static const char *const names[] = {"", "schema_url", "type", "id_keys", "description_keys"};
    int32_t sid;
    DEC_FIELDS_BEGIN
    case 1:
    case 2:
    case 3:
    case 4:
        DEC_STRING(names[field], &sid, 1);
        break;
    DEC_FIELDS_END
    return 0;
}

static int dec_resource(dec_t *d, const uint8_t *p, const uint8_t *end, uint32_t *dropped,
                        int32_t *nattr, int32_t *nentity) {
    ottl_batch *b = d->b;
    DEC_FIELDS_BEGIN
    case 1:
        DEC_ATTRIBUTE("attributes", &b->resource_attrs, *nattr, DEC_H_RESOURCE);
        break;
    case 2:
        DEC_VARINT("dropped_attributes_count", *dropped, uint32_t);
        break;
    case 3: {
        /* Entity references are kept as their raw message bytes: the engine does not read
         * them, and re-emitting the bytes keeps them exact. */
        int32_t sid = 0;
        DEC_SUB("entity_refs");
        dec_push(d, "entity_refs", (*nentity)++);
        if (dec_entity_ref(d, p, sub)) return -1;
        dec_pop(d);
        if (dec_string(d, p, (size_t)(sub - p), 0, &sid, "entity_refs")) return -1;
        p = sub;
        if (b->entity_n >= b->entity_cap) {
            size_t cap = b->entity_cap ? 2 * b->entity_cap : 16;
            int32_t *e = realloc(b->entity_refs, cap * sizeof *e);
            if (!e) return dec_nomem(d);
            b->entity_refs = e;
            b->entity_cap = cap;
        }
        b->entity_refs[b->entity_n++] = sid;
        break;
    }
    DEC_FIELDS_END
    return 0;
}

static int dec_scope(dec_t *d, const uint8_t *p, const uint8_t *end, int32_t *name,
                     int32_t *version, uint32_t *dropped, int32_t *nattr) {
    ottl_batch *b = d->b;
    DEC_FIELDS_BEGIN
    case 1:
        DEC_STRING("name", name, 1);
        break;
    case 2:
        DEC_STRING("version", version, 1);
        break;
    case 3:
        DEC_ATTRIBUTE("attributes", &b->scope_attrs, *nattr, DEC_H_SCOPE);
        break;
    case 4:
        DEC_VARINT("dropped_attributes_count", *dropped, uint32_t);
        break;
    DEC_FIELDS_END
    return 0;
}

static size_t record_count(const ottl_batch *b) {
    return b->kind == OTTL_BATCH_SPANS ? b->spans.n : b->logs.n;
}

static int dec_scope_group(dec_t *d, const uint8_t *p, const uint8_t *end, int32_t resource) {
    ottl_batch *b = d->b;
    ottl_scopes *t = &b->scopes;
    if (t->n + 1 > t->cap && ottl_scopes_reserve(t, t->n + 1)) return dec_nomem(d);
    int32_t row = (int32_t)t->n;
    uint8_t present = 0;
    int32_t name = 0, version = 0, schema = 0, nattr = 0, nrec = 0;
    uint32_t dropped = 0;
    int64_t attr_start = (int64_t)b->scope_attrs.n;
    int64_t rec_start = (int64_t)record_count(b);
    DEC_FIELDS_BEGIN
    case 1: {
        DEC_SUB("scope");
        present = 1;
        dec_push(d, "scope", -1);
        if (dec_scope(d, p, sub, &name, &version, &dropped, &nattr)) return -1;
        dec_pop(d);
        p = sub;
        break;
    }
    case 2: {
        DEC_SUB(d->record_name);
        if (PB_UNLIKELY(at[0] != PB_TAG(2, PB_LEN) ||
                        (size_t)(p - at) != 1 + pb_varint_size((uint64_t)(sub - p))))
            d->b->frames_minimal = 0;
        dec_push(d, d->record_name, nrec);
        if (d->record(d, p, sub, row, resource)) return -1;
        dec_pop(d);
        nrec++;
        p = sub;
        break;
    }
    case 3:
        DEC_STRING("schema_url", &schema, 1);
        break;
    DEC_FIELDS_END
    t->resource[row] = resource;
    t->present[row] = present;
    t->name[row] = name;
    t->version[row] = version;
    t->schema_url[row] = schema;
    t->dropped[row] = dropped;
    t->attr_off[row] = attr_start;
    t->rec_off[row] = rec_start;
    t->n++;
    return 0;
}

static int dec_resource_group(dec_t *d, const uint8_t *p, const uint8_t *end) {
    ottl_batch *b = d->b;
    ottl_resources *t = &b->resources;
    if (t->n + 1 > t->cap && ottl_resources_reserve(t, t->n + 1)) return dec_nomem(d);
    int32_t row = (int32_t)t->n;
    uint8_t present = 0;
    int32_t schema = 0, nattr = 0, nscope = 0, nentity = 0;
    uint32_t dropped = 0;
    int64_t attr_start = (int64_t)b->resource_attrs.n;
    int64_t scope_start = (int64_t)b->scopes.n;
    int64_t entity_start = (int64_t)b->entity_n;
    DEC_FIELDS_BEGIN
    case 1: {
        DEC_SUB("resource");
        present = 1;
        dec_push(d, "resource", -1);
        if (dec_resource(d, p, sub, &dropped, &nattr, &nentity)) return -1;
        dec_pop(d);
        p = sub;
        break;
    }
    case 2: {
        DEC_SUB(d->scope_group_name);
        dec_push(d, d->scope_group_name, nscope);
        if (dec_scope_group(d, p, sub, row)) return -1;
        dec_pop(d);
        nscope++;
        p = sub;
        break;
    }
    case 3:
        DEC_STRING("schema_url", &schema, 1);
        break;
    DEC_FIELDS_END
    t->present[row] = present;
    t->dropped[row] = dropped;
    t->schema_url[row] = schema;
    t->attr_off[row] = attr_start;
    t->scope_off[row] = scope_start;
    t->entity_off[row] = entity_start;
    t->n++;
    return 0;
}

/* The resource groups in [p, end), the first of them numbered first_group in error paths. */
static int dec_request(dec_t *d, const uint8_t *p, const uint8_t *end, int32_t first_group) {
    int32_t n = first_group;
    DEC_FIELDS_BEGIN
    case 1: {
        DEC_SUB(d->group_name);
        dec_push(d, d->group_name, n);
        if (dec_resource_group(d, p, sub)) return -1;
        dec_pop(d);
        n++;
        p = sub;
        break;
    }
    DEC_FIELDS_END
    return 0;
}

/* Closing CSR entries, so every offset column has n + 1 valid entries even when n is 0. */
static int finish(dec_t *d) {
    ottl_batch *b = d->b;
    if (ottl_resources_reserve(&b->resources, 1) || ottl_scopes_reserve(&b->scopes, 1) ||
        ottl_spans_reserve(&b->spans, 1) || ottl_events_reserve(&b->events, 1) ||
        ottl_links_reserve(&b->links, 1) || ottl_logs_reserve(&b->logs, 1))
        return dec_nomem(d);
    ottl_resources *r = &b->resources;
    r->attr_off[r->n] = (int64_t)b->resource_attrs.n;
    r->scope_off[r->n] = (int64_t)b->scopes.n;
    r->entity_off[r->n] = (int64_t)b->entity_n;
    ottl_scopes *s = &b->scopes;
    s->attr_off[s->n] = (int64_t)b->scope_attrs.n;
    s->rec_off[s->n] = (int64_t)record_count(b);
    ottl_spans *sp = &b->spans;
    sp->attr_off[sp->n] = (int64_t)b->span_attrs.n;
    sp->event_off[sp->n] = (int64_t)b->events.n;
    sp->link_off[sp->n] = (int64_t)b->links.n;
    b->events.attr_off[b->events.n] = (int64_t)b->event_attrs.n;
    b->links.attr_off[b->links.n] = (int64_t)b->link_attrs.n;
    b->logs.attr_off[b->logs.n] = (int64_t)b->log_attrs.n;
    return 0;
}

int dec_grow_key_record(dec_t *d, int32_t key) {
    size_t cap = d->key_record_cap ? d->key_record_cap : 256;
    while (cap <= (size_t)key) cap *= 2;
    int32_t *grown = realloc(d->key_record, cap * sizeof *grown);
    if (!grown) return dec_nomem(d);
    memset(grown + d->key_record_cap, 0, (cap - d->key_record_cap) * sizeof *grown);
    d->key_record = grown;
    d->key_record_cap = cap;
    return 0;
}

/* The projection's keys as string ids (interned ahead: the record's keys then match them by
 * id). More keys than OTTL_MAX_PROJECTED_KEYS: no projection. */
static int project(dec_t *d, const ottl_projection *proj) {
    d->b->attrs_projected = 0;
    if (!proj || proj->n > OTTL_MAX_PROJECTED_KEYS) return 0;
    for (size_t i = 0; i < proj->n; i++) {
        int32_t id = ottl_strtab_intern(&d->b->strings, (const uint8_t *)proj->keys[i],
                                        proj->lens[i]);
        if (id < 0) return dec_nomem(d);
        d->keep[i] = id;
    }
    d->nkeep = (int)proj->n;
    d->opaque = proj->keep_others != 0;
    d->b->attrs_projected = d->opaque ? 2 : 1;
    return 0;
}

int dec_run(ottl_batch *reuse, const uint8_t *data, size_t len, const ottl_decode_options *opt,
            const ottl_projection *proj, int kind, ottl_batch **out, ottl_decode_error *err) {
    static const uint8_t empty[1] = {0};
    if (!data) data = empty;
    /* An oversize payload is refused by dec_part before anything is cut. */
    if (len > (size_t)OTTL_MAX_PAYLOAD_SIZE)
        return dec_part(reuse, data, len, data, data + len, 0, opt, proj, kind, out, err);
    return dec_parallel(reuse, data, len, opt, proj, kind, out, err);
}

int dec_part(ottl_batch *reuse, const uint8_t *data, size_t len, const uint8_t *from,
             const uint8_t *to, int32_t first_group, const ottl_decode_options *opt,
             const ottl_projection *proj, int kind, ottl_batch **out, ottl_decode_error *err) {
    memset(err, 0, sizeof *err);
    *out = NULL;
    /* The context, path frames included, lives on the C stack: a few kilobytes. */
    dec_t dstore;
    dec_t *d = &dstore;
    memset(d, 0, offsetof(dec_t, path)); /* everything but the path frames */
    d->base = data;
    d->err = err;
    d->max_string = opt && opt->max_string_length > 0 ? (size_t)opt->max_string_length
                                                      : (size_t)OTTL_DEFAULT_MAX_STRING_LENGTH;
    d->max_attrs = opt && opt->max_attributes > 0 ? (size_t)opt->max_attributes
                                                  : (size_t)OTTL_DEFAULT_MAX_ATTRIBUTES;
    if (kind == OTTL_BATCH_SPANS) {
        d->group_name = "resource_spans";
        d->scope_group_name = "scope_spans";
        d->record_name = "spans";
    } else {
        d->group_name = "resource_logs";
        d->scope_group_name = "scope_logs";
        d->record_name = "log_records";
    }
    d->record = kind == OTTL_BATCH_SPANS ? dec_span_record : dec_log_record;
    int rc = 0;
    if (len > (size_t)OTTL_MAX_PAYLOAD_SIZE) {
        rc = dec_fail(d, data + 0, NULL, "payload of %zu bytes is over the limit of %d bytes",
                      len, OTTL_MAX_PAYLOAD_SIZE);
        err->offset = OTTL_MAX_PAYLOAD_SIZE;
    } else {
        if (reuse) {
            ottl_batch_reset(reuse, kind);
            d->b = reuse;
            reuse = NULL;
        } else {
            /* The first part's batch is joined by the others': room for the whole payload. */
            d->b = ottl_batch_new(kind, from == data ? len : (size_t)(to - from));
        }
        d->nkeep = -1;
        if (!d->b) {
            rc = dec_nomem(d);
        } else {
            d->b->span_attrs.unique = d->b->log_attrs.unique = 1; /* until a record repeats a key */
            d->b->frames_minimal = 1; /* until a record's frame is not */
            rc = project(d, proj);
        }
        if (!rc) rc = dec_request(d, from, to, first_group);
        if (!rc) rc = finish(d);
    }
    ottl_kvpool_release(&d->stack);
    free(d->key_record);
    if (rc) {
        /* Never a partial batch: everything decoded so far goes. */
        ottl_batch_free(d->b);
        ottl_batch_free(reuse);
        return err->code ? err->code : OTTL_DECODE_MALFORMED;
    }
    d->b->input = data;
    d->b->input_len = len;
    *out = d->b;
    return OTTL_DECODE_OK;
}

int ottl_decode_into(ottl_batch *reuse, int kind, const uint8_t *data, size_t len,
                     const ottl_decode_options *opt, ottl_batch **out, ottl_decode_error *err) {
    return dec_run(reuse, data, len, opt, NULL, kind, out, err);
}

int ottl_decode_projected(ottl_batch *reuse, int kind, const uint8_t *data, size_t len,
                          const ottl_decode_options *opt, const ottl_projection *proj,
                          ottl_batch **out, ottl_decode_error *err) {
    int rc = dec_run(reuse, data, len, opt, proj, kind, out, err);
    if (rc || (*out)->attrs_projected != 2) return rc;
    const ottl_kvpool *pool = kind == OTTL_BATCH_SPANS ? &(*out)->span_attrs : &(*out)->log_attrs;
    if (pool->unique) return rc;
    /* A record repeats a key: whole (see ottl_projection.keep_others), into the same batch. */
    ottl_batch *again = *out;
    *out = NULL;
    return dec_run(again, data, len, opt, NULL, kind, out, err);
}
