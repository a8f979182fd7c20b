/*
 * Shared pieces of the OTLP encoders (otlp_encode.c, otlp_encode_traces.c,
 * otlp_encode_logs.c); not a public header.
 *
 * Sizes come first (protobuf writes a message's length before it), then one write pass into a
 * buffer of exactly the planned size. The *_size functions give a message's content size; a
 * field around it adds its tag and length prefix.
 */
#ifndef OTTL_OTLP_ENCODE_H
#define OTTL_OTLP_ENCODE_H

#include "otlp_batch.h"
#include "pbwire.h"

/* Bytes of a length-delimited field with a one-byte tag around content of n bytes. */
static inline size_t enc_field(size_t n) { return 1 + pb_varint_size(n) + n; }

static inline size_t enc_str_size(const ottl_batch *b, int32_t sid) {
    return sid ? enc_field(ottl_strtab_len(&b->strings, sid)) : 0;
}

static inline uint8_t *enc_str(const ottl_batch *b, uint8_t tag, int32_t sid, uint8_t *o) {
    if (!sid) return o;
    return pb_put_bytes(o, tag, ottl_strtab_ptr(&b->strings, sid),
                        ottl_strtab_len(&b->strings, sid));
}

/* proto3 omits zero scalars; enums and int32 are sign-extended to 64 bits on the wire. */
static inline size_t enc_varint_size(uint64_t v) { return v ? 1 + pb_varint_size(v) : 0; }
static inline uint8_t *enc_varint(uint8_t tag, uint64_t v, uint8_t *o) {
    if (!v) return o;
    *o++ = tag;
    return pb_put_varint(o, v);
}
static inline uint64_t enc_i32(int32_t v) { return (uint64_t)(int64_t)v; }

size_t enc_container_size(const ottl_batch *b, uint8_t tag, int64_t val);

/* Content size of an AnyValue; inline because scalars are nearly every value. */
static inline size_t enc_value_size(const ottl_batch *b, uint8_t tag, int64_t val) {
    switch (tag) {
    case OTTL_V_STRING:
    case OTTL_V_BYTES:
        /* Oneof members are written even when empty: that is their presence. */
        return enc_field(ottl_strtab_len(&b->strings, (int32_t)val));
    case OTTL_V_BOOL:
        return 2;
    case OTTL_V_INT:
        return 1 + pb_varint_size((uint64_t)val);
    case OTTL_V_DOUBLE:
        return 9;
    case OTTL_V_STRINDEX:
        return 1 + pb_varint_size(enc_i32((int32_t)val));
    case OTTL_V_ARRAY:
    case OTTL_V_KVLIST:
        return enc_field(enc_container_size(b, tag, val));
    default:
        return 0;
    }
}

static inline size_t enc_kv_size(const ottl_batch *b, int32_t key, uint8_t tag, int64_t val) {
    size_t n = enc_str_size(b, key);
    if (tag != OTTL_V_NONE) n += enc_field(enc_value_size(b, tag, val));
    return n;
}
uint8_t *enc_value(const ottl_batch *b, uint8_t tag, int64_t val, uint8_t *o);
size_t enc_attrs_size(const ottl_batch *b, const ottl_kvpool *pool, int64_t from, int64_t to);
uint8_t *enc_attrs(const ottl_batch *b, const ottl_kvpool *pool, int64_t from, int64_t to,
                   uint8_t tag, uint8_t *o);
size_t enc_id_size(const ottl_batch *b, int owner, size_t row, int field, uint8_t present,
                   uint8_t bit, uint8_t irr_bit, size_t width);
uint8_t *enc_id(const ottl_batch *b, int owner, size_t row, int field, uint8_t present,
                uint8_t bit, uint8_t irr_bit, const uint8_t *fixed, size_t width, uint8_t *o);

/* Per signal: a record's content size, and writing that content. */
size_t enc_span_size(const ottl_batch *b, size_t i);
uint8_t *enc_span(const ottl_batch *b, size_t i, uint8_t *o);
size_t enc_log_size(const ottl_batch *b, size_t i);
uint8_t *enc_log(const ottl_batch *b, size_t i, uint8_t *o);

#endif /* OTTL_OTLP_ENCODE_H */
