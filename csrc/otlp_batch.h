/*
 * Columnar span and log batches (docs/batches.md is the full description of this layout).
 *
 * Every table is a set of parallel arrays sharing one row count; CSR offsets (`*_off`) have one
 * entry more than their table. A batch is built by the decoder and afterwards read-only until
 * the VM learns to write it.
 */
#ifndef OTTL_OTLP_BATCH_H
#define OTTL_OTLP_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ottl_limits.h"
#include "strtab.h"

/* Type tags of a value: the AnyValue oneof field numbers, plus NONE for "no AnyValue". */
enum {
    OTTL_V_EMPTY = 0,
    OTTL_V_STRING = 1,
    OTTL_V_BOOL = 2,
    OTTL_V_INT = 3,
    OTTL_V_DOUBLE = 4,
    OTTL_V_ARRAY = 5,
    OTTL_V_KVLIST = 6,
    OTTL_V_BYTES = 7,
    OTTL_V_STRINDEX = 8,
    /* Values only the VM holds (registers and program constants, never a batch's pools): a
     * trace or span id (its bytes as a string id), which compare bytewise with ids of their
     * own type only, as the reference's TraceID and SpanID. */
    OTTL_V_TRACE_ID = 9,
    OTTL_V_SPAN_ID = 10,
    /* A record attribute decoded under a projection that keeps the others
     * (ottl_projection.keep_others): its key is interned, its value left in the input, which
     * its entry's src points at. Only a verbatim encode writes it (by copying those bytes);
     * nothing reads its value, since a projection lists every key a program reads. */
    OTTL_V_OPAQUE = 14,
    /* In a column of one attribute read for a derived column (ottl_vm_column): a record
     * without the key, told from one whose key has no value (which reads as nil, but a
     * nested key cannot be followed into it). Never in a batch. */
    OTTL_V_ABSENT = 13,
    OTTL_V_NONE = 15,
};

/* Bits of the `present` columns. */
enum {
    OTTL_P_TRACE_ID = 1,
    OTTL_P_SPAN_ID = 2,
    OTTL_P_PARENT_ID = 4,
    OTTL_P_STATUS = 8,
    OTTL_P_IRR_TRACE_ID = 16,
    OTTL_P_IRR_SPAN_ID = 32,
    OTTL_P_IRR_PARENT_ID = 64,
};

enum { OTTL_BATCH_SPANS = 1, OTTL_BATCH_LOGS = 2 };
enum { OTTL_OWNER_SPAN = 0, OTTL_OWNER_LINK = 1, OTTL_OWNER_LOG = 2 };

/* What changed in a record (ottl_batch.dirty). */
enum { OTTL_DIRTY_FIELDS = 1, OTTL_DIRTY_ATTRS = 2 };

/* A pool of key/value entries: attributes of one owner kind, or nested values. */
typedef struct {
    int32_t *key; /* string id; -1 for array elements */
    uint8_t *tag;
    int64_t *val;
    /* Where the entry came from: the offset in the batch's input of the attributes field (its
     * tag) it was decoded from, while key and value are still exactly those bytes; -1 for
     * anything else. The encoder copies such entries instead of re-encoding them, so a changed
     * record re-encodes only the attributes that changed. Whatever changes an entry in place
     * sets it to -1. */
    int32_t *src;
    size_t n, cap;
    /* 1 when no row of the owner table holds a key twice (the decoder notes each record's
     * keys; the VM's rebuilds keep it), so a rebuild copies rows instead of
     * deduplicating them; 0: not known. */
    uint8_t unique;
} ottl_kvpool;

typedef struct {
    uint8_t *present;
    uint32_t *dropped;
    int32_t *schema_url;
    int64_t *attr_off, *scope_off, *entity_off;
    size_t n, cap;
} ottl_resources;

typedef struct {
    int32_t *resource;
    uint8_t *present;
    int32_t *name, *version, *schema_url;
    uint32_t *dropped;
    int64_t *attr_off, *rec_off;
    size_t n, cap;
} ottl_scopes;

typedef struct {
    int32_t *scope, *resource;
    uint8_t *trace_id, *span_id, *parent_span_id; /* 16, 8, 8 bytes per row */
    uint8_t *present;
    int32_t *trace_state, *name, *status_message;
    uint32_t *flags;
    int32_t *kind, *status_code;
    uint64_t *start_time, *end_time;
    uint32_t *dropped_attrs, *dropped_events, *dropped_links;
    int64_t *attr_off, *event_off, *link_off;
    int64_t *byte_start, *byte_end;
    /* Where the record's attributes lie in the input, back to back: [attrs_at, attrs_end);
     * attrs_at is -1 when it has none or other fields lie between them. A record whose
     * attributes alone changed is written as its input with that stretch re-encoded. */
    int64_t *attrs_at, *attrs_end;
    size_t n, cap;
} ottl_spans;

typedef struct {
    uint64_t *time;
    int32_t *name;
    uint32_t *dropped;
    int64_t *attr_off;
    size_t n, cap;
} ottl_events;

typedef struct {
    uint8_t *trace_id, *span_id;
    uint8_t *present;
    int32_t *trace_state;
    uint32_t *flags, *dropped;
    int64_t *attr_off;
    size_t n, cap;
} ottl_links;

typedef struct {
    int32_t *scope, *resource;
    uint64_t *time, *observed_time;
    int32_t *severity_number, *severity_text, *event_name;
    uint8_t *body_tag;
    int64_t *body;
    uint32_t *dropped, *flags;
    uint8_t *trace_id, *span_id, *present;
    int64_t *attr_off;
    int64_t *byte_start, *byte_end;
    int64_t *attrs_at, *attrs_end; /* as ottl_spans has them */
    size_t n, cap;
} ottl_logs;

/* Ids whose length is neither 0 nor the usual 16/8 bytes, kept by value in the string table. */
typedef struct {
    uint8_t *owner;  /* OTTL_OWNER_* */
    uint8_t *field;  /* the field number in the owner message */
    int32_t *row;
    int32_t *sid;
    size_t n, cap;
} ottl_irregular;

typedef struct {
    int kind; /* OTTL_BATCH_* */
    ottl_strtab strings;
    ottl_resources resources;
    ottl_scopes scopes;
    ottl_kvpool resource_attrs, scope_attrs, values;
    int32_t *entity_refs; /* string ids of raw EntityRef messages, CSR by resource */
    size_t entity_n, entity_cap;
    ottl_irregular irregular;
    /* spans */
    ottl_spans spans;
    ottl_events events;
    ottl_links links;
    ottl_kvpool span_attrs, event_attrs, link_attrs;
    /* logs */
    ottl_logs logs;
    ottl_kvpool log_attrs;
    /* The input the batch was decoded from (not owned): verbatim copy-out reads it. */
    const uint8_t *input;
    size_t input_len;
    /* 1 when the decoder found every record framed in the input as the encoder frames it
     * (a one-byte tag, the length as a minimal varint): a verbatim copy-out then needs to
     * check only that kept records lie back to back, not read their headers again. */
    uint8_t frames_minimal;
    /* Fields the decoder skipped as unknown (auto-detection of the signal reads this). */
    size_t unknown_fields;
    /* Columns the VM derived from this batch (gathered attributes, broadcast parent fields),
     * kept for every program run on it; freed with the batch (csrc/vm.c owns the type). */
    void *vm_cache;
    void (*vm_cache_free)(void *);
    /* Per record, what statements changed (OTTL_DIRTY_* bits; NULL: nothing). The encoder
     * re-encodes those from the columns even when asked to copy records verbatim: only the
     * attributes when they alone changed, the whole record otherwise. */
    uint8_t *dirty;
    /* Set when the records' own attributes were decoded under a projection: 1, only some
     * keys are in the pools, so the batch may be filtered and copied out verbatim, nothing
     * else; 2, every entry is in the pools but the values of the other keys are opaque
     * (OTTL_V_OPAQUE), so statements on the projection's keys may also run. */
    uint8_t attrs_projected;
    /* The statements' `cache` map of each record, CSR by record like the attributes (NULL
     * offsets: every record's is empty). Scratch of the VM, never encoded; a transform
     * group empties it before it runs (csrc/vm_write.c). */
    ottl_kvpool cache;
    int64_t *cache_off;
} ottl_batch;

/* ---- errors ---- */

enum { OTTL_DECODE_OK = 0, OTTL_DECODE_MALFORMED = 1, OTTL_DECODE_NOMEM = 2 };

typedef struct {
    int code;
    int64_t offset;
    char path[4096];
    char message[256];
} ottl_decode_error;

typedef struct {
    int64_t max_string_length;
    int64_t max_attributes;
    /* Threads the decode may use: 1, one; n, up to n (at most OTTL_MAX_DECODE_THREADS); 0, as
     * many as the CPUs this process may run on, up to that limit. A payload takes more than
     * one only when it holds several resource groups and each thread gets at least
     * OTTL_DECODE_PART_MIN_BYTES of it (csrc/otlp_decode_parallel.c). */
    int threads;
} ottl_decode_options;

/* A projection: of each record's own attributes (span.attributes, log.attributes) only those
 * under these keys are decoded; every other one is checked exactly as a whole decode checks
 * it (framing, UTF-8, the limits), which spares interning its value, and then dropped (for a
 * filter: attrs_projected 1) or, with keep_others, kept as an OTTL_V_OPAQUE entry (for a
 * transform that reads and writes those keys only: attrs_projected 2). Resources, scopes,
 * events, links and every other field decode whole. */
#define OTTL_MAX_PROJECTED_KEYS 16
typedef struct {
    const char *const *keys; /* UTF-8 */
    const size_t *lens;
    size_t n; /* at most OTTL_MAX_PROJECTED_KEYS */
    /* Keep the other attributes as opaque entries. A payload in which a record repeats an
     * attribute key is then decoded whole (attrs_projected 0): a statement that changes such
     * a record leaves it with each key once, keeping a later entry's value, which an opaque
     * entry cannot give. */
    int keep_others;
} ottl_projection;

ottl_batch *ottl_batch_new(int kind, size_t input_len);
void ottl_batch_free(ottl_batch *b);
/* Forgets the columns derived from the batch (after anything changes it). */
void ottl_batch_drop_derived(ottl_batch *b);
/* Empties a batch but keeps its allocations, so the next decode into it neither reallocates
 * nor touches fresh pages (see `reuse` below). */
void ottl_batch_reset(ottl_batch *b, int kind);
/* Grows every column of a table to room for `need` rows; the columns start at staggered
 * offsets into their blocks (see otlp_batch.c), so they are freed with ottl_col_free. */
int ottl_grow_cols(size_t *cap, size_t need, void **cols[], const size_t sizes[], int ncols,
                   unsigned color);
void ottl_col_free(void *col);
int ottl_kvpool_reserve(ottl_kvpool *p, size_t extra);
/* Room for `need` rows (and the closing CSR entry) in every column of a table. */
int ottl_resources_reserve(ottl_resources *t, size_t need);
int ottl_scopes_reserve(ottl_scopes *t, size_t need);
int ottl_spans_reserve(ottl_spans *t, size_t need);
int ottl_events_reserve(ottl_events *t, size_t need);
int ottl_links_reserve(ottl_links *t, size_t need);
int ottl_logs_reserve(ottl_logs *t, size_t need);
int ottl_irregular_reserve(ottl_irregular *t, size_t need);

/* Appends src's resources, with everything under them, to dst (both as a decoder left them,
 * of one kind, decoded from the same input): dst becomes what one decode of dst's input
 * followed by src's would have built, string ids included. 0, or -1 when out of memory or the
 * kinds differ (dst is then to be freed). */
int ottl_batch_append(ottl_batch *dst, const ottl_batch *src);

/* Frees the pool's arrays (the struct itself is the caller's). */
void ottl_kvpool_release(ottl_kvpool *p);
/* Appends entries [lo, hi) of from (src included); 0, or -1 when out of memory. */
int ottl_kvpool_append(ottl_kvpool *p, const ottl_kvpool *from, int64_t lo, int64_t hi);

/* Appends an entry; src as ottl_kvpool.src says (-1: not bytes of the input). */
static inline int ottl_kvpool_push_src(ottl_kvpool *p, int32_t key, uint8_t tag, int64_t val,
                                       int32_t src) {
    size_t n = p->n;
    if (n >= p->cap && ottl_kvpool_reserve(p, 1)) return -1;
    /* The tag array is of bytes, whose stores may alias anything: the other columns are
     * written first, so the compiler need not load their pointers again after it. */
    p->key[n] = key;
    p->val[n] = val;
    p->src[n] = src;
    p->tag[n] = tag;
    p->n = n + 1;
    return 0;
}

static inline int ottl_kvpool_push(ottl_kvpool *p, int32_t key, uint8_t tag, int64_t val) {
    return ottl_kvpool_push_src(p, key, tag, val, -1);
}

/* Decoders: 0 on success (*out owns a new batch), otherwise an OTTL_DECODE_* code with *err
 * filled and no batch. Safe to call without the GIL. */
int ottl_decode_traces(const uint8_t *data, size_t len, const ottl_decode_options *opt,
                       ottl_batch **out, ottl_decode_error *err);
int ottl_decode_logs(const uint8_t *data, size_t len, const ottl_decode_options *opt,
                     ottl_batch **out, ottl_decode_error *err);
/* The same, decoding into `reuse` (an old batch, or NULL for a new one), which the call owns
 * from then on: it comes back as *out, or is freed on error. */
int ottl_decode_into(ottl_batch *reuse, int kind, const uint8_t *data, size_t len,
                     const ottl_decode_options *opt, ottl_batch **out, ottl_decode_error *err);
/* Frees the batches parallel decodes keep for their next call (see otlp_decode_parallel.c). */
void ottl_decode_free_spares(void);
/* The bytes each thread of a decode takes at least (0: OTTL_DECODE_PART_MIN_BYTES again); for
 * tests, which cut small payloads with it. */
void ottl_decode_set_part_min_bytes(size_t n);
/* ottl_decode_into under a projection (see ottl_projection); the batch is marked
 * attrs_projected. Input that a whole decode refuses is refused the same way. */
int ottl_decode_projected(ottl_batch *reuse, int kind, const uint8_t *data, size_t len,
                          const ottl_decode_options *opt, const ottl_projection *proj,
                          ottl_batch **out, ottl_decode_error *err);

/* Encoder: writes the batch (or, with mask, one byte per record, nonzero keeps; verbatim
 * copies records' input bytes) backwards into buf[0, cap), the output ending at buf + cap.
 * 0 with *len set, or -1 when cap was too small (retry with a larger buffer). A mask that
 * empties a scope or resource drops it. Safe to call without the GIL. */
int ottl_encode(const ottl_batch *b, const uint8_t *mask, int verbatim, uint8_t *buf, size_t cap,
                size_t *len);

/* Verbatim copy-out at the exact size, for a batch no statement changed: a plan (the output's
 * size, its resource and scope headers encoded once) then a front-to-back write into exactly
 * that many bytes, the same bytes ottl_encode(verbatim) writes. NULL: records were changed
 * (use ottl_encode) or memory ran out. Safe without the GIL. */
typedef struct ottl_verbatim_plan ottl_verbatim_plan;
ottl_verbatim_plan *ottl_verbatim_plan_new(const ottl_batch *b, const uint8_t *mask);
size_t ottl_verbatim_size(const ottl_verbatim_plan *p);
void ottl_verbatim_write(const ottl_verbatim_plan *p, const ottl_batch *b, const uint8_t *mask,
                         uint8_t *out);
void ottl_verbatim_free(ottl_verbatim_plan *p);

#endif /* OTTL_OTLP_BATCH_H */
