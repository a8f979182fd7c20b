/*
 * Protobuf wire format: bounded readers and unchecked writers.
 *
 * Readers take the end of the enclosing message and never look at a byte at or past it, so a
 * hostile length or a truncated varint cannot make them read outside the buffer. They return a
 * PB_* status instead of raising, because the caller knows the field path for the error and the
 * reader does not.
 *
 * Writers assume the caller sized the buffer (the encoder computes exact sizes first), so they
 * carry no checks on the hot path.
 */
#ifndef OTTL_PBWIRE_H
#define OTTL_PBWIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define PB_LIKELY(x) __builtin_expect(!!(x), 1)
#define PB_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PB_INLINE static inline __attribute__((always_inline))
/* A hint that the line holding p is about to be written. */
#define PB_PREFETCH_W(p) __builtin_prefetch((p), 1)
#else
#define PB_LIKELY(x) (x)
#define PB_UNLIKELY(x) (x)
#define PB_INLINE static inline
#define PB_PREFETCH_W(p) ((void)(p))
#endif

enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_SGROUP = 3, PB_EGROUP = 4, PB_I32 = 5 };

enum {
    PB_OK = 0,
    PB_ETRUNC,     /* the data ends inside the item */
    PB_EVARINT,    /* more than 10 bytes of varint */
    PB_ELENGTH,    /* a length runs past the end of its message */
    PB_ETAG,       /* field number 0 or above 2^29-1 */
    PB_EWIRETYPE,  /* wire type 6 or 7 */
};

/* Field numbers are 29 bits; a tag is a 32-bit varint. */
#define PB_MAX_FIELD 536870911u

PB_INLINE int pb_read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    if (PB_LIKELY(p < end && *p < 0x80)) {
        *out = *p;
        *pp = p + 1;
        return PB_OK;
    }
    uint64_t v = 0;
    /* Ten bytes carry 64 bits; bits a tenth byte carries past 64 are dropped, as upb does, but
     * a continuation bit on the tenth byte is malformed. */
    for (int i = 0; i < 10; i++) {
        if (PB_UNLIKELY(p >= end)) return PB_ETRUNC;
        uint8_t c = *p++;
        v |= (uint64_t)(c & 0x7f) << (7 * i);
        if (c < 0x80) {
            *out = v;
            *pp = p;
            return PB_OK;
        }
    }
    return PB_EVARINT;
}

PB_INLINE int pb_read_fixed64(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    if (PB_UNLIKELY((size_t)(end - *pp) < 8)) return PB_ETRUNC;
    /* Spelled out byte by byte from a local pointer, which compilers turn into one load on a
     * little-endian machine (a loop through *pp was eight loads and shifts). */
    const uint8_t *p = *pp;
    *out = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
    *pp += 8;
    return PB_OK;
}

PB_INLINE int pb_read_fixed32(const uint8_t **pp, const uint8_t *end, uint32_t *out) {
    if (PB_UNLIKELY((size_t)(end - *pp) < 4)) return PB_ETRUNC;
    const uint8_t *p = *pp;
    *out = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    *pp += 4;
    return PB_OK;
}

/* A length prefix and the bytes it covers: on success *pp is at the payload and *sub_end just
 * past it, never beyond end. */
PB_INLINE int pb_read_len(const uint8_t **pp, const uint8_t *end, const uint8_t **sub_end) {
    uint64_t n;
    int rc = pb_read_varint(pp, end, &n);
    if (PB_UNLIKELY(rc)) return rc;
    if (PB_UNLIKELY(n > (uint64_t)(end - *pp))) return PB_ELENGTH;
    *sub_end = *pp + n;
    return PB_OK;
}

PB_INLINE int pb_read_tag(const uint8_t **pp, const uint8_t *end, uint32_t *field, int *wt) {
    uint64_t t;
    int rc = pb_read_varint(pp, end, &t);
    if (PB_UNLIKELY(rc)) return rc;
    if (PB_UNLIKELY(t > UINT32_MAX || (t >> 3) == 0)) return PB_ETAG;
    *wt = (int)(t & 7);
    *field = (uint32_t)(t >> 3);
    if (PB_UNLIKELY(*wt > PB_I32)) return PB_EWIRETYPE;
    return PB_OK;
}

/* ---- writers ---- */

PB_INLINE size_t pb_varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Bytes a length-delimited field with a one-byte tag takes, given its payload length. */
PB_INLINE size_t pb_len_field_size(size_t len) { return 1 + pb_varint_size(len) + len; }

PB_INLINE uint8_t *pb_put_varint(uint8_t *o, uint64_t v) {
    while (v >= 0x80) {
        *o++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *o++ = (uint8_t)v;
    return o;
}

PB_INLINE uint8_t *pb_put_fixed64(uint8_t *o, uint64_t v) {
    for (int i = 0; i < 8; i++) o[i] = (uint8_t)(v >> (8 * i));
    return o + 8;
}

PB_INLINE uint8_t *pb_put_fixed32(uint8_t *o, uint32_t v) {
    for (int i = 0; i < 4; i++) o[i] = (uint8_t)(v >> (8 * i));
    return o + 4;
}

/* Copies of the short strings that make up most of OTLP without a library call: overlapping
 * word moves (the buffer was sized exactly, so no store goes past the copy's end). */
PB_INLINE void pb_copy(uint8_t *o, const void *src, size_t n) {
    const uint8_t *s = (const uint8_t *)src;
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(o, &a, 8);
        memcpy(o + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(o, &a, 4);
        memcpy(o + n - 4, &b, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++) o[i] = s[i];
    } else if (n <= 32) {
        uint64_t a, b, c, d;
        memcpy(&a, s, 8);
        memcpy(&b, s + 8, 8);
        memcpy(&c, s + n - 16, 8);
        memcpy(&d, s + n - 8, 8);
        memcpy(o, &a, 8);
        memcpy(o + 8, &b, 8);
        memcpy(o + n - 16, &c, 8);
        memcpy(o + n - 8, &d, 8);
    } else {
        memcpy(o, s, n);
    }
}

PB_INLINE uint8_t *pb_put_bytes(uint8_t *o, uint8_t tag, const void *data, size_t len) {
    *o++ = tag;
    if (PB_LIKELY(len < 0x80)) *o++ = (uint8_t)len;
    else o = pb_put_varint(o, len);
    pb_copy(o, data, len);
    return o + len;
}

#define PB_TAG(field, wt) ((uint8_t)(((field) << 3) | (wt)))

#endif /* OTTL_PBWIRE_H */
