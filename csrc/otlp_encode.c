/* OTLP encoding shared by traces and logs: values, attributes, ids, and the resource / scope
 * framing with the selection mask. */
#include "otlp_encode.h"

#include <stdlib.h>
#include <string.h>

#define kv_size enc_kv_size

static inline uint64_t container_start(int64_t val) { return (uint64_t)val & 0xffffffffu; }
static inline uint64_t container_count(int64_t val) { return (uint64_t)val >> 32; }

/* Content size of a container's ArrayValue / KeyValueList message. */
size_t enc_container_size(const ottl_batch *b, uint8_t tag, int64_t val) {
    const ottl_kvpool *v = &b->values;
    size_t n = 0;
    uint64_t s = container_start(val), e = s + container_count(val);
    for (uint64_t k = s; k < e; k++) {
        if (tag == OTTL_V_ARRAY) n += enc_field(enc_value_size(b, v->tag[k], v->val[k]));
        else n += enc_field(kv_size(b, v->key[k], v->tag[k], v->val[k]));
    }
    return n;
}

static uint8_t *kv_write(const ottl_batch *b, int32_t key, uint8_t tag, int64_t val, uint8_t *o) {
    o = enc_str(b, PB_TAG(1, PB_LEN), key, o);
    if (tag != OTTL_V_NONE) {
        *o++ = PB_TAG(2, PB_LEN);
        o = pb_put_varint(o, enc_value_size(b, tag, val));
        o = enc_value(b, tag, val, o);
    }
    return o;
}

uint8_t *enc_value(const ottl_batch *b, uint8_t tag, int64_t val, uint8_t *o) {
    switch (tag) {
    case OTTL_V_STRING:
    case OTTL_V_BYTES:
        return pb_put_bytes(o, PB_TAG(tag, PB_LEN), ottl_strtab_ptr(&b->strings, (int32_t)val),
                            ottl_strtab_len(&b->strings, (int32_t)val));
    case OTTL_V_BOOL:
        *o++ = PB_TAG(2, PB_VARINT);
        *o++ = val ? 1 : 0;
        return o;
    case OTTL_V_INT:
        *o++ = PB_TAG(3, PB_VARINT);
        return pb_put_varint(o, (uint64_t)val);
    case OTTL_V_DOUBLE:
        *o++ = PB_TAG(4, PB_I64);
        return pb_put_fixed64(o, (uint64_t)val);
    case OTTL_V_STRINDEX:
        *o++ = PB_TAG(8, PB_VARINT);
        return pb_put_varint(o, enc_i32((int32_t)val));
    case OTTL_V_ARRAY:
    case OTTL_V_KVLIST: {
        const ottl_kvpool *v = &b->values;
        *o++ = PB_TAG(tag, PB_LEN);
        o = pb_put_varint(o, enc_container_size(b, tag, val));
        uint64_t s = container_start(val), e = s + container_count(val);
        for (uint64_t k = s; k < e; k++) {
            *o++ = PB_TAG(1, PB_LEN);
            if (tag == OTTL_V_ARRAY) {
                o = pb_put_varint(o, enc_value_size(b, v->tag[k], v->val[k]));
                o = enc_value(b, v->tag[k], v->val[k], o);
            } else {
                o = pb_put_varint(o, kv_size(b, v->key[k], v->tag[k], v->val[k]));
                o = kv_write(b, v->key[k], v->tag[k], v->val[k], o);
            }
        }
        return o;
    }
    default:
        return o;
    }
}

size_t enc_attrs_size(const ottl_batch *b, const ottl_kvpool *pool, int64_t from, int64_t to) {
    size_t n = 0;
    for (int64_t k = from; k < to; k++) n += enc_field(kv_size(b, pool->key[k], pool->tag[k], pool->val[k]));
    return n;
}

uint8_t *enc_attrs(const ottl_batch *b, const ottl_kvpool *pool, int64_t from, int64_t to,
                   uint8_t tag, uint8_t *o) {
    for (int64_t k = from; k < to; k++) {
        *o++ = tag;
        o = pb_put_varint(o, kv_size(b, pool->key[k], pool->tag[k], pool->val[k]));
        o = kv_write(b, pool->key[k], pool->tag[k], pool->val[k], o);
    }
    return o;
}

static int32_t irregular_sid(const ottl_batch *b, int owner, size_t row, int field) {
    const ottl_irregular *g = &b->irregular;
    for (size_t i = 0; i < g->n; i++)
        if (g->owner[i] == owner && g->field[i] == field && (size_t)g->row[i] == row)
            return g->sid[i];
    return 0;
}

size_t enc_id_size(const ottl_batch *b, int owner, size_t row, int field, uint8_t present,
                   uint8_t bit, uint8_t irr_bit, size_t width) {
    if (present & bit) return 2 + width;
    if (present & irr_bit) return enc_str_size(b, irregular_sid(b, owner, row, field));
    return 0;
}

uint8_t *enc_id(const ottl_batch *b, int owner, size_t row, int field, uint8_t present,
                uint8_t bit, uint8_t irr_bit, const uint8_t *fixed, size_t width, uint8_t *o) {
    uint8_t tag = PB_TAG(field, PB_LEN);
    if (present & bit) return pb_put_bytes(o, tag, fixed, width);
    if (present & irr_bit) return enc_str(b, tag, irregular_sid(b, owner, row, field), o);
    return o;
}

/* ---- framing ---- */

static size_t resource_size(const ottl_batch *b, size_t r) {
    const ottl_resources *t = &b->resources;
    size_t n = enc_attrs_size(b, &b->resource_attrs, t->attr_off[r], t->attr_off[r + 1]);
    n += enc_varint_size(t->dropped[r]);
    for (int64_t k = t->entity_off[r]; k < t->entity_off[r + 1]; k++)
        n += enc_field(ottl_strtab_len(&b->strings, b->entity_refs[k]));
    return n;
}

static uint8_t *resource_write(const ottl_batch *b, size_t r, uint8_t *o) {
    const ottl_resources *t = &b->resources;
    o = enc_attrs(b, &b->resource_attrs, t->attr_off[r], t->attr_off[r + 1], PB_TAG(1, PB_LEN), o);
    o = enc_varint(PB_TAG(2, PB_VARINT), t->dropped[r], o);
    for (int64_t k = t->entity_off[r]; k < t->entity_off[r + 1]; k++) {
        int32_t sid = b->entity_refs[k];
        o = pb_put_bytes(o, PB_TAG(3, PB_LEN), ottl_strtab_ptr(&b->strings, sid),
                         ottl_strtab_len(&b->strings, sid));
    }
    return o;
}

static size_t scope_size(const ottl_batch *b, size_t s) {
    const ottl_scopes *t = &b->scopes;
    return enc_str_size(b, t->name[s]) + enc_str_size(b, t->version[s]) +
           enc_attrs_size(b, &b->scope_attrs, t->attr_off[s], t->attr_off[s + 1]) +
           enc_varint_size(t->dropped[s]);
}

static uint8_t *scope_write(const ottl_batch *b, size_t s, uint8_t *o) {
    const ottl_scopes *t = &b->scopes;
    o = enc_str(b, PB_TAG(1, PB_LEN), t->name[s], o);
    o = enc_str(b, PB_TAG(2, PB_LEN), t->version[s], o);
    o = enc_attrs(b, &b->scope_attrs, t->attr_off[s], t->attr_off[s + 1], PB_TAG(3, PB_LEN), o);
    return enc_varint(PB_TAG(4, PB_VARINT), t->dropped[s], o);
}

static size_t rec_count(const ottl_batch *b) {
    return b->kind == OTTL_BATCH_SPANS ? b->spans.n : b->logs.n;
}

static size_t rec_size(const ottl_batch *b, size_t i, int verbatim) {
    if (verbatim) {
        const int64_t *s = b->kind == OTTL_BATCH_SPANS ? b->spans.byte_start : b->logs.byte_start;
        const int64_t *e = b->kind == OTTL_BATCH_SPANS ? b->spans.byte_end : b->logs.byte_end;
        return (size_t)(e[i] - s[i]);
    }
    return b->kind == OTTL_BATCH_SPANS ? enc_span_size(b, i) : enc_log_size(b, i);
}

/* A group left without records by the mask is not written. */
#define SKIPPED ((size_t)-1)

void ottl_encode_plan_free(ottl_encode_plan_t *plan) {
    free(plan->rec_size);
    free(plan->scope_size);
    free(plan->res_size);
    memset(plan, 0, sizeof *plan);
}

int ottl_encode_plan(const ottl_batch *b, const uint8_t *mask, int verbatim,
                     ottl_encode_plan_t *plan) {
    memset(plan, 0, sizeof *plan);
    size_t nrec = rec_count(b);
    plan->rec_size = malloc((nrec + 1) * sizeof(size_t));
    plan->scope_size = malloc((b->scopes.n + 1) * sizeof(size_t));
    plan->res_size = malloc((b->resources.n + 1) * sizeof(size_t));
    if (!plan->rec_size || !plan->scope_size || !plan->res_size) {
        ottl_encode_plan_free(plan);
        return -1;
    }
    size_t total = 0;
    const ottl_resources *R = &b->resources;
    const ottl_scopes *S = &b->scopes;
    for (size_t r = 0; r < R->n; r++) {
        size_t rs = 0, kept_scopes = 0;
        for (int64_t s = R->scope_off[r]; s < R->scope_off[r + 1]; s++) {
            size_t ss = 0, kept = 0;
            for (int64_t i = S->rec_off[s]; i < S->rec_off[s + 1]; i++) {
                if (mask && !mask[i]) continue;
                size_t n = rec_size(b, (size_t)i, verbatim);
                plan->rec_size[i] = n;
                ss += enc_field(n);
                kept++;
            }
            if (mask && !kept) {
                plan->scope_size[s] = SKIPPED;
                continue;
            }
            if (S->present[s]) ss += enc_field(scope_size(b, (size_t)s));
            ss += enc_str_size(b, S->schema_url[s]);
            plan->scope_size[s] = ss;
            rs += enc_field(ss);
            kept_scopes++;
        }
        if (mask && !kept_scopes) {
            plan->res_size[r] = SKIPPED;
            continue;
        }
        if (R->present[r]) rs += enc_field(resource_size(b, r));
        rs += enc_str_size(b, R->schema_url[r]);
        plan->res_size[r] = rs;
        total += enc_field(rs);
    }
    plan->total = total;
    return 0;
}

void ottl_encode_write(const ottl_batch *b, const uint8_t *mask, int verbatim,
                       const ottl_encode_plan_t *plan, uint8_t *o) {
    const ottl_resources *R = &b->resources;
    const ottl_scopes *S = &b->scopes;
    int spans = b->kind == OTTL_BATCH_SPANS;
    const int64_t *byte_start = spans ? b->spans.byte_start : b->logs.byte_start;
    for (size_t r = 0; r < R->n; r++) {
        if (plan->res_size[r] == SKIPPED) continue;
        *o++ = PB_TAG(1, PB_LEN);
        o = pb_put_varint(o, plan->res_size[r]);
        if (R->present[r]) {
            *o++ = PB_TAG(1, PB_LEN);
            o = pb_put_varint(o, resource_size(b, r));
            o = resource_write(b, r, o);
        }
        for (int64_t s = R->scope_off[r]; s < R->scope_off[r + 1]; s++) {
            if (plan->scope_size[s] == SKIPPED) continue;
            *o++ = PB_TAG(2, PB_LEN);
            o = pb_put_varint(o, plan->scope_size[s]);
            if (S->present[s]) {
                *o++ = PB_TAG(1, PB_LEN);
                o = pb_put_varint(o, scope_size(b, (size_t)s));
                o = scope_write(b, (size_t)s, o);
            }
            for (int64_t i = S->rec_off[s]; i < S->rec_off[s + 1]; i++) {
                if (mask && !mask[i]) continue;
                size_t n = plan->rec_size[i];
                *o++ = PB_TAG(2, PB_LEN);
                o = pb_put_varint(o, n);
                if (verbatim) {
                    memcpy(o, b->input + byte_start[i], n);
                    o += n;
                } else {
                    o = spans ? enc_span(b, (size_t)i, o) : enc_log(b, (size_t)i, o);
                }
            }
            o = enc_str(b, PB_TAG(3, PB_LEN), S->schema_url[s], o);
        }
        o = enc_str(b, PB_TAG(3, PB_LEN), R->schema_url[r], o);
    }
}
