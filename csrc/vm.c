/*
 * The interpreter: a verified program (vm_load.c) run over a batch a block of
 * OTTL_VM_BLOCK_SIZE rows at a time. Registers are descriptors, not copies: a field register
 * points into the batch's own column, an attribute register into a column gathered once per
 * batch (the derived-column cache below), a constant register holds one value. Comparisons
 * write masks (one byte per row); the common shapes (a column against a constant) run in the
 * block kernels of vm_kernels.c, every other shape row by row through the reference rules.
 */
#include "vm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_kernels.h"
#include "vm_write.h"

/* RK_I64: int64 values with one tag; row i is col[i - base]. A derived column of the batch
 * (base 0) or the result of MATH in this block (base = the block's first row). */
enum { RK_I32, RK_U32, RK_U64, RK_TAGGED, RK_CONST, RK_I64 };

typedef struct {
    int kind;
    uint8_t tag;              /* the value tag of typed columns and constants */
    const void *col;          /* RK_I32 / RK_U32 / RK_U64: the whole batch's column */
    const uint8_t *tags;      /* RK_TAGGED */
    const int64_t *vals;
    /* RK_TAGGED, when the column allows (else NULL): narrower copies the kernels read
     * instead, for memory bandwidth. sids: every row a string or nil, as the string id or -1;
     * i32: no doubles and every int above INT32_MIN and within int32, the ints narrowed and
     * every other row INT32_MIN (so ==, !=, > and >= against a larger constant need no tags). */
    const int32_t *sids;
    const int32_t *i32;
    int64_t cval;             /* RK_CONST */
    size_t base;              /* RK_I64 */
} vm_reg;

/* ---- the derived-column cache, owned by the batch ---- */

typedef struct {
    int32_t field, key; /* key: batch string id of the attribute key, or -1 for a field */
    uint8_t missing;    /* the tag of a record without the key: OTTL_V_NONE for the VM */
    uint8_t *tags;
    int64_t *vals;      /* attributes: tags + vals; parent fields: vals only (widened) */
    int32_t *sids, *i32; /* attributes: the narrow copies of vm_reg (NULL when not possible) */
} derived_col;

typedef struct {
    derived_col *cols;
    size_t n, cap;
} derived_cache;

static void cache_free(void *p) {
    derived_cache *c = p;
    for (size_t i = 0; i < c->n; i++) {
        free(c->cols[i].tags);
        free(c->cols[i].vals);
        free(c->cols[i].sids);
        free(c->cols[i].i32);
    }
    free(c->cols);
    free(c);
}

static derived_cache *cache_of(ottl_batch *b) {
    if (!b->vm_cache) {
        derived_cache *c = calloc(1, sizeof *c);
        if (!c) return NULL;
        b->vm_cache = c;
        b->vm_cache_free = cache_free;
    }
    return b->vm_cache;
}

static derived_col *cache_find(derived_cache *c, int32_t field, int32_t key) {
    for (size_t i = 0; i < c->n; i++)
        if (c->cols[i].field == field && c->cols[i].key == key) return &c->cols[i];
    return NULL;
}

static derived_col *cache_add(derived_cache *c, int32_t field, int32_t key) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        derived_col *a = realloc(c->cols, cap * sizeof *a);
        if (!a) return NULL;
        c->cols = a;
        c->cap = cap;
    }
    derived_col *d = &c->cols[c->n++];
    d->field = field;
    d->key = key;
    d->missing = OTTL_V_NONE;
    d->tags = NULL;
    d->vals = NULL;
    d->sids = NULL;
    d->i32 = NULL;
    return d;
}

static size_t rows_of(const ottl_batch *b) {
    return b->kind == OTTL_BATCH_SPANS ? b->spans.n : b->logs.n;
}

static const int32_t *resource_index(const ottl_batch *b) {
    return b->kind == OTTL_BATCH_SPANS ? b->spans.resource : b->logs.resource;
}

static const int32_t *scope_index(const ottl_batch *b) {
    return b->kind == OTTL_BATCH_SPANS ? b->spans.scope : b->logs.scope;
}

/* Nil has two tags in a batch: an AnyValue with nothing set, and no AnyValue at all. A
 * profiles-only string index is not a value the VM reads either. */
static inline uint8_t norm_tag(uint8_t t) {
    return (t == OTTL_V_EMPTY || t == OTTL_V_STRINDEX) ? OTTL_V_NONE : t;
}

/* The value of `key` among owner's attributes [lo, hi): the last one wins, as when the
 * reference evaluator builds its map. */
static inline void find_attr(const ottl_kvpool *pool, int64_t lo, int64_t hi, int32_t key,
                             uint8_t missing, uint8_t *tag, int64_t *val) {
    int64_t at = -1;
    for (int64_t j = lo; j < hi; j++)
        if (pool->key[j] == key) at = j;
    *tag = at < 0 ? missing : norm_tag(pool->tag[at]);
    *val = at < 0 ? 0 : pool->val[at];
}

/* The narrow copies of a gathered attribute column, where its values allow them. */
static int narrow_attr(size_t n, derived_col *d) {
    int strings = 1, ints = 1;
    for (size_t i = 0; i < n && (strings || ints); i++) {
        uint8_t t = d->tags[i];
        if (t != OTTL_V_STRING && t != OTTL_V_NONE) strings = 0;
        if (t == OTTL_V_DOUBLE || (t == OTTL_V_INT && (d->vals[i] <= INT32_MIN || d->vals[i] > INT32_MAX)))
            ints = 0;
    }
    if (strings) {
        d->sids = malloc((n ? n : 1) * sizeof *d->sids);
        if (!d->sids) return -1;
        for (size_t i = 0; i < n; i++)
            d->sids[i] = d->tags[i] == OTTL_V_STRING ? (int32_t)d->vals[i] : -1;
    }
    if (ints) {
        d->i32 = malloc((n ? n : 1) * sizeof *d->i32);
        if (!d->i32) return -1;
        for (size_t i = 0; i < n; i++)
            d->i32[i] = d->tags[i] == OTTL_V_INT ? (int32_t)d->vals[i] : INT32_MIN;
    }
    return 0;
}

static int gather_attr(const ottl_batch *b, derived_col *d) {
    size_t n = rows_of(b);
    d->tags = malloc(n ? n : 1);
    d->vals = malloc((n ? n : 1) * sizeof *d->vals);
    if (!d->tags || !d->vals) return -1;
    if (d->key < 0) { /* the key is nowhere in this batch */
        memset(d->tags, d->missing, n);
        memset(d->vals, 0, n * sizeof *d->vals);
        return 0;
    }
    const ottl_kvpool *pool;
    const int64_t *off;
    const int32_t *via = NULL; /* parents: the record's resource or scope index */
    size_t owners = n;
    switch (d->field) {
    case F_SPAN_ATTRS: pool = &b->span_attrs; off = b->spans.attr_off; break;
    case F_LOG_ATTRS: pool = &b->log_attrs; off = b->logs.attr_off; break;
    case F_SPAN_CACHE:
    case F_LOG_CACHE:
        if (!b->cache_off) { /* no statement wrote it: every record's is empty */
            memset(d->tags, d->missing, n);
            memset(d->vals, 0, n * sizeof *d->vals);
            return 0;
        }
        pool = &b->cache;
        off = b->cache_off;
        break;
    case F_RESOURCE_ATTRS:
        pool = &b->resource_attrs;
        off = b->resources.attr_off;
        via = resource_index(b);
        owners = b->resources.n;
        break;
    default:
        pool = &b->scope_attrs;
        off = b->scopes.attr_off;
        via = scope_index(b);
        owners = b->scopes.n;
        break;
    }
    if (!via) {
        for (size_t i = 0; i < n; i++) find_attr(pool, off[i], off[i + 1], d->key, d->missing, &d->tags[i], &d->vals[i]);
        return 0;
    }
    /* Parents: once per resource or scope, then broadcast to their records. */
    uint8_t *pt = malloc(owners ? owners : 1);
    int64_t *pv = malloc((owners ? owners : 1) * sizeof *pv);
    if (!pt || !pv) {
        free(pt);
        free(pv);
        return -1;
    }
    for (size_t o = 0; o < owners; o++) find_attr(pool, off[o], off[o + 1], d->key, d->missing, &pt[o], &pv[o]);
    for (size_t i = 0; i < n; i++) {
        d->tags[i] = pt[via[i]];
        d->vals[i] = pv[via[i]];
    }
    free(pt);
    free(pv);
    return 0;
}

/* A parent's scalar field, broadcast to the records as a dense column. */
static int gather_parent(const ottl_batch *b, derived_col *d) {
    size_t n = rows_of(b);
    d->vals = malloc((n ? n : 1) * sizeof *d->vals);
    if (!d->vals) return -1;
    const int32_t *res = resource_index(b), *sc = scope_index(b);
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        switch (d->field) {
        case F_RESOURCE_DROPPED_ATTRS: v = b->resources.dropped[res[i]]; break;
        case F_RESOURCE_SCHEMA_URL: v = b->resources.schema_url[res[i]]; break;
        case F_SCOPE_NAME: v = b->scopes.name[sc[i]]; break;
        case F_SCOPE_VERSION: v = b->scopes.version[sc[i]]; break;
        case F_SCOPE_DROPPED_ATTRS: v = b->scopes.dropped[sc[i]]; break;
        default: v = b->scopes.schema_url[sc[i]]; break;
        }
        d->vals[i] = v;
    }
    return 0;
}

static int is_parent_scalar(int32_t f) {
    return f == F_RESOURCE_DROPPED_ATTRS || f == F_RESOURCE_SCHEMA_URL || f == F_SCOPE_NAME ||
           f == F_SCOPE_VERSION || f == F_SCOPE_DROPPED_ATTRS || f == F_SCOPE_SCHEMA_URL;
}

static int is_id_string(int32_t f) {
    return f == F_SPAN_TRACE_ID_STRING || f == F_SPAN_SPAN_ID_STRING ||
           f == F_SPAN_PARENT_SPAN_ID_STRING || f == F_LOG_TRACE_ID_STRING ||
           f == F_LOG_SPAN_ID_STRING;
}

static int is_raw_id(int32_t f) {
    return f == F_SPAN_TRACE_ID || f == F_SPAN_SPAN_ID || f == F_SPAN_PARENT_SPAN_ID ||
           f == F_LOG_TRACE_ID || f == F_LOG_SPAN_ID;
}

static int is_kind_string(int32_t f) {
    return f == F_SPAN_KIND_STRING || f == F_SPAN_KIND_DEPRECATED_STRING;
}

/* Fields that ottl_vm_prepare computes into the batch's derived cache (vals: int64). */
static int is_gathered(int32_t f) {
    return is_parent_scalar(f) || is_id_string(f) || is_raw_id(f) || is_kind_string(f);
}

/* span.kind.string or .deprecated_string for every span: the kind's name, interned (six of
 * them at most), or "" for a kind without one. */
static int gather_kind_string(ottl_batch *b, derived_col *d) {
    const char *const *names =
        d->field == F_SPAN_KIND_STRING ? ottl_span_kind_words : ottl_span_kind_symbols;
    int32_t sid[OTTL_SPAN_KIND_WORDS];
    for (int k = 0; k < OTTL_SPAN_KIND_WORDS; k++) {
        sid[k] = ottl_strtab_intern(&b->strings, (const uint8_t *)names[k], strlen(names[k]));
        if (sid[k] < 0) return -1;
        b->strings.utf8[sid[k]] = 1;
    }
    size_t n = b->spans.n;
    d->vals = malloc((n ? n : 1) * sizeof *d->vals);
    if (!d->vals) return -1;
    for (size_t i = 0; i < n; i++) {
        int32_t kind = b->spans.kind[i];
        d->vals[i] = kind >= 0 && kind < OTTL_SPAN_KIND_WORDS ? sid[kind] : 0;
    }
    return 0;
}

/* An id field for every record, as the reference reads it: as a value (raw: the id's 16 or 8
 * bytes interned, zeros for an absent id, as the reference's empty TraceID/SpanID), or as its
 * `.string` path (lowercase hex, interned, or "" for an all-zero or absent id). A record whose
 * id has another length (kept aside by the decoder as "irregular") is refused with its row, as
 * the reference refuses to build that record. */
static int gather_id(ottl_batch *b, derived_col *d, char *why, size_t why_len) {
    static const char hex[] = "0123456789abcdef";
    size_t n = rows_of(b);
    int raw = is_raw_id(d->field);
    vm_id_column c;
    if (vm_id_column_of(b, d->field, &c)) {
        snprintf(why, why_len, "field %d is no id of this batch", (int)d->field);
        return -2;
    }
    const uint8_t *ids = c.ids, *present = c.present;
    size_t width = c.width;
    d->vals = malloc((n ? n : 1) * sizeof *d->vals);
    if (!d->vals) return -1;
    char text[32];
    for (size_t i = 0; i < n; i++) {
        const uint8_t *id = ids + width * i;
        if (present[i] & c.irr) {
            snprintf(why, why_len, "%s %zu: its %s is not %zu bytes long", c.owner, i, c.name,
                     width);
            return -2;
        }
        if (raw) {
            int32_t sid = ottl_strtab_intern(&b->strings, id, width);
            if (sid < 0) return -1;
            d->vals[i] = sid;
            continue;
        }
        uint8_t any = 0;
        for (size_t k = 0; k < width; k++) {
            any |= id[k];
            text[2 * k] = hex[id[k] >> 4];
            text[2 * k + 1] = hex[id[k] & 15];
        }
        if (!any) {
            d->vals[i] = 0;
            continue;
        }
        int32_t sid = ottl_strtab_intern(&b->strings, (const uint8_t *)text, 2 * width);
        if (sid < 0) return -1;
        b->strings.utf8[sid] = 1;
        d->vals[i] = sid;
    }
    return 0;
}

/* A gathered field into d: 0, -1 (out of memory) or -2 (refused, `why` says which record:
 * see gather_id). */
static int gather_field(ottl_batch *b, derived_col *d, char *why, size_t why_len) {
    if (is_id_string(d->field) || is_raw_id(d->field)) return gather_id(b, d, why, why_len);
    if (is_kind_string(d->field)) return gather_kind_string(b, d);
    return gather_parent(b, d);
}

static int32_t program_string_in_batch(const ottl_vm_program *p, const ottl_batch *b, int64_t k) {
    const uint8_t *s = p->str_bytes + p->str_off[k];
    size_t len = (size_t)(p->str_off[k + 1] - p->str_off[k]);
    return ottl_strtab_find(&b->strings, s, len);
}

int ottl_vm_prepare(const ottl_vm_program *p, ottl_batch *b, ottl_vm_error *err) {
    if (p->signal && p->signal != b->kind) {
        snprintf(err->message, sizeof err->message, "the program reads %s but the batch holds %s",
                 p->signal == OTTL_BATCH_SPANS ? "spans" : "logs",
                 b->kind == OTTL_BATCH_SPANS ? "spans" : "logs");
        err->pc = -1;
        return -1;
    }
    derived_cache *c = cache_of(b);
    if (!c) goto nomem;
    if (p->writes) {
        /* A statement may write any of its strings (a value, an attribute key): they must be
         * batch strings, so they go in now, while nothing else uses the table. */
        for (size_t k = 0; k < p->nstrings; k++)
            if (ottl_strtab_intern(&b->strings, p->str_bytes + p->str_off[k],
                                   (size_t)(p->str_off[k + 1] - p->str_off[k])) < 0)
                goto nomem;
    }
    for (size_t j = 0; j < p->nattr; j++) {
        int32_t key = program_string_in_batch(p, b, p->attr_key[j]);
        if (cache_find(c, p->attr_field[j], key)) continue;
        derived_col *d = cache_add(c, p->attr_field[j], key);
        if (!d || gather_attr(b, d) || narrow_attr(rows_of(b), d)) goto nomem;
    }
    for (size_t pc = 0; pc < p->ncode; pc += 1 + strlen(ottl_op_operands[p->code[pc]])) {
        if (p->code[pc] != OP_LOAD_FIELD || !is_gathered(p->code[pc + 2])) continue;
        if (cache_find(c, p->code[pc + 2], -1)) continue;
        derived_col *d = cache_add(c, p->code[pc + 2], -1);
        if (!d) goto nomem;
        int rc = gather_field(b, d, err->message, sizeof err->message);
        if (rc) {
            c->n--; /* not gathered: nothing half-made stays in the cache */
            free(d->vals);
            if (rc != -2) goto nomem;
            err->pc = OTTL_VM_NEEDS_REFERENCE;
            return -1;
        }
    }
    return 0;
nomem:
    snprintf(err->message, sizeof err->message, "out of memory while preparing the batch");
    err->pc = -1;
    return -1;
}

/* ---- values, row by row: the reference's comparison rules (ottl/eval/compare.py) ---- */

typedef struct {
    const ottl_vm_program *p;
    const ottl_batch *b;
    int64_t *csid; /* per constant: batch string id, or -(k + 2) for program string k */
} vm_ctx;

static inline void value_at(const vm_reg *r, size_t i, uint8_t *tag, int64_t *val) {
    switch (r->kind) {
    case RK_I32: *tag = r->tag; *val = ((const int32_t *)r->col)[i]; return;
    case RK_U32: *tag = r->tag; *val = ((const uint32_t *)r->col)[i]; return;
    case RK_U64: *tag = r->tag; *val = (int64_t)((const uint64_t *)r->col)[i]; return;
    case RK_TAGGED: *tag = norm_tag(r->tags[i]); *val = r->vals[i]; return;
    case RK_I64: *tag = r->tag; *val = ((const int64_t *)r->col)[i - r->base]; return;
    default: *tag = r->tag; *val = r->cval; return;
    }
}

/* The bytes of a string or bytes value: a batch id, or a program string not in the batch. */
static inline void bytes_of(const vm_ctx *x, int64_t v, const uint8_t **s, size_t *len) {
    if (v >= 0) {
        *s = (const uint8_t *)ottl_strtab_ptr(&x->b->strings, (int32_t)v);
        *len = ottl_strtab_len(&x->b->strings, (int32_t)v);
    } else {
        int64_t k = -(v + 2);
        *s = x->p->str_bytes + x->p->str_off[k];
        *len = (size_t)(x->p->str_off[k + 1] - x->p->str_off[k]);
    }
}

static inline double as_double(uint8_t t, int64_t v) {
    if (t == OTTL_V_INT) return (double)v;
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

static inline int is_number(uint8_t t) { return t == OTTL_V_INT || t == OTTL_V_DOUBLE; }

static int bytes_cmp(const vm_ctx *x, int64_t a, int64_t b) {
    if (a == b && a >= 0) return 0;
    const uint8_t *s, *t;
    size_t m, n;
    bytes_of(x, a, &s, &m);
    bytes_of(x, b, &t, &n);
    int c = memcmp(s, t, m < n ? m : n);
    if (c) return c < 0 ? -1 : 1;
    return m < n ? -1 : m > n ? 1 : 0;
}

static int deep_equal(const vm_ctx *x, uint8_t ta, int64_t va, uint8_t tb, int64_t vb, int depth);

/* The last value of key `k` among kvlist entries [lo, hi), as a map built from it holds. */
static int kv_last(const ottl_kvpool *v, uint64_t lo, uint64_t hi, int32_t k, uint8_t *t,
                   int64_t *val) {
    int found = 0;
    for (uint64_t j = lo; j < hi; j++) {
        if (v->key[j] == k) {
            *t = norm_tag(v->tag[j]);
            *val = v->val[j];
            found = 1;
        }
    }
    return found;
}

/* reflect.DeepEqual over raw values (types must match exactly: 1 is not 1.0), with maps as
 * maps: the same keys, duplicates collapsed to their last value. */
static int deep_equal(const vm_ctx *x, uint8_t ta, int64_t va, uint8_t tb, int64_t vb, int depth) {
    ta = norm_tag(ta);
    tb = norm_tag(tb);
    if (ta != tb) return 0;
    const ottl_kvpool *v = &x->b->values;
    switch (ta) {
    case OTTL_V_NONE: return 1;
    case OTTL_V_INT: case OTTL_V_BOOL: return va == vb;
    case OTTL_V_DOUBLE: return as_double(ta, va) == as_double(tb, vb);
    case OTTL_V_STRING: case OTTL_V_BYTES: return bytes_cmp(x, va, vb) == 0;
    case OTTL_V_ARRAY: {
        uint64_t sa = (uint64_t)va & 0xffffffffu, na = (uint64_t)va >> 32;
        uint64_t sb = (uint64_t)vb & 0xffffffffu, nb = (uint64_t)vb >> 32;
        if (na != nb) return 0;
        if (depth > 2 * OTTL_MAX_NESTING_DEPTH) return 0;
        for (uint64_t i = 0; i < na; i++)
            if (!deep_equal(x, v->tag[sa + i], v->val[sa + i], v->tag[sb + i], v->val[sb + i], depth + 1))
                return 0;
        return 1;
    }
    case OTTL_V_KVLIST: {
        uint64_t sa = (uint64_t)va & 0xffffffffu, na = (uint64_t)va >> 32;
        uint64_t sb = (uint64_t)vb & 0xffffffffu, nb = (uint64_t)vb >> 32;
        if (depth > 2 * OTTL_MAX_NESTING_DEPTH) return 0;
        size_t distinct_a = 0, distinct_b = 0;
        for (uint64_t i = 0; i < na; i++) {
            int32_t k = v->key[sa + i];
            int later = 0;
            for (uint64_t j = i + 1; j < na; j++) later |= v->key[sa + j] == k;
            if (later) continue; /* only the last of a duplicated key counts */
            distinct_a++;
            uint8_t t;
            int64_t w;
            if (!kv_last(v, sb, sb + nb, k, &t, &w)) return 0;
            if (!deep_equal(x, v->tag[sa + i], v->val[sa + i], t, w, depth + 1)) return 0;
        }
        for (uint64_t i = 0; i < nb; i++) {
            int later = 0;
            for (uint64_t j = i + 1; j < nb; j++) later |= v->key[sb + j] == v->key[sb + i];
            distinct_b += !later;
        }
        return distinct_a == distinct_b;
    }
    default: return 0;
    }
}

static int values_equal(const vm_ctx *x, uint8_t ta, int64_t va, uint8_t tb, int64_t vb) {
    if (ta == OTTL_V_NONE || tb == OTTL_V_NONE) {
        if (ta == tb) return 1;
        /* nil equals an empty byte slice */
        uint8_t t = ta == OTTL_V_NONE ? tb : ta;
        int64_t v = ta == OTTL_V_NONE ? vb : va;
        if (t != OTTL_V_BYTES) return 0;
        const uint8_t *s;
        size_t len;
        bytes_of(x, v, &s, &len);
        return len == 0;
    }
    if (is_number(ta) && is_number(tb)) {
        if (ta == OTTL_V_INT && tb == OTTL_V_INT) return va == vb;
        return as_double(ta, va) == as_double(tb, vb);
    }
    if (ta != tb) return 0;
    switch (ta) {
    case OTTL_V_BOOL: return va == vb;
    case OTTL_V_STRING: case OTTL_V_BYTES: case OTTL_V_TRACE_ID: case OTTL_V_SPAN_ID:
        return bytes_cmp(x, va, vb) == 0;
    case OTTL_V_ARRAY: case OTTL_V_KVLIST: return deep_equal(x, ta, va, tb, vb, 0);
    default: return 0;
    }
}

enum { ORD_NONE = 2, ORD_NILS = 3 };

static int values_order(const vm_ctx *x, uint8_t ta, int64_t va, uint8_t tb, int64_t vb) {
    if (ta == OTTL_V_NONE && tb == OTTL_V_NONE) return ORD_NILS;
    if (ta == OTTL_V_NONE || tb == OTTL_V_NONE) return ORD_NONE;
    if (is_number(ta) && is_number(tb)) {
        if (ta == OTTL_V_INT && tb == OTTL_V_INT) return (va > vb) - (va < vb);
        double a = as_double(ta, va), b = as_double(tb, vb);
        if (isnan(a) || isnan(b)) return ORD_NONE;
        return (a > b) - (a < b);
    }
    if (ta != tb) return ORD_NONE;
    switch (ta) {
    case OTTL_V_BOOL: return (va > vb) - (va < vb);
    case OTTL_V_STRING: case OTTL_V_BYTES: case OTTL_V_TRACE_ID: case OTTL_V_SPAN_ID:
        return bytes_cmp(x, va, vb);
    default: return ORD_NONE;
    }
}

static int compare_values(const vm_ctx *x, int op, uint8_t ta, int64_t va, uint8_t tb, int64_t vb) {
    if (op == CMP_EQ) return values_equal(x, ta, va, tb, vb);
    if (op == CMP_NE) return !values_equal(x, ta, va, tb, vb);
    int o = values_order(x, ta, va, tb, vb);
    if (o == ORD_NONE) return 0;
    if (o == ORD_NILS) return op == CMP_LE || op == CMP_GE;
    switch (op) {
    case CMP_LT: return o < 0;
    case CMP_LE: return o <= 0;
    case CMP_GT: return o > 0;
    default: return o >= 0;
    }
}

static void compare_rows(const vm_ctx *x, int op, const vm_reg *a, const vm_reg *b, size_t s,
                         size_t len, uint8_t *m) {
    for (size_t i = 0; i < len; i++) {
        uint8_t ta, tb;
        int64_t va, vb;
        value_at(a, s + i, &ta, &va);
        value_at(b, s + i, &tb, &vb);
        m[i] = (uint8_t)compare_values(x, op, ta, va, tb, vb);
    }
}

/* The result of `column <op> c` when c lies beyond every value of the column's type:
 * above = 1 when c is greater than all of them. */
static uint8_t beyond(int op, int above) {
    switch (op) {
    case CMP_EQ: return 0;
    case CMP_NE: return 1;
    case CMP_LT: case CMP_LE: return (uint8_t)above;
    default: return (uint8_t)!above;
    }
}

/* `r <op> constant` over one block: the block kernels for the common shapes. */
static void compare_const(const vm_ctx *x, const ottl_vm_kernels *K, int op, const vm_reg *r,
                          const vm_reg *c, size_t s, size_t len, uint8_t *m) {
    int64_t cv = c->cval;
    if (c->tag == OTTL_V_INT) {
        if (r->kind == RK_I32 && r->tag == OTTL_V_INT) {
            if (cv > INT32_MAX || cv < INT32_MIN) memset(m, beyond(op, cv > INT32_MAX), len);
            else K->cmp_i32((const int32_t *)r->col + s, len, op, (int32_t)cv, m);
            return;
        }
        if (r->kind == RK_U32) {
            if (cv > (int64_t)UINT32_MAX || cv < 0) memset(m, beyond(op, cv > 0), len);
            else K->cmp_u32((const uint32_t *)r->col + s, len, op, (uint32_t)cv, m);
            return;
        }
        if (r->kind == RK_U64) {
            K->cmp_i64((const uint64_t *)r->col + s, len, op, cv, m);
            return;
        }
        if (r->kind == RK_I64 && r->tag == OTTL_V_INT) {
            K->cmp_i64((const uint64_t *)r->col + (s - r->base), len, op, cv, m);
            return;
        }
        if (r->kind == RK_TAGGED) {
            if (r->i32 && cv > INT32_MIN && cv <= INT32_MAX) {
                if (op == CMP_LT || op == CMP_LE) /* the INT32_MIN of non-ints would hold */
                    K->cmp_tagged_i32(r->tags + s, r->i32 + s, len, op, (int32_t)cv, m);
                else
                    K->cmp_i32(r->i32 + s, len, op, (int32_t)cv, m);
            } else
                K->cmp_tagged_int(r->tags + s, r->vals + s, len, op, cv, m);
            return;
        }
    }
    if ((c->tag == OTTL_V_TRACE_ID || c->tag == OTTL_V_SPAN_ID) && r->kind == RK_I64 &&
        r->tag == c->tag && (op == CMP_EQ || op == CMP_NE)) {
        /* Ids are interned: equal ids have equal string ids, and one the batch lacks equals
         * none of its ids. */
        if (cv < 0) memset(m, op == CMP_NE, len);
        else K->cmp_i64((const uint64_t *)r->col + (s - r->base), len, op, cv, m);
        return;
    }
    if (c->tag == OTTL_V_STRING && (op == CMP_EQ || op == CMP_NE)) {
        if (cv < 0 && (r->kind == RK_I32 || r->kind == RK_I64 || r->kind == RK_TAGGED)) {
            /* The string is nowhere in the batch: nothing equals it. */
            memset(m, op == CMP_NE, len);
            return;
        }
        if (r->kind == RK_I32 && r->tag == OTTL_V_STRING) {
            K->cmp_i32((const int32_t *)r->col + s, len, op, (int32_t)cv, m);
            return;
        }
        if (r->kind == RK_I64 && r->tag == OTTL_V_STRING) {
            K->cmp_i64((const uint64_t *)r->col + (s - r->base), len, op, cv, m);
            return;
        }
        if (r->kind == RK_TAGGED) {
            if (r->sids) { /* nil rows hold -1, which no id equals */
                K->cmp_i32(r->sids + s, len, op, (int32_t)cv, m);
                return;
            }
            K->eq_tagged_id(r->tags + s, r->vals + s, len, OTTL_V_STRING, cv, m);
            if (op == CMP_NE) K->mask_not(m, m, len);
            return;
        }
    }
    compare_rows(x, op, r, c, s, len, m);
}

/* The int64 values of an int register over one block. */
static void ints_of(const vm_reg *r, size_t s, size_t len, int64_t *dst) {
    switch (r->kind) {
    case RK_I32: for (size_t i = 0; i < len; i++) dst[i] = ((const int32_t *)r->col)[s + i]; break;
    case RK_U32: for (size_t i = 0; i < len; i++) dst[i] = ((const uint32_t *)r->col)[s + i]; break;
    case RK_U64: for (size_t i = 0; i < len; i++) dst[i] = (int64_t)((const uint64_t *)r->col)[s + i]; break;
    case RK_I64: memcpy(dst, (const int64_t *)r->col + (s - r->base), len * sizeof *dst); break;
    case RK_TAGGED: memcpy(dst, r->vals + s, len * sizeof *dst); break;
    default: for (size_t i = 0; i < len; i++) dst[i] = r->cval; break;
    }
}

/* The block of an int register as int64 in place, or NULL when it must be widened. uint64
 * columns hold OTTL int64 values: the same bits. */
static const int64_t *int64_view(const vm_reg *r, size_t s) {
    if (r->kind == RK_U64) return (const int64_t *)((const uint64_t *)r->col + s);
    if (r->kind == RK_I64) return (const int64_t *)r->col + (s - r->base);
    return NULL;
}

/* Go's int64 arithmetic: wrapping, division truncating toward zero; the compiler emits a
 * division only by a nonzero constant, and the two cases C leaves undefined are defined here. */
static void math_block(int op, const int64_t *a, const int64_t *b, size_t len, int64_t *out) {
    switch (op) {
    case MATH_ADD: for (size_t i = 0; i < len; i++) out[i] = (int64_t)((uint64_t)a[i] + (uint64_t)b[i]); break;
    case MATH_SUB: for (size_t i = 0; i < len; i++) out[i] = (int64_t)((uint64_t)a[i] - (uint64_t)b[i]); break;
    case MATH_MUL: for (size_t i = 0; i < len; i++) out[i] = (int64_t)((uint64_t)a[i] * (uint64_t)b[i]); break;
    default:
        for (size_t i = 0; i < len; i++) {
            if (b[i] == 0) out[i] = 0;
            else if (b[i] == -1) out[i] = (int64_t)(0 - (uint64_t)a[i]);
            else out[i] = a[i] / b[i];
        }
    }
}

static void load_field(const ottl_batch *b, derived_cache *c, int32_t f, vm_reg *r) {
    const ottl_spans *S = &b->spans;
    const ottl_logs *L = &b->logs;
    r->tags = NULL;
    r->vals = NULL;
    switch (f) {
#define COL(field, kind_, tag_, column) \
    case field: r->kind = kind_; r->tag = tag_; r->col = column; return;
    COL(F_SPAN_NAME, RK_I32, OTTL_V_STRING, S->name)
    COL(F_SPAN_KIND, RK_I32, OTTL_V_INT, S->kind)
    COL(F_SPAN_TRACE_STATE, RK_I32, OTTL_V_STRING, S->trace_state)
    COL(F_SPAN_START, RK_U64, OTTL_V_INT, S->start_time)
    COL(F_SPAN_END, RK_U64, OTTL_V_INT, S->end_time)
    COL(F_SPAN_STATUS_CODE, RK_I32, OTTL_V_INT, S->status_code)
    COL(F_SPAN_STATUS_MESSAGE, RK_I32, OTTL_V_STRING, S->status_message)
    COL(F_SPAN_DROPPED_ATTRS, RK_U32, OTTL_V_INT, S->dropped_attrs)
    COL(F_SPAN_DROPPED_EVENTS, RK_U32, OTTL_V_INT, S->dropped_events)
    COL(F_SPAN_DROPPED_LINKS, RK_U32, OTTL_V_INT, S->dropped_links)
    COL(F_LOG_TIME, RK_U64, OTTL_V_INT, L->time)
    COL(F_LOG_OBSERVED_TIME, RK_U64, OTTL_V_INT, L->observed_time)
    COL(F_LOG_SEVERITY_NUMBER, RK_I32, OTTL_V_INT, L->severity_number)
    COL(F_LOG_SEVERITY_TEXT, RK_I32, OTTL_V_STRING, L->severity_text)
    COL(F_LOG_EVENT_NAME, RK_I32, OTTL_V_STRING, L->event_name)
    COL(F_LOG_FLAGS, RK_U32, OTTL_V_INT, L->flags)
    COL(F_LOG_DROPPED_ATTRS, RK_U32, OTTL_V_INT, L->dropped)
#undef COL
    case F_LOG_BODY:
        r->kind = RK_TAGGED;
        r->tags = L->body_tag;
        r->vals = L->body;
        r->sids = r->i32 = NULL;
        return;
    default: { /* gathered by ottl_vm_prepare as int64: a parent's field, an id (as the string
                * id of its bytes or of its hex), a kind's name */
        derived_col *d = cache_find(c, f, -1);
        r->kind = RK_I64;
        r->tag = ottl_field_tag[f];
        r->col = d->vals;
        r->base = 0;
        return;
    }
    }
}

static int run(const ottl_vm_program *p, ottl_batch *b, const uint8_t *gate,
               const ottl_vm_derived *derived, size_t nderived, uint8_t *out, vm_edits *edits,
               ottl_vm_error *err) {
    const ottl_vm_kernels *K = ottl_vm_kernels_get();
    if ((size_t)p->nderived > nderived) {
        snprintf(err->message, sizeof err->message,
                 "the program reads %d derived columns; %zu were given", p->nderived, nderived);
        err->pc = -1;
        return -1;
    }
    derived_cache *c = b->vm_cache;
    size_t n = rows_of(b);
    err->pc = -1;
    if (p->signal && p->signal != b->kind) {
        snprintf(err->message, sizeof err->message, "the program and the batch are of different signals");
        return -1;
    }
    if (!c) {
        snprintf(err->message, sizeof err->message, "the batch was not prepared for the program");
        return -1;
    }
    vm_reg *regs = calloc((size_t)(p->nregs ? p->nregs : 1), sizeof *regs);
    /* Block-sized scratch: one int64 block per register (MATH results), two for operands. */
    int64_t *scratch = malloc(((size_t)p->nregs + 2) * OTTL_VM_BLOCK_SIZE * sizeof *scratch);
    uint8_t *masks = malloc((size_t)(p->nmasks ? p->nmasks : 1) * OTTL_VM_BLOCK_SIZE);
    int64_t *csid = malloc((p->nconsts ? p->nconsts : 1) * sizeof *csid);
    /* The derived column of each LOAD_ATTR, found once per run rather than per block. */
    derived_col **attr = calloc(p->ncode ? p->ncode : 1, sizeof *attr);
    int rc = -1;
    if (!regs || !masks || !csid || !scratch || !attr) goto nomem;
    for (size_t pc = 0; pc < p->ncode; pc += 1 + strlen(ottl_op_operands[p->code[pc]]))
        if (p->code[pc] == OP_LOAD_ATTR)
            attr[pc] = cache_find(c, p->code[pc + 2], program_string_in_batch(p, b, p->code[pc + 3]));
    for (size_t k = 0; k < p->nconsts; k++) {
        uint8_t t = p->const_tag[k];
        if (t == OTTL_V_STRING || t == OTTL_V_BYTES || t == OTTL_V_TRACE_ID || t == OTTL_V_SPAN_ID) {
            int32_t sid = program_string_in_batch(p, b, p->const_val[k]);
            csid[k] = sid >= 0 ? sid : -(p->const_val[k] + 2);
        } else {
            csid[k] = p->const_val[k];
        }
    }
    vm_ctx x = {p, b, csid};
    const int32_t *code = p->code;
    for (size_t s = 0; s < n; s += OTTL_VM_BLOCK_SIZE) {
        size_t len = n - s < OTTL_VM_BLOCK_SIZE ? n - s : OTTL_VM_BLOCK_SIZE;
        size_t pc = 0;
        for (;;) {
            const int32_t *in = code + pc;
            switch (in[0]) {
            case OP_HALT:
                goto next_block;
            case OP_LOAD_FIELD: {
                vm_reg *r = &regs[in[1]];
                load_field(b, c, in[2], r);
                pc += 3;
                break;
            }
            case OP_LOAD_ATTR: {
                vm_reg *r = &regs[in[1]];
                derived_col *d = attr[pc];
                r->kind = RK_TAGGED;
                r->tags = d->tags;
                r->vals = d->vals;
                r->sids = d->sids;
                r->i32 = d->i32;
                pc += 4;
                break;
            }
            case OP_LOAD_DERIVED: {
                vm_reg *r = &regs[in[1]];
                r->kind = RK_TAGGED;
                r->tags = derived[in[2]].tags;
                r->vals = derived[in[2]].vals;
                r->sids = r->i32 = NULL;
                pc += 3;
                break;
            }
            case OP_LOAD_CONST: {
                vm_reg *r = &regs[in[1]];
                r->kind = RK_CONST;
                r->tag = p->const_tag[in[2]];
                r->cval = csid[in[2]];
                pc += 3;
                break;
            }
            case OP_MATH: {
                vm_reg *r = &regs[in[1]];
                int64_t *ta = scratch + (size_t)p->nregs * OTTL_VM_BLOCK_SIZE;
                int64_t *tb = ta + OTTL_VM_BLOCK_SIZE;
                int64_t *dst = scratch + (size_t)in[1] * OTTL_VM_BLOCK_SIZE;
                /* 64-bit columns are read in place; narrower ones and constants widened. */
                const int64_t *a = int64_view(&regs[in[3]], s);
                const int64_t *bb = int64_view(&regs[in[4]], s);
                if (!a) ints_of(&regs[in[3]], s, len, ta), a = ta;
                if (!bb) ints_of(&regs[in[4]], s, len, tb), bb = tb;
                math_block(in[2], a, bb, len, dst);
                r->kind = RK_I64;
                r->tag = OTTL_V_INT;
                r->col = dst;
                r->base = s;
                pc += 5;
                break;
            }
            case OP_CMP:
                compare_rows(&x, in[2], &regs[in[3]], &regs[in[4]], s, len,
                             masks + (size_t)in[1] * OTTL_VM_BLOCK_SIZE);
                pc += 5;
                break;
            case OP_CMP_CONST: {
                vm_reg cr = {.kind = RK_CONST, .tag = p->const_tag[in[4]], .cval = csid[in[4]]};
                compare_const(&x, K, in[2], &regs[in[3]], &cr, s, len,
                              masks + (size_t)in[1] * OTTL_VM_BLOCK_SIZE);
                pc += 5;
                break;
            }
            case OP_AND:
                K->mask_and(masks + (size_t)in[1] * OTTL_VM_BLOCK_SIZE,
                            masks + (size_t)in[2] * OTTL_VM_BLOCK_SIZE,
                            masks + (size_t)in[3] * OTTL_VM_BLOCK_SIZE, len);
                pc += 4;
                break;
            case OP_OR:
                K->mask_or(masks + (size_t)in[1] * OTTL_VM_BLOCK_SIZE,
                           masks + (size_t)in[2] * OTTL_VM_BLOCK_SIZE,
                           masks + (size_t)in[3] * OTTL_VM_BLOCK_SIZE, len);
                pc += 4;
                break;
            case OP_NOT:
                K->mask_not(masks + (size_t)in[1] * OTTL_VM_BLOCK_SIZE,
                            masks + (size_t)in[2] * OTTL_VM_BLOCK_SIZE, len);
                pc += 3;
                break;
            case OP_MASK_CONST:
                memset(masks + (size_t)in[1] * OTTL_VM_BLOCK_SIZE, p->const_val[in[2]] != 0, len);
                pc += 3;
                break;
            case OP_JUMP_IF_NONE:
                if (K->mask_count(masks + (size_t)in[1] * OTTL_VM_BLOCK_SIZE, len) == 0)
                    pc = (size_t)in[2];
                else
                    pc += 3;
                break;
            case OP_JUMP_IF_ALL:
                if (K->mask_count(masks + (size_t)in[1] * OTTL_VM_BLOCK_SIZE, len) == len)
                    pc = (size_t)in[2];
                else
                    pc += 3;
                break;
            case OP_RESULT:
                memcpy(out + s, masks + (size_t)in[1] * OTTL_VM_BLOCK_SIZE, len);
                pc += 2;
                break;
            case OP_GATE:
                if (gate) memcpy(masks + (size_t)in[1] * OTTL_VM_BLOCK_SIZE, gate + s, len);
                else memset(masks + (size_t)in[1] * OTTL_VM_BLOCK_SIZE, 1, len);
                pc += 2;
                break;
            case OP_SET_FIELD: {
                const uint8_t *m = masks + (size_t)in[3] * OTTL_VM_BLOCK_SIZE;
                for (size_t i = 0; i < len; i++) {
                    if (!m[i]) continue;
                    uint8_t t;
                    int64_t v;
                    value_at(&regs[in[2]], s + i, &t, &v);
                    if (vm_set_field(b, in[1], s + i, t, v)) goto nomem;
                }
                pc += 4;
                break;
            }
            case OP_SET_ATTR:
            case OP_DELETE_ATTR: {
                int del = in[0] == OP_DELETE_ATTR;
                const uint8_t *m = masks + (size_t)in[del ? 3 : 4] * OTTL_VM_BLOCK_SIZE;
                int32_t key = program_string_in_batch(p, b, in[2]); /* interned by prepare */
                edits->owner = in[1];
                for (size_t i = 0; i < len; i++) {
                    if (!m[i]) continue;
                    uint8_t t = OTTL_V_NONE;
                    int64_t v = 0;
                    if (!del) {
                        value_at(&regs[in[3]], s + i, &t, &v);
                        if (t == OTTL_V_NONE) continue; /* set(x, nil) does nothing */
                    }
                    if (vm_log_edit(edits, (int32_t)(s + i), key, del ? VM_EDIT_DELETE : VM_EDIT_SET,
                                    t, v))
                        goto nomem;
                }
                pc += del ? 4 : 5;
                break;
            }
            default: /* the verifier admits no other opcode */
                goto next_block;
            }
        }
    next_block:;
    }
    rc = 0;
nomem:
    if (rc) snprintf(err->message, sizeof err->message, "out of memory while running the program");
    free(regs);
    free(masks);
    free(csid);
    free(scratch);
    free(attr);
    return rc;
}

int ottl_vm_filter(const ottl_vm_program *p, const ottl_batch *b, uint8_t *out,
                   ottl_vm_error *err) {
    if (p->writes) {
        snprintf(err->message, sizeof err->message, "a statement is not a condition");
        err->pc = -1;
        return -1;
    }
    /* A program that writes nothing leaves the batch as it is (the cast is for run()). */
    return run(p, (ottl_batch *)b, NULL, NULL, 0, out, NULL, err);
}

int ottl_vm_filter_derived(const ottl_vm_program *p, const ottl_batch *b,
                           const ottl_vm_derived *derived, size_t nderived, uint8_t *out,
                           ottl_vm_error *err) {
    if (p->writes) {
        snprintf(err->message, sizeof err->message, "a statement is not a condition");
        err->pc = -1;
        return -1;
    }
    return run(p, (ottl_batch *)b, NULL, derived, nderived, out, NULL, err);
}

int ottl_vm_execute(const ottl_vm_program *p, ottl_batch *b, const uint8_t *gate, uint8_t *out,
                    ottl_vm_error *err) {
    return ottl_vm_execute_derived(p, b, gate, NULL, 0, out, err);
}

int32_t ottl_vm_intern(ottl_batch *b, const uint8_t *s, size_t len) {
    return ottl_strtab_intern(&b->strings, s, len);
}

int ottl_vm_column(const ottl_vm_program *p, ottl_batch *b, int32_t field, const uint8_t *key,
                   size_t key_len, uint8_t missing, uint8_t *tags, int64_t *vals) {
    size_t n = rows_of(b);
    if (field < 0 || field >= F_COUNT) return -1;
    if (key) {
        if (field != F_SPAN_ATTRS && field != F_LOG_ATTRS && field != F_RESOURCE_ATTRS &&
            field != F_SCOPE_ATTRS && field != F_SPAN_CACHE && field != F_LOG_CACHE)
            return -1;
        derived_col d = {.field = field, .key = ottl_strtab_find(&b->strings, key, key_len),
                         .missing = missing};
        if (gather_attr(b, &d)) {
            free(d.tags);
            free(d.vals);
            return -1;
        }
        memcpy(tags, d.tags, n);
        memcpy(vals, d.vals, n * sizeof *vals);
        free(d.tags);
        free(d.vals);
        return 0;
    }
    derived_cache *c = cache_of(b);
    if (!c) return -1;
    if (field == F_SPAN_ATTRS || field == F_LOG_ATTRS || field == F_RESOURCE_ATTRS ||
        field == F_SCOPE_ATTRS || field == F_SPAN_CACHE || field == F_LOG_CACHE ||
        (ottl_field_signal[field] && ottl_field_signal[field] != b->kind))
        return -1;
    if (is_gathered(field) && !cache_find(c, field, -1)) {
        char why[160];
        derived_col *d = cache_add(c, field, -1);
        if (!d) return -1;
        int rc = gather_field(b, d, why, sizeof why);
        if (rc) {
            c->n--;
            free(d->vals);
            return rc == -2 ? OTTL_VM_NEEDS_REFERENCE : -1;
        }
    }
    vm_reg r;
    memset(&r, 0, sizeof r);
    load_field(b, c, field, &r);
    for (size_t i = 0; i < n; i++) value_at(&r, i, &tags[i], &vals[i]);
    (void)p;
    return 0;
}

int ottl_vm_execute_derived(const ottl_vm_program *p, ottl_batch *b, const uint8_t *gate,
                            const ottl_vm_derived *derived, size_t nderived, uint8_t *out,
                            ottl_vm_error *err) {
    vm_edits edits = {0};
    int rc = run(p, b, gate, derived, nderived, out, &edits, err);
    if (rc == 0 && edits.n) {
        if (vm_apply_edits(b, edits.owner, &edits)) {
            snprintf(err->message, sizeof err->message,
                     "out of memory while writing attributes: the batch is lost");
            err->pc = -1;
            rc = -1;
        }
        ottl_batch_drop_derived(b);
    }
    free(edits.items);
    return rc;
}
