/* OTLP encoding shared by traces and logs: values, attributes, ids, and the resource / scope
 * framing with the selection mask. Writes backwards (see otlp_encode.h). */
#include "otlp_encode.h"

#include <string.h>

static int rw_kv(rw_t *w, const ottl_batch *b, int32_t key, uint8_t tag, int64_t val) {
    if (tag != OTTL_V_NONE) {
        size_t m = rw_used(w);
        RW_TRY(rw_value(w, b, tag, val));
        RW_TRY(rw_close(w, PB_TAG(2, PB_LEN), m));
    }
    return rw_str(w, b, PB_TAG(1, PB_LEN), key);
}

int rw_value(rw_t *w, const ottl_batch *b, uint8_t tag, int64_t val) {
    switch (tag) {
    case OTTL_V_STRING:
    case OTTL_V_BYTES:
        /* Oneof members are written even when empty: that is their presence. */
        return rw_bytes(w, PB_TAG(tag, PB_LEN), ottl_strtab_ptr(&b->strings, (int32_t)val),
                        ottl_strtab_len(&b->strings, (int32_t)val));
    case OTTL_V_BOOL:
        RW_ROOM(w, 2);
        *--w->p = val ? 1 : 0;
        *--w->p = PB_TAG(2, PB_VARINT);
        return 0;
    case OTTL_V_INT:
        RW_ROOM(w, 11);
        rw_varint(w, (uint64_t)val);
        *--w->p = PB_TAG(3, PB_VARINT);
        return 0;
    case OTTL_V_DOUBLE:
        RW_ROOM(w, 9);
        w->p -= 8;
        pb_put_fixed64(w->p, (uint64_t)val);
        *--w->p = PB_TAG(4, PB_I64);
        return 0;
    case OTTL_V_STRINDEX:
        RW_ROOM(w, 11);
        rw_varint(w, rw_i32((int32_t)val));
        *--w->p = PB_TAG(8, PB_VARINT);
        return 0;
    case OTTL_V_ARRAY:
    case OTTL_V_KVLIST: {
        const ottl_kvpool *v = &b->values;
        uint64_t s = (uint64_t)val & 0xffffffffu, e = s + ((uint64_t)val >> 32);
        size_t m = rw_used(w);
        for (uint64_t k = e; k-- > s;) {
            size_t mk = rw_used(w);
            if (tag == OTTL_V_ARRAY) RW_TRY(rw_value(w, b, v->tag[k], v->val[k]));
            else RW_TRY(rw_kv(w, b, v->key[k], v->tag[k], v->val[k]));
            RW_TRY(rw_close(w, PB_TAG(1, PB_LEN), mk));
        }
        return rw_close(w, PB_TAG(tag, PB_LEN), m);
    }
    default:
        return 0;
    }
}

/* Most attributes are a short key with a short string, an int or a bool: all their lengths
 * fit one byte and are known before writing, so the whole entry goes out front to back
 * after one room check. Returns 1 (nothing written) for any other shape. */
static inline int rw_kv_short(rw_t *w, const ottl_batch *b, uint8_t entry_tag, int32_t key,
                              uint8_t tag, int64_t val) {
    const ottl_strtab *t = &b->strings;
    size_t kl = ottl_strtab_len(t, key), vl = 0, any; /* any: the AnyValue's size */
    if (!key || kl > 0x7f) return 1;
    switch (tag) {
    case OTTL_V_STRING:
    case OTTL_V_BYTES:
        vl = ottl_strtab_len(t, (int32_t)val);
        any = 2 + vl;
        break;
    case OTTL_V_INT:
        any = 1 + pb_varint_size((uint64_t)val);
        break;
    case OTTL_V_BOOL:
        any = 2;
        break;
    default:
        return 1;
    }
    size_t body = 2 + kl + 2 + any; /* the KeyValue's size */
    if (body > 0x7f) return 1;
    if (PB_UNLIKELY((size_t)(w->p - w->start) < body + 2)) return -1;
    uint8_t *o = w->p -= body + 2;
    o[0] = entry_tag;
    o[1] = (uint8_t)body;
    o[2] = PB_TAG(1, PB_LEN);
    o[3] = (uint8_t)kl;
    pb_copy(o + 4, ottl_strtab_ptr(t, key), kl);
    o += 4 + kl;
    o[0] = PB_TAG(2, PB_LEN);
    o[1] = (uint8_t)any;
    switch (tag) {
    case OTTL_V_INT:
        o[2] = PB_TAG(3, PB_VARINT);
        pb_put_varint(o + 3, (uint64_t)val);
        break;
    case OTTL_V_BOOL:
        o[2] = PB_TAG(2, PB_VARINT);
        o[3] = val ? 1 : 0;
        break;
    default:
        o[2] = PB_TAG(tag, PB_LEN);
        o[3] = (uint8_t)vl;
        pb_copy(o + 4, ottl_strtab_ptr(t, (int32_t)val), vl);
    }
    return 0;
}

/* The input's bytes [from, to), copied. */
static inline int rw_input(rw_t *w, const ottl_batch *b, int64_t from, int64_t to) {
    size_t n = (size_t)(to - from);
    RW_ROOM(w, n);
    w->p -= n;
    memcpy(w->p, b->input + from, n);
    return 0;
}

/* The size of the attributes field the input holds at src: tag, length and content; 0 if the
 * bytes there are not such a field (they always are: the decoder checked them). */
static inline size_t src_size(const ottl_batch *b, int32_t src) {
    const uint8_t *p = b->input + src, *end = b->input + b->input_len;
    if (PB_LIKELY(end - p >= 2 && p[0] < 0x80 && p[1] < 0x80 && p[1] <= end - p - 2))
        return 2 + (size_t)p[1];
    uint32_t field;
    int wt;
    const uint8_t *sub;
    if (pb_read_tag(&p, end, &field, &wt) || wt != PB_LEN || pb_read_len(&p, end, &sub)) return 0;
    return (size_t)(sub - (b->input + src));
}

int rw_attrs(rw_t *w, const ottl_batch *b, const ottl_kvpool *pool, int64_t from, int64_t to,
             uint8_t tag) {
    for (int64_t k = to; k-- > from;) {
        size_t n;
        if (w->copy_input && pool->src[k] >= 0 && (n = src_size(b, pool->src[k])) != 0) {
            /* Entries still as decoded are copied, a run of them lying back to back in the
             * input with one copy. */
            size_t lo = (size_t)pool->src[k], hi = lo + n;
            while (k > from && pool->src[k - 1] >= 0 &&
                   (n = src_size(b, pool->src[k - 1])) != 0 &&
                   (size_t)pool->src[k - 1] + n == lo) {
                lo -= n;
                k--;
            }
            RW_TRY(rw_input(w, b, (int64_t)lo, (int64_t)hi));
            continue;
        }
        int rc = rw_kv_short(w, b, tag, pool->key[k], pool->tag[k], pool->val[k]);
        if (rc <= 0) {
            if (rc) return -1;
            continue;
        }
        size_t m = rw_used(w);
        RW_TRY(rw_kv(w, b, pool->key[k], pool->tag[k], pool->val[k]));
        RW_TRY(rw_close(w, tag, m));
    }
    return 0;
}

int rw_id(rw_t *w, const ottl_batch *b, int owner, size_t row, int field, uint8_t present,
          uint8_t bit, uint8_t irr_bit, const uint8_t *fixed, size_t width) {
    uint8_t tag = PB_TAG(field, PB_LEN);
    if (present & bit) return rw_bytes(w, tag, fixed, width);
    if (present & irr_bit) {
        const ottl_irregular *g = &b->irregular;
        for (size_t i = 0; i < g->n; i++)
            if (g->owner[i] == owner && g->field[i] == field && (size_t)g->row[i] == row)
                return rw_str(w, b, tag, g->sid[i]);
    }
    return 0;
}

/* ---- framing ---- */

int rw_resource(rw_t *w, const ottl_batch *b, size_t r) {
    const ottl_resources *t = &b->resources;
    for (int64_t k = t->entity_off[r + 1]; k-- > t->entity_off[r];)
        RW_TRY(rw_bytes(w, PB_TAG(3, PB_LEN), ottl_strtab_ptr(&b->strings, b->entity_refs[k]),
                        ottl_strtab_len(&b->strings, b->entity_refs[k])));
    RW_TRY(rw_uvarint(w, PB_TAG(2, PB_VARINT), t->dropped[r]));
    return rw_attrs(w, b, &b->resource_attrs, t->attr_off[r], t->attr_off[r + 1],
                    PB_TAG(1, PB_LEN));
}

int rw_scope(rw_t *w, const ottl_batch *b, size_t s) {
    const ottl_scopes *t = &b->scopes;
    RW_TRY(rw_uvarint(w, PB_TAG(4, PB_VARINT), t->dropped[s]));
    RW_TRY(rw_attrs(w, b, &b->scope_attrs, t->attr_off[s], t->attr_off[s + 1], PB_TAG(3, PB_LEN)));
    RW_TRY(rw_str(w, b, PB_TAG(2, PB_LEN), t->version[s]));
    return rw_str(w, b, PB_TAG(1, PB_LEN), t->name[s]);
}

int ottl_encode(const ottl_batch *b, const uint8_t *mask, int verbatim, uint8_t *buf, size_t cap,
                size_t *len) {
    rw_t w = {buf, buf + cap, buf + cap, verbatim && b->input};
    const ottl_resources *R = &b->resources;
    const ottl_scopes *S = &b->scopes;
    int spans = b->kind == OTTL_BATCH_SPANS;
    const int64_t *byte_start = spans ? b->spans.byte_start : b->logs.byte_start;
    const int64_t *byte_end = spans ? b->spans.byte_end : b->logs.byte_end;
    const int64_t *attrs_at = spans ? b->spans.attrs_at : b->logs.attrs_at;
    const int64_t *attrs_end = spans ? b->spans.attrs_end : b->logs.attrs_end;
    const int64_t *attr_off = spans ? b->spans.attr_off : b->logs.attr_off;
    const ottl_kvpool *pool = spans ? &b->span_attrs : &b->log_attrs;
    const uint8_t attr_tag = spans ? PB_TAG(9, PB_LEN) : PB_TAG(6, PB_LEN);
    for (size_t r = R->n; r-- > 0;) {
        size_t mr = rw_used(&w), kept_scopes = 0;
        RW_TRY(rw_str(&w, b, PB_TAG(3, PB_LEN), R->schema_url[r]));
        for (int64_t s = R->scope_off[r + 1]; s-- > R->scope_off[r];) {
            size_t ms = rw_used(&w), kept = 0;
            RW_TRY(rw_str(&w, b, PB_TAG(3, PB_LEN), S->schema_url[s]));
            for (int64_t i = S->rec_off[s + 1]; i-- > S->rec_off[s];) {
                if (mask && !mask[i]) continue;
                size_t mi = rw_used(&w);
                uint8_t dirty = b->dirty ? b->dirty[i] : 0;
                if (verbatim && !dirty) {
                    RW_TRY(rw_input(&w, b, byte_start[i], byte_end[i]));
                } else if (verbatim && dirty == OTTL_DIRTY_ATTRS && attrs_at[i] >= 0) {
                    /* Only the attributes changed: the input around them, and between, the
                     * attributes written anew (their unchanged entries copied, see
                     * rw_attrs). */
                    RW_TRY(rw_input(&w, b, attrs_end[i], byte_end[i]));
                    RW_TRY(rw_attrs(&w, b, pool, attr_off[i], attr_off[i + 1], attr_tag));
                    RW_TRY(rw_input(&w, b, byte_start[i], attrs_at[i]));
                } else {
                    RW_TRY(spans ? rw_span(&w, b, (size_t)i) : rw_log(&w, b, (size_t)i));
                }
                RW_TRY(rw_close(&w, PB_TAG(2, PB_LEN), mi));
                kept++;
            }
            if (mask && !kept) {
                /* A scope the mask emptied is dropped, schema_url and all. */
                w.p = w.end - ms;
                continue;
            }
            if (S->present[s]) {
                size_t m = rw_used(&w);
                RW_TRY(rw_scope(&w, b, (size_t)s));
                RW_TRY(rw_close(&w, PB_TAG(1, PB_LEN), m));
            }
            RW_TRY(rw_close(&w, PB_TAG(2, PB_LEN), ms));
            kept_scopes++;
        }
        if (mask && !kept_scopes) {
            w.p = w.end - mr;
            continue;
        }
        if (R->present[r]) {
            size_t m = rw_used(&w);
            RW_TRY(rw_resource(&w, b, r));
            RW_TRY(rw_close(&w, PB_TAG(1, PB_LEN), m));
        }
        RW_TRY(rw_close(&w, PB_TAG(1, PB_LEN), mr));
    }
    *len = rw_used(&w);
    return 0;
}
