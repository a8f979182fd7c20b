/*
 * The attribute fast path, inlined into every record decoder (spans, events, links, logs):
 * an attribute is the innermost loop of a decode, and inlining it took a fifth off the
 * instructions of a decode. Also the projection's check-and-drop of the attributes a filter
 * does not read. Not a public header; included after otlp_decode.h.
 */
#ifndef OTTL_OTLP_DECODE_ATTR_H
#define OTTL_OTLP_DECODE_ATTR_H

#include "otlp_decode.h"
#include "utf8.h"

PB_INLINE int same_string(const ottl_strtab *t, int32_t id, const uint8_t *p, size_t len) {
    return (size_t)(t->off[id + 1] - t->off[id]) == len &&
           ottl_bytes_eq(t->arena + t->off[id], p, len);
}

/* A string's id: the predicted one (*hint) when the last string here was it (*hit) and this
 * one is too, else the table's; 0 when the string is too long or not UTF-8 (or memory ran
 * out): the caller then takes the path that reports it. */
PB_INLINE int fast_string(dec_t *d, const uint8_t *p, size_t len, int32_t *hint, uint8_t *hit,
                          int32_t *out) {
    ottl_strtab *t = &d->b->strings;
    int32_t h = *hint;
    if (*hit && same_string(t, h, p, len)) {
        *out = h;
        return 1;
    }
    if (PB_UNLIKELY(len > d->max_string)) return 0;
    int32_t id = ottl_strtab_intern(t, p, len);
    if (PB_UNLIKELY(id < 0)) return 0;
    if (PB_UNLIKELY(!t->utf8[id])) {
        if (ottl_utf8_check(p, len) != len) return 0;
        t->utf8[id] = 1;
    }
    *hit = id == h;
    *hint = *out = id;
    return 1;
}

/* The most common KeyValue exactly: one-byte lengths, the key, then a value holding one
 * scalar, nothing else. No error bookkeeping: anything unusual (or wrong) returns 0 and the
 * caller decodes the attribute again the general way, which reports errors with their path.
 * Strings interned on the way are harmless then. */
PB_INLINE int fast_attribute(dec_t *d, const uint8_t *p, const uint8_t *end, int32_t *kh,
                             uint8_t *khit, int32_t *vh, uint8_t *vhit, int32_t *key,
                             uint8_t *tag, int64_t *val) {
    if (end - p < 4 || p[0] != PB_TAG(1, PB_LEN) || p[1] >= 0x80) return 0;
    const uint8_t *k = p + 2, *kend = k + p[1];
    if (end - kend < 2 || kend[0] != PB_TAG(2, PB_LEN) || kend[1] >= 0x80) return 0;
    const uint8_t *v = kend + 2, *vend = v + kend[1];
    if (vend != end) return 0;
    if (v == vend) {
        *tag = OTTL_V_EMPTY;
        *val = 0;
    } else {
        uint8_t t = v[0];
        const uint8_t *q = v + 1;
        uint64_t x;
        switch (t) {
        case PB_TAG(1, PB_LEN): {
            if (q >= vend || q[0] >= 0x80 || q + 1 + q[0] != vend) return 0;
            int32_t sid;
            if (!fast_string(d, q + 1, q[0], vh, vhit, &sid)) return 0;
            *tag = OTTL_V_STRING;
            *val = sid;
            break;
        }
        case PB_TAG(2, PB_VARINT):
        case PB_TAG(3, PB_VARINT):
            if (pb_read_varint(&q, vend, &x) || q != vend) return 0;
            *tag = t == PB_TAG(2, PB_VARINT) ? OTTL_V_BOOL : OTTL_V_INT;
            *val = t == PB_TAG(2, PB_VARINT) ? (x != 0) : (int64_t)x;
            break;
        case PB_TAG(4, PB_I64):
            if (vend - q != 8 || pb_read_fixed64(&q, vend, &x)) return 0;
            *tag = OTTL_V_DOUBLE;
            *val = (int64_t)x;
            break;
        default:
            return 0;
        }
    }
    return fast_string(d, k, (size_t)(kend - k), kh, khit, key);
}

/* Under a projection, a record attribute whose key is not kept: checked as fast_attribute
 * checks it (one-byte lengths, one scalar; a string value within the length limit and valid
 * UTF-8), its key's id in *key, its value not read further. 1: such an attribute; 0: a kept
 * key or another shape, to be decoded whole (which reports any error). */
PB_INLINE int skip_attribute(dec_t *d, const uint8_t *p, const uint8_t *end, int32_t *kh,
                             uint8_t *khit, int32_t *key_out) {
    if (end - p < 4 || p[0] != PB_TAG(1, PB_LEN) || p[1] >= 0x80) return 0;
    const uint8_t *k = p + 2, *kend = k + p[1];
    if (end - kend < 2 || kend[0] != PB_TAG(2, PB_LEN) || kend[1] >= 0x80) return 0;
    const uint8_t *v = kend + 2, *vend = v + kend[1];
    if (vend != end) return 0;
    int32_t key;
    if (!fast_string(d, k, (size_t)(kend - k), kh, khit, &key)) return 0;
    *key_out = key;
    for (int i = 0; i < d->nkeep; i++)
        if (d->keep[i] == key) return 0;
    if (v == vend) return 1;
    const uint8_t *q = v + 1;
    uint64_t x;
    switch (v[0]) {
    case PB_TAG(1, PB_LEN):
        if (q >= vend || q[0] >= 0x80 || q + 1 + q[0] != vend) return 0;
        return q[0] <= d->max_string && ottl_utf8_check(q + 1, q[0]) == q[0];
    case PB_TAG(2, PB_VARINT):
    case PB_TAG(3, PB_VARINT):
        return !pb_read_varint(&q, vend, &x) && q == vend;
    case PB_TAG(4, PB_I64):
        return vend - q == 8;
    default:
        return 0;
    }
}

/* Every other shape (and every error), through the general KeyValue loop; appends to pool. */
int dec_attribute_slow(dec_t *d, const uint8_t *p, const uint8_t *end, ottl_kvpool *pool,
                       int32_t *count, int32_t src);

/* One KeyValue (an "attributes" entry) appended to pool; *count is the owner's attribute count
 * so far; hints is the owner's DEC_H_* row; at is where the entry's field begins (its tag). */
PB_INLINE int dec_attribute(dec_t *d, const uint8_t *at, const uint8_t *p, const uint8_t *end,
                            ottl_kvpool *pool, int32_t *count, int hints) {
    int32_t src = (int32_t)(at - d->base);
    int32_t key;
    uint8_t tag;
    int64_t val;
    int32_t n = *count;
    int fast = 0;
    if (PB_LIKELY(n < DEC_HINTS && (size_t)n < d->max_attrs)) {
        int32_t *kh = &d->hint_key[hints][n];
        uint8_t *khit = &d->hint_key_hit[hints][n];
        if ((hints == DEC_H_SPAN || hints == DEC_H_LOG) && d->nkeep >= 0 &&
            skip_attribute(d, p, end, kh, khit, &key)) {
            *count = n + 1;
            if (!d->opaque) return 0; /* dropped */
            if (ottl_kvpool_push_src(pool, key, OTTL_V_OPAQUE, 0, src)) return dec_nomem(d);
            return dec_note_key(d, pool, key);
        }
        fast = fast_attribute(d, p, end, kh, khit, &d->hint_val[hints][n],
                              &d->hint_val_hit[hints][n], &key, &tag, &val) &&
               PB_LIKELY(!ottl_kvpool_push_src(pool, key, tag, val, src));
    }
    if (fast) *count = n + 1;
    else if (dec_attribute_slow(d, p, end, pool, count, src)) return -1;
    /* A record's own attributes: note a repeated key (ottl_kvpool.unique). */
    if (hints != DEC_H_SPAN && hints != DEC_H_LOG) return 0;
    return dec_note_key(d, pool, pool->key[pool->n - 1]);
}

#endif /* OTTL_OTLP_DECODE_ATTR_H */
