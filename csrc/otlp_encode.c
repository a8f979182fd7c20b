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

int rw_attrs(rw_t *w, const ottl_batch *b, const ottl_kvpool *pool, int64_t from, int64_t to,
             uint8_t tag) {
    for (int64_t k = to; k-- > from;) {
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
    rw_t w = {buf, buf + cap, buf + cap};
    const ottl_resources *R = &b->resources;
    const ottl_scopes *S = &b->scopes;
    int spans = b->kind == OTTL_BATCH_SPANS;
    const int64_t *byte_start = spans ? b->spans.byte_start : b->logs.byte_start;
    const int64_t *byte_end = spans ? b->spans.byte_end : b->logs.byte_end;
    for (size_t r = R->n; r-- > 0;) {
        size_t mr = rw_used(&w), kept_scopes = 0;
        RW_TRY(rw_str(&w, b, PB_TAG(3, PB_LEN), R->schema_url[r]));
        for (int64_t s = R->scope_off[r + 1]; s-- > R->scope_off[r];) {
            size_t ms = rw_used(&w), kept = 0;
            RW_TRY(rw_str(&w, b, PB_TAG(3, PB_LEN), S->schema_url[s]));
            for (int64_t i = S->rec_off[s + 1]; i-- > S->rec_off[s];) {
                if (mask && !mask[i]) continue;
                size_t mi = rw_used(&w);
                if (verbatim && !(b->dirty && b->dirty[i])) {
                    size_t n = (size_t)(byte_end[i] - byte_start[i]);
                    RW_ROOM(&w, n);
                    w.p -= n;
                    memcpy(w.p, b->input + byte_start[i], n);
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
