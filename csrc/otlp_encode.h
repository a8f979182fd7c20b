/*
 * Shared pieces of the OTLP encoders (otlp_encode.c, otlp_encode_traces.c,
 * otlp_encode_logs.c); not a public header.
 *
 * The encoder writes backwards, from the end of the buffer towards its start, as upb does: a
 * message's content is written before its length prefix, so the length is simply the number
 * of bytes written since the message began, and one pass suffices (no size pass). Fields go
 * out in reverse field-number order so that the result reads in ascending order.
 *
 * Every writer returns 0, or -1 when the buffer has no room left; the caller then retries with
 * a larger buffer.
 */
#ifndef OTTL_OTLP_ENCODE_H
#define OTTL_OTLP_ENCODE_H

#include "otlp_batch.h"
#include "pbwire.h"

typedef struct {
    uint8_t *start; /* the buffer */
    uint8_t *end;   /* its end: output is [p, end) */
    uint8_t *p;
    /* Set by a verbatim encode: attributes still as decoded are copied from the input (see
     * ottl_kvpool.src); 0: everything is written from the columns. */
    int copy_input;
} rw_t;

#define RW_ROOM(w, n)                                                        \
    do {                                                                     \
        if (PB_UNLIKELY((size_t)((w)->p - (w)->start) < (size_t)(n))) return -1; \
    } while (0)
#define RW_TRY(x)            \
    do {                     \
        if (x) return -1;    \
    } while (0)

static inline size_t rw_used(const rw_t *w) { return (size_t)(w->end - w->p); }

/* Unchecked: the caller made room. */
static inline void rw_varint(rw_t *w, uint64_t v) {
    if (PB_LIKELY(v < 0x80)) {
        *--w->p = (uint8_t)v;
        return;
    }
    size_t n = pb_varint_size(v);
    w->p -= n;
    pb_put_varint(w->p, v);
}

/* The length prefix and tag of a length-delimited field whose content began at used() ==
 * mark. */
static inline int rw_close(rw_t *w, uint8_t tag, size_t mark) {
    RW_ROOM(w, 11);
    rw_varint(w, rw_used(w) - mark);
    *--w->p = tag;
    return 0;
}

static inline int rw_bytes(rw_t *w, uint8_t tag, const void *data, size_t n) {
    RW_ROOM(w, n + 11);
    w->p -= n;
    pb_copy(w->p, data, n);
    rw_varint(w, n);
    *--w->p = tag;
    return 0;
}

/* proto3 omits empty strings and zero scalars. */
static inline int rw_str(rw_t *w, const ottl_batch *b, uint8_t tag, int32_t sid) {
    if (!sid) return 0;
    return rw_bytes(w, tag, ottl_strtab_ptr(&b->strings, sid), ottl_strtab_len(&b->strings, sid));
}

static inline int rw_uvarint(rw_t *w, uint8_t tag, uint64_t v) {
    if (!v) return 0;
    RW_ROOM(w, 11);
    rw_varint(w, v);
    *--w->p = tag;
    return 0;
}

/* Enums and int32 go on the wire sign-extended to 64 bits. */
static inline uint64_t rw_i32(int32_t v) { return (uint64_t)(int64_t)v; }

static inline int rw_fixed64(rw_t *w, uint8_t tag, uint64_t v) {
    if (!v) return 0;
    RW_ROOM(w, 9);
    w->p -= 8;
    pb_put_fixed64(w->p, v);
    *--w->p = tag;
    return 0;
}

static inline int rw_fixed32(rw_t *w, uint32_t field, uint32_t v) {
    if (!v) return 0;
    RW_ROOM(w, 6);
    w->p -= 4;
    pb_put_fixed32(w->p, v);
    rw_varint(w, (field << 3) | PB_I32);
    return 0;
}

int rw_value(rw_t *w, const ottl_batch *b, uint8_t tag, int64_t val);
int rw_attrs(rw_t *w, const ottl_batch *b, const ottl_kvpool *pool, int64_t from, int64_t to,
             uint8_t tag);
int rw_id(rw_t *w, const ottl_batch *b, int owner, size_t row, int field, uint8_t present,
          uint8_t bit, uint8_t irr_bit, const uint8_t *fixed, size_t width);

/* A Resource's / an InstrumentationScope's content (the framing writes the field around it). */
int rw_resource(rw_t *w, const ottl_batch *b, size_t r);
int rw_scope(rw_t *w, const ottl_batch *b, size_t s);

/* Per signal: one record's content. */
int rw_span(rw_t *w, const ottl_batch *b, size_t i);
int rw_log(rw_t *w, const ottl_batch *b, size_t i);

#endif /* OTTL_OTLP_ENCODE_H */
