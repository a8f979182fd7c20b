/*
 * Shared pieces of the OTLP decoders (otlp_decode.c, otlp_decode_traces.c, otlp_decode_logs.c);
 * not a public header.
 *
 * Each message is decoded by a function over [p, end) of the input. The field path of an error
 * costs nothing until it is needed: callers push a (name, index) frame before descending into a
 * submessage and pop it after, and only a failure formats the frames into text.
 */
#ifndef OTTL_OTLP_DECODE_H
#define OTTL_OTLP_DECODE_H

#include "otlp_batch.h"
#include "pbwire.h"

#include <string.h>

/* Request, resource group, resource/scope group, record, attributes[i], value, then per nested
 * level array_value/kvlist_value, values[i], value. */
#define DEC_PATH_MAX (16 + 3 * (OTTL_MAX_NESTING_DEPTH + 2))

typedef struct {
    const char *name;
    int32_t index; /* -1: not a repeated field */
} dec_frame;

/* Attribute owners with their own hints: resource, scope, span, event, link, log. */
enum { DEC_H_RESOURCE, DEC_H_SCOPE, DEC_H_SPAN, DEC_H_EVENT, DEC_H_LINK, DEC_H_LOG,
       DEC_HINT_POOLS };
#define DEC_HINTS 32

typedef struct dec_s dec_t;
typedef int (*dec_record_fn)(dec_t *d, const uint8_t *p, const uint8_t *end, int32_t scope,
                             int32_t resource);

struct dec_s {
    ottl_batch *b;
    const uint8_t *base;
    ottl_decode_error *err;
    size_t max_string, max_attrs;
    const char *group_name, *scope_group_name, *record_name;
    dec_record_fn record;
    ottl_kvpool stack; /* children of the containers being decoded, waiting to be moved */
    /* Predicted string ids: records of one batch tend to repeat the same attribute keys in
     * the same order, and often the same values, so comparing with what the previous record
     * had at the same position usually saves hashing and probing. Zero is "", a valid guess. */
    int32_t hint_key[DEC_HINT_POOLS][DEC_HINTS];
    int32_t hint_val[DEC_HINT_POOLS][DEC_HINTS];
    int32_t hint_name[DEC_HINT_POOLS];
    /* Beside each hint, whether the string last met there was the predicted one: only then is
     * the next one compared with it. A position whose strings vary (a URL, a peer address, a
     * method among a few) goes straight to the table's lookup, which is cheaper than a
     * comparison that fails: the failing comparisons cost a seventh of a realistic decode. */
    uint8_t hint_key_hit[DEC_HINT_POOLS][DEC_HINTS];
    uint8_t hint_val_hit[DEC_HINT_POOLS][DEC_HINTS];
    uint8_t hint_name_hit[DEC_HINT_POOLS];
    /* Under a projection: how many keys a record's own attributes keep (-1: all), and their
     * string ids. */
    int nkeep;
    int32_t keep[OTTL_MAX_PROJECTED_KEYS];
    /* Under a projection for a transform: the other attributes stay as OTTL_V_OPAQUE
     * entries (ottl_projection.keep_others). */
    uint8_t opaque;
    /* Whether a record repeats an attribute key (ottl_kvpool.unique): per key id, the number
     * of the record that last had it (records are numbered from 1; 0: none yet). */
    int32_t *key_record;
    size_t key_record_cap;
    int32_t record_number;
    int depth;
    dec_frame path[DEC_PATH_MAX];
};

/* A record writes one row into some 25 columns and a run of entries into the four arrays of
 * its attribute pool: more streams of writes than the CPU's prefetchers follow, so without a
 * hint each column's next cache line is fetched only when the row reaching it is written. The
 * decoder asks for the lines of the row DEC_AHEAD rows on (and of the pool entries as many
 * attributes on) as it starts each record: a fifth off a realistic decode, whether the batch
 * was in the caches or not. The helpers must be inlined where they are called: GCC takes a
 * function whose only effect is a prefetch for one without effects, and drops the call. */
#define DEC_AHEAD 32
#define DEC_AHEAD_ENTRIES 256

PB_INLINE void dec_prefetch_pool(const ottl_kvpool *q) {
    size_t a = q->n + DEC_AHEAD_ENTRIES;
    if (a >= q->cap) return;
    PB_PREFETCH_W(q->key + a);
    PB_PREFETCH_W(q->tag + a);
    PB_PREFETCH_W(q->val + a);
    PB_PREFETCH_W(q->src + a);
}

PB_INLINE void dec_prefetch_span_row(const ottl_spans *t, size_t row) {
    size_t a = row + DEC_AHEAD;
    if (a >= t->cap) return;
    PB_PREFETCH_W(t->scope + a);
    PB_PREFETCH_W(t->resource + a);
    PB_PREFETCH_W(t->trace_id + 16 * a);
    PB_PREFETCH_W(t->span_id + 8 * a);
    PB_PREFETCH_W(t->parent_span_id + 8 * a);
    PB_PREFETCH_W(t->present + a);
    PB_PREFETCH_W(t->trace_state + a);
    PB_PREFETCH_W(t->name + a);
    PB_PREFETCH_W(t->status_message + a);
    PB_PREFETCH_W(t->flags + a);
    PB_PREFETCH_W(t->kind + a);
    PB_PREFETCH_W(t->status_code + a);
    PB_PREFETCH_W(t->start_time + a);
    PB_PREFETCH_W(t->end_time + a);
    PB_PREFETCH_W(t->dropped_attrs + a);
    PB_PREFETCH_W(t->dropped_events + a);
    PB_PREFETCH_W(t->dropped_links + a);
    PB_PREFETCH_W(t->attr_off + a);
    PB_PREFETCH_W(t->event_off + a);
    PB_PREFETCH_W(t->link_off + a);
    PB_PREFETCH_W(t->byte_start + a);
    PB_PREFETCH_W(t->byte_end + a);
    PB_PREFETCH_W(t->attrs_at + a);
    PB_PREFETCH_W(t->attrs_end + a);
}

PB_INLINE void dec_prefetch_log_row(const ottl_logs *t, size_t row) {
    size_t a = row + DEC_AHEAD;
    if (a >= t->cap) return;
    PB_PREFETCH_W(t->scope + a);
    PB_PREFETCH_W(t->resource + a);
    PB_PREFETCH_W(t->time + a);
    PB_PREFETCH_W(t->observed_time + a);
    PB_PREFETCH_W(t->severity_number + a);
    PB_PREFETCH_W(t->severity_text + a);
    PB_PREFETCH_W(t->event_name + a);
    PB_PREFETCH_W(t->body_tag + a);
    PB_PREFETCH_W(t->body + a);
    PB_PREFETCH_W(t->dropped + a);
    PB_PREFETCH_W(t->flags + a);
    PB_PREFETCH_W(t->trace_id + 16 * a);
    PB_PREFETCH_W(t->span_id + 8 * a);
    PB_PREFETCH_W(t->present + a);
    PB_PREFETCH_W(t->attr_off + a);
    PB_PREFETCH_W(t->byte_start + a);
    PB_PREFETCH_W(t->byte_end + a);
    PB_PREFETCH_W(t->attrs_at + a);
    PB_PREFETCH_W(t->attrs_end + a);
}

static inline void dec_push(dec_t *d, const char *name, int32_t index) {
    if (d->depth < DEC_PATH_MAX) {
        d->path[d->depth].name = name;
        d->path[d->depth].index = index;
    }
    d->depth++;
}
static inline void dec_pop(dec_t *d) { d->depth--; }

int dec_fail(dec_t *d, const uint8_t *at, const char *field, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
int dec_nomem(dec_t *d);
int dec_wire_fail(dec_t *d, int rc, const uint8_t *at, const char *field);
int dec_skip(dec_t *d, const uint8_t **pp, const uint8_t *end, uint32_t field, int wt);
int dec_string_slow(dec_t *d, const uint8_t *p, size_t len, int utf8, int32_t *out,
                    const char *field);
/* A top-level AnyValue (a log body). */
int dec_value(dec_t *d, const uint8_t *p, const uint8_t *end, uint8_t *tag, int64_t *val);
/* Sets a fixed-width id field, or records it as irregular; *present carries the row's bits. */
int dec_id_slow(dec_t *d, const uint8_t *p, const uint8_t *end, int owner, int32_t row,
                int field, uint8_t *dst, size_t width, uint8_t *present, uint8_t bit,
                uint8_t irr_bit);
/* The usual id, exactly `width` bytes in a record that had no other one yet, copied inline
 * (width is a constant at every call, so the copy is a move or two). */
static inline int dec_id(dec_t *d, const uint8_t *p, const uint8_t *end, int owner, int32_t row,
                         int field, uint8_t *dst, size_t width, uint8_t *present, uint8_t bit,
                         uint8_t irr_bit) {
    if (PB_LIKELY((size_t)(end - p) == width && !(*present & irr_bit))) {
        memcpy(dst, p, width);
        *present |= bit;
        return 0;
    }
    return dec_id_slow(d, p, end, owner, row, field, dst, width, present, bit, irr_bit);
}

static inline int dec_tag(dec_t *d, const uint8_t **p, const uint8_t *end, uint32_t *field,
                          int *wt) {
    const uint8_t *at = *p;
    int rc = pb_read_tag(p, end, field, wt);
    if (PB_UNLIKELY(rc)) {
        dec_wire_fail(d, rc, at, NULL);
        return -1;
    }
    if (PB_UNLIKELY(*wt == PB_EGROUP))
        return dec_fail(d, at, NULL, "end-group tag (field %u) without its start-group", *field);
    return 0;
}

static inline int dec_expect(dec_t *d, const uint8_t *at, int wt, int want, const char *field) {
    if (PB_LIKELY(wt == want)) return 0;
    return dec_fail(d, at, field, "wire type %d, expected %d", wt, want);
}

static inline int dec_len(dec_t *d, const uint8_t **p, const uint8_t *end, const uint8_t **sub,
                          const char *field) {
    const uint8_t *at = *p;
    int rc = pb_read_len(p, end, sub);
    if (PB_UNLIKELY(rc)) {
        dec_wire_fail(d, rc, at, field);
        return -1;
    }
    return 0;
}

static inline int dec_varint(dec_t *d, const uint8_t **p, const uint8_t *end, uint64_t *v,
                             const char *field) {
    const uint8_t *at = *p;
    int rc = pb_read_varint(p, end, v);
    if (PB_UNLIKELY(rc)) {
        dec_wire_fail(d, rc, at, field);
        return -1;
    }
    return 0;
}

static inline int dec_fixed64(dec_t *d, const uint8_t **p, const uint8_t *end, uint64_t *v,
                              const char *field) {
    const uint8_t *at = *p;
    if (PB_UNLIKELY(pb_read_fixed64(p, end, v))) return dec_wire_fail(d, PB_ETRUNC, at, field);
    return 0;
}

static inline int dec_fixed32(dec_t *d, const uint8_t **p, const uint8_t *end, uint32_t *v,
                              const char *field) {
    const uint8_t *at = *p;
    if (PB_UNLIKELY(pb_read_fixed32(p, end, v))) return dec_wire_fail(d, PB_ETRUNC, at, field);
    return 0;
}

/* A string or bytes field's payload [p, p+len) into an id. Interned strings were checked
 * already, so only a first sighting pays for the UTF-8 check. */
static inline int dec_string(dec_t *d, const uint8_t *p, size_t len, int utf8, int32_t *out,
                             const char *field) {
    if (PB_UNLIKELY(len > d->max_string)) return dec_string_slow(d, p, len, utf8, out, field);
    int32_t id = ottl_strtab_intern(&d->b->strings, p, len);
    if (PB_UNLIKELY(id < 0)) return dec_nomem(d);
    if (utf8 && PB_UNLIKELY(!d->b->strings.utf8[id]))
        return dec_string_slow(d, p, len, utf8, out, field);
    *out = id;
    return 0;
}

/* A string field whose id is probably *hint, when *hit says the last one was (see dec_t). */
static inline int dec_string_hinted(dec_t *d, const uint8_t *p, size_t len, int32_t *hint,
                                    uint8_t *hit, int32_t *out, const char *field) {
    const ottl_strtab *t = &d->b->strings;
    int32_t h = *hint;
    if (*hit && (size_t)(t->off[h + 1] - t->off[h]) == len &&
        ottl_bytes_eq(t->arena + t->off[h], p, len)) {
        *out = h;
        return 0;
    }
    if (dec_string(d, p, len, 1, out, field)) return -1;
    *hit = *out == h;
    *hint = *out;
    return 0;
}

/* A string field of a record of the owner `owner` (DEC_H_*), predicted by its last one. */
#define DEC_STRING_HINTED(name, dst, owner)                                           \
    do {                                                                              \
        DEC_SUB(name);                                                                \
        if (dec_string_hinted(d, p, (size_t)(sub - p), &d->hint_name[owner],          \
                              &d->hint_name_hit[owner], dst, name))                   \
            return -1;                                                                \
        p = sub;                                                                      \
    } while (0)

/* The body of every message decoder: read a tag, then `switch (field)`. */
#define DEC_FIELDS_BEGIN                                   \
    while (p < end) {                                      \
        const uint8_t *at = p;                             \
        uint32_t field = 0;                                \
        int wt = 0;                                        \
        if (dec_tag(d, &p, end, &field, &wt)) return -1;   \
        (void)at;                                          \
        switch (field) {
#define DEC_FIELDS_END                                             \
        default:                                                   \
            if (dec_skip(d, &p, end, field, wt)) return -1;        \
        }                                                          \
    }

#define DEC_EXPECT(want, name) \
    if (dec_expect(d, at, wt, want, name)) return -1

/* A length-delimited field: sets `sub` to its end; the payload starts at p. */
#define DEC_SUB(name)                                       \
    const uint8_t *sub = NULL;                              \
    DEC_EXPECT(PB_LEN, name);                               \
    if (dec_len(d, &p, end, &sub, name)) return -1

#define DEC_STRING(name, dst, utf8)                                              \
    do {                                                                         \
        DEC_SUB(name);                                                           \
        if (dec_string(d, p, (size_t)(sub - p), utf8, dst, name)) return -1;     \
        p = sub;                                                                 \
    } while (0)

#define DEC_VARINT(name, dst, type)                        \
    do {                                                   \
        uint64_t v_ = 0;                                   \
        DEC_EXPECT(PB_VARINT, name);                       \
        if (dec_varint(d, &p, end, &v_, name)) return -1;  \
        dst = (type)v_;                                    \
    } while (0)

#define DEC_FIXED64(name, dst)                                \
    do {                                                      \
        DEC_EXPECT(PB_I64, name);                             \
        if (dec_fixed64(d, &p, end, &(dst), name)) return -1; \
    } while (0)

#define DEC_FIXED32(name, dst)                                \
    do {                                                      \
        DEC_EXPECT(PB_I32, name);                             \
        if (dec_fixed32(d, &p, end, &(dst), name)) return -1; \
    } while (0)

/* An "attributes" entry (dec_attribute, otlp_decode_attr.h, pushes its path frame only where
 * it needs one). */
#define DEC_ATTRIBUTE(name, pool, count, hints)                              \
    do {                                                                     \
        DEC_SUB(name);                                                       \
        if (dec_attribute(d, at, p, sub, pool, &(count), hints)) return -1;  \
        p = sub;                                                             \
    } while (0)

/* The stretch of the input a record's attributes fields fill, for ottl_spans.attrs_at. */
typedef struct {
    const uint8_t *at, *end;
    size_t bytes; /* of the attributes fields: end - at unless other fields lie between */
} dec_stretch;

static inline void dec_stretch_add(dec_stretch *s, const uint8_t *at, const uint8_t *end) {
    if (!s->at) s->at = at;
    s->end = end;
    s->bytes += (size_t)(end - at);
}

static inline int64_t dec_stretch_at(const dec_t *d, const dec_stretch *s) {
    return s->at && (size_t)(s->end - s->at) == s->bytes ? (int64_t)(s->at - d->base) : -1;
}

static inline int64_t dec_stretch_end(const dec_t *d, const dec_stretch *s) {
    return s->at ? (int64_t)(s->end - d->base) : -1;
}

int dec_grow_key_record(dec_t *d, int32_t key);

/* Notes a record attribute's key, clearing pool->unique when the record had it already. */
static inline int dec_note_key(dec_t *d, ottl_kvpool *pool, int32_t key) {
    if (PB_UNLIKELY((size_t)key >= d->key_record_cap) && dec_grow_key_record(d, key)) return -1;
    if (d->key_record[key] == d->record_number) pool->unique = 0;
    d->key_record[key] = d->record_number;
    return 0;
}

/* The record decoders of each signal (otlp_decode_traces.c, otlp_decode_logs.c). */
int dec_span_record(dec_t *d, const uint8_t *p, const uint8_t *end, int32_t scope,
                    int32_t resource);
int dec_log_record(dec_t *d, const uint8_t *p, const uint8_t *end, int32_t scope,
                   int32_t resource);

/* A whole decode: of the payload in one part, or in several on threads of their own. */
int dec_run(ottl_batch *reuse, const uint8_t *data, size_t len, const ottl_decode_options *opt,
            const ottl_projection *proj, int kind, ottl_batch **out, ottl_decode_error *err);
/* The resource groups in [from, to) of the payload data (the first numbered first_group) into
 * a batch, into reuse when not NULL (which the call owns from then on); offsets in the batch
 * and in errors are into data. */
int dec_part(ottl_batch *reuse, const uint8_t *data, size_t len, const uint8_t *from,
             const uint8_t *to, int32_t first_group, const ottl_decode_options *opt,
             const ottl_projection *proj, int kind, ottl_batch **out, ottl_decode_error *err);
/* dec_run on several threads where the payload is worth cutting and opt allows more than
 * one, else in one part (otlp_decode_parallel.c). */
int dec_parallel(ottl_batch *reuse, const uint8_t *data, size_t len,
                 const ottl_decode_options *opt, const ottl_projection *proj, int kind,
                 ottl_batch **out, ottl_decode_error *err);

#endif /* OTTL_OTLP_DECODE_H */
