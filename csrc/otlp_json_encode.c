/*
 * Batch -> OTLP/JSON (see otlp_json.h and docs/batches.md, "OTLP/JSON").
 *
 * The form protojson writes, compact: lowerCamelCase names in declaration order, proto3
 * defaults left out (oneof members and present messages kept, even when empty), ids as hex,
 * 64-bit integers as decimal strings, enums as numbers, bytes as standard base64, doubles in the
 * shortest form that reads back to the same double, NaN and the infinities as strings.
 *
 * One forward pass into the caller's buffer. When the buffer runs out, the writer keeps going
 * without writing, only counting, so a failed call reports the exact size a second call needs.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_json.h"
#include "pbwire.h"

typedef struct {
    uint8_t *start, *p, *end; /* room is [p, end); after an overflow end == p */
    size_t extra;             /* bytes counted but not written */
    const ottl_batch *b;
} jw_t;

static void jw_spill(jw_t *w, size_t n) {
    w->end = w->p;
    w->extra += n;
}

static inline void jw_put(jw_t *w, const void *s, size_t n) {
    if (PB_LIKELY((size_t)(w->end - w->p) >= n)) {
        memcpy(w->p, s, n);
        w->p += n;
    } else {
        jw_spill(w, n);
    }
}

static inline void jw_c(jw_t *w, char c) {
    if (PB_LIKELY(w->p < w->end)) *w->p++ = (uint8_t)c;
    else jw_spill(w, 1);
}

#define JW_LIT(w, s) jw_put(w, s, sizeof(s) - 1)

/* A member name (a literal with its quotes and colon), after a comma unless it is the first. */
#define JW_KEY(w, first, lit)          \
    do {                               \
        if (!(first)) jw_c(w, ',');    \
        (first) = 0;                   \
        JW_LIT(w, lit);                \
    } while (0)

/* ---- scalars ---- */

static size_t jw_fmt_u64(char *buf, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    return n;
}

static void jw_u64(jw_t *w, uint64_t v, int quoted) {
    char buf[24];
    size_t n = 0;
    if (quoted) buf[n++] = '"';
    n += jw_fmt_u64(buf + n, v);
    if (quoted) buf[n++] = '"';
    jw_put(w, buf, n);
}

static void jw_i64(jw_t *w, int64_t v, int quoted) {
    char buf[24];
    size_t n = 0;
    if (quoted) buf[n++] = '"';
    if (v < 0) buf[n++] = '-';
    n += jw_fmt_u64(buf + n, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
    if (quoted) buf[n++] = '"';
    jw_put(w, buf, n);
}

static void jw_double(jw_t *w, int64_t bits) {
    double v;
    memcpy(&v, &bits, 8);
    if (isnan(v)) {
        JW_LIT(w, "\"NaN\"");
        return;
    }
    if (isinf(v)) {
        if (v > 0) JW_LIT(w, "\"Infinity\"");
        else JW_LIT(w, "\"-Infinity\"");
        return;
    }
    /* Integers below 1e15 print as %.15g would print them, without the library. */
    if (fabs(v) < 1e15 && v == floor(v)) {
        if (v == 0 && signbit(v)) JW_LIT(w, "-0");
        else jw_i64(w, (int64_t)v, 0);
        return;
    }
    char buf[48];
    int n = 0;
    /* %.15g reproduces any double that has a shorter exact form; subnormals, with fewer bits,
     * can need fewer digits than that, so for them the search starts at one. */
    for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        n = snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v) break;
    }
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof buf) n = (int)sizeof buf - 1;
    /* printf wrote the locale's decimal point (LC_NUMERIC), which JSON has as '.': whatever
     * stands where a number has no digit, sign or exponent letter. */
    for (int i = 0; i < n; i++) {
        char c = buf[i];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e') continue;
        int k = i;
        while (k < n && !(buf[k] >= '0' && buf[k] <= '9')) k++;
        buf[i] = '.';
        memmove(buf + i + 1, buf + k, (size_t)(n - k));
        n -= k - i - 1;
        break;
    }
    jw_put(w, buf, (size_t)n);
}

/* ---- strings ---- */

/* Bytes before the first one JSON needs escaped ('"', '\\', control characters, DEL). */
static size_t jw_plain_prefix(const uint8_t *s, size_t n) {
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    size_t i = 0;
    while (n - i >= 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\'), d = x ^ (ones * 0x7f);
        /* High bits mark candidates; bytes >= 0x80 (UTF-8) are excluded by & ~x. */
        uint64_t special = (((q - ones) & ~q) | ((b - ones) & ~b) | ((d - ones) & ~d) |
                            (x - ones * 0x20)) & ~x & high;
        if (special) break;
        i += 8;
    }
    for (; i < n; i++) {
        uint8_t c = s[i];
        if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) break;
    }
    return i;
}

static size_t jw_escape(uint8_t c, char *o) {
    static const char hex[] = "0123456789abcdef";
    o[0] = '\\';
    switch (c) {
    case '"':
    case '\\':
        o[1] = (char)c;
        return 2;
    case '\b':
        o[1] = 'b';
        return 2;
    case '\f':
        o[1] = 'f';
        return 2;
    case '\n':
        o[1] = 'n';
        return 2;
    case '\r':
        o[1] = 'r';
        return 2;
    case '\t':
        o[1] = 't';
        return 2;
    default:
        memcpy(o + 1, "u00", 3);
        o[4] = hex[c >> 4];
        o[5] = hex[c & 15];
        return 6;
    }
}

static void jw_string(jw_t *w, const uint8_t *s, size_t n) {
    size_t plain = jw_plain_prefix(s, n);
    if (PB_LIKELY(plain == n)) {
        if ((size_t)(w->end - w->p) >= n + 2) {
            *w->p++ = '"';
            memcpy(w->p, s, n);
            w->p += n;
            *w->p++ = '"';
        } else {
            jw_spill(w, n + 2);
        }
        return;
    }
    jw_c(w, '"');
    jw_put(w, s, plain);
    char esc[8];
    for (size_t i = plain; i < n;) {
        uint8_t c = s[i];
        if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) {
            jw_put(w, esc, jw_escape(c, esc));
            i++;
            continue;
        }
        size_t k = jw_plain_prefix(s + i, n - i);
        jw_put(w, s + i, k);
        i += k;
    }
    jw_c(w, '"');
}

static void jw_str(jw_t *w, int32_t sid) {
    const ottl_strtab *t = &w->b->strings;
    jw_string(w, (const uint8_t *)ottl_strtab_ptr(t, sid), ottl_strtab_len(t, sid));
}

static void jw_hex(jw_t *w, const uint8_t *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t total = 2 * n + 2;
    if ((size_t)(w->end - w->p) < total) {
        jw_spill(w, total);
        return;
    }
    uint8_t *o = w->p;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        *o++ = (uint8_t)hex[s[i] >> 4];
        *o++ = (uint8_t)hex[s[i] & 15];
    }
    *o++ = '"';
    w->p = o;
}

static void jw_base64(jw_t *w, const uint8_t *s, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t total = (n + 2) / 3 * 4 + 2;
    if ((size_t)(w->end - w->p) < total) {
        jw_spill(w, total);
        return;
    }
    uint8_t *o = w->p;
    *o++ = '"';
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = (uint8_t)tab[v >> 18];
        *o++ = (uint8_t)tab[(v >> 12) & 63];
        *o++ = (uint8_t)tab[(v >> 6) & 63];
        *o++ = (uint8_t)tab[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *o++ = (uint8_t)tab[v >> 18];
        *o++ = (uint8_t)tab[(v >> 12) & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = (uint8_t)tab[v >> 18];
        *o++ = (uint8_t)tab[(v >> 12) & 63];
        *o++ = (uint8_t)tab[(v >> 6) & 63];
        *o++ = '=';
    }
    *o++ = '"';
    w->p = o;
}

/* An id field: the fixed column when its bit is set, the irregular side list when that bit is,
 * nothing when absent. */
static void jw_id(jw_t *w, int *first, const char *key, size_t keylen, int owner, size_t row,
                  int field, uint8_t present, uint8_t bit, uint8_t irr_bit, const uint8_t *fixed,
                  size_t width) {
    const ottl_batch *b = w->b;
    if (present & bit) {
        if (!*first) jw_c(w, ',');
        *first = 0;
        jw_put(w, key, keylen);
        jw_hex(w, fixed, width);
        return;
    }
    if (!(present & irr_bit)) return;
    const ottl_irregular *g = &b->irregular;
    for (size_t i = 0; i < g->n; i++) {
        if (g->owner[i] == owner && g->field[i] == field && (size_t)g->row[i] == row) {
            if (!*first) jw_c(w, ',');
            *first = 0;
            jw_put(w, key, keylen);
            jw_hex(w, (const uint8_t *)ottl_strtab_ptr(&b->strings, g->sid[i]),
                   ottl_strtab_len(&b->strings, g->sid[i]));
            return;
        }
    }
}

#define JW_ID(w, first, lit, owner, row, field, present, bit, irr, fixed, width)              \
    jw_id(w, &(first), lit, sizeof(lit) - 1, owner, row, field, present, bit, irr, fixed, width)

/* ---- values and attributes ---- */

static void jw_kv(jw_t *w, int32_t key, uint8_t tag, int64_t val);

static void jw_value(jw_t *w, uint8_t tag, int64_t val) {
    const ottl_batch *b = w->b;
    switch (tag) {
    case OTTL_V_STRING:
        JW_LIT(w, "{\"stringValue\":");
        jw_str(w, (int32_t)val);
        break;
    case OTTL_V_BOOL:
        if (val) JW_LIT(w, "{\"boolValue\":true");
        else JW_LIT(w, "{\"boolValue\":false");
        break;
    case OTTL_V_INT:
        JW_LIT(w, "{\"intValue\":");
        jw_i64(w, val, 1);
        break;
    case OTTL_V_DOUBLE:
        JW_LIT(w, "{\"doubleValue\":");
        jw_double(w, val);
        break;
    case OTTL_V_BYTES:
        JW_LIT(w, "{\"bytesValue\":");
        jw_base64(w, (const uint8_t *)ottl_strtab_ptr(&b->strings, (int32_t)val),
                  ottl_strtab_len(&b->strings, (int32_t)val));
        break;
    case OTTL_V_STRINDEX:
        JW_LIT(w, "{\"stringValueStrindex\":");
        jw_i64(w, (int32_t)val, 0);
        break;
    case OTTL_V_ARRAY:
    case OTTL_V_KVLIST: {
        const ottl_kvpool *v = &b->values;
        uint64_t s = (uint64_t)val & 0xffffffffu, e = s + ((uint64_t)val >> 32);
        if (tag == OTTL_V_ARRAY) JW_LIT(w, "{\"arrayValue\":{");
        else JW_LIT(w, "{\"kvlistValue\":{");
        if (e > s) {
            JW_LIT(w, "\"values\":[");
            for (uint64_t k = s; k < e; k++) {
                if (k > s) jw_c(w, ',');
                if (tag == OTTL_V_ARRAY) jw_value(w, v->tag[k], v->val[k]);
                else jw_kv(w, v->key[k], v->tag[k], v->val[k]);
            }
            jw_c(w, ']');
        }
        jw_c(w, '}');
        break;
    }
    default: /* OTTL_V_EMPTY: an AnyValue with nothing set */
        jw_c(w, '{');
        break;
    }
    jw_c(w, '}');
}

static void jw_kv(jw_t *w, int32_t key, uint8_t tag, int64_t val) {
    int first = 1;
    jw_c(w, '{');
    if (key) {
        JW_KEY(w, first, "\"key\":");
        jw_str(w, key);
    }
    if (tag != OTTL_V_NONE) {
        JW_KEY(w, first, "\"value\":");
        jw_value(w, tag, val);
    }
    jw_c(w, '}');
}

static void jw_attrs(jw_t *w, int *first, const ottl_kvpool *pool, int64_t from, int64_t to) {
    if (to <= from) return;
    JW_KEY(w, *first, "\"attributes\":[");
    for (int64_t k = from; k < to; k++) {
        if (k > from) jw_c(w, ',');
        jw_kv(w, pool->key[k], pool->tag[k], pool->val[k]);
    }
    jw_c(w, ']');
}

#define JW_U32(w, first, lit, v)     \
    do {                             \
        if (v) {                     \
            JW_KEY(w, first, lit);   \
            jw_u64(w, v, 0);         \
        }                            \
    } while (0)
#define JW_I32(w, first, lit, v)     \
    do {                             \
        if (v) {                     \
            JW_KEY(w, first, lit);   \
            jw_i64(w, v, 0);         \
        }                            \
    } while (0)
#define JW_U64S(w, first, lit, v)    \
    do {                             \
        if (v) {                     \
            JW_KEY(w, first, lit);   \
            jw_u64(w, v, 1);         \
        }                            \
    } while (0)
#define JW_STR(w, first, lit, sid)   \
    do {                             \
        if (sid) {                   \
            JW_KEY(w, first, lit);   \
            jw_str(w, sid);          \
        }                            \
    } while (0)

/* ---- entity refs: kept as their message bytes, checked by the decoder ---- */

/* The next length-delimited field at depth 0 of [*pp, end): 1 with its number and payload, 0 at
 * the end (or at anything malformed, which the decoder already refused). Others are skipped. */
static int jw_next_len(const uint8_t **pp, const uint8_t *end, uint32_t *field,
                       const uint8_t **s, size_t *n) {
    int depth = 0;
    while (*pp < end) {
        uint32_t f;
        int wt;
        uint64_t v;
        uint32_t v32;
        const uint8_t *sub;
        if (pb_read_tag(pp, end, &f, &wt)) return 0;
        switch (wt) {
        case PB_VARINT:
            if (pb_read_varint(pp, end, &v)) return 0;
            break;
        case PB_I64:
            if (pb_read_fixed64(pp, end, &v)) return 0;
            break;
        case PB_I32:
            if (pb_read_fixed32(pp, end, &v32)) return 0;
            break;
        case PB_LEN:
            if (pb_read_len(pp, end, &sub)) return 0;
            if (!depth) {
                *field = f;
                *s = *pp;
                *n = (size_t)(sub - *pp);
                *pp = sub;
                return 1;
            }
            *pp = sub;
            break;
        case PB_SGROUP:
            depth++;
            break;
        default: /* end group */
            if (--depth < 0) return 0;
            break;
        }
    }
    return 0;
}

static void jw_entity_ref(jw_t *w, const uint8_t *msg, size_t len) {
    static const char *const keys[] = {"", "\"schemaUrl\":", "\"type\":", "\"idKeys\":[",
                                       "\"descriptionKeys\":["};
    const uint8_t *end = msg + len, *p, *s, *last[3] = {NULL, NULL, NULL};
    size_t n, lastn[3] = {0, 0, 0};
    uint32_t f;
    int first = 1;
    jw_c(w, '{');
    /* Singular strings: the last occurrence wins; "" is left out. */
    for (p = msg; jw_next_len(&p, end, &f, &s, &n);) {
        if (f == 1 || f == 2) {
            last[f] = s;
            lastn[f] = n;
        }
    }
    for (uint32_t k = 1; k <= 2; k++) {
        if (last[k] && lastn[k]) {
            JW_KEY(w, first, "");
            jw_put(w, keys[k], strlen(keys[k]));
            jw_string(w, last[k], lastn[k]);
        }
    }
    for (uint32_t k = 3; k <= 4; k++) {
        int any = 0;
        for (p = msg; jw_next_len(&p, end, &f, &s, &n);) {
            if (f != k) continue;
            if (!any) {
                JW_KEY(w, first, "");
                jw_put(w, keys[k], strlen(keys[k]));
            } else {
                jw_c(w, ',');
            }
            any = 1;
            jw_string(w, s, n);
        }
        if (any) jw_c(w, ']');
    }
    jw_c(w, '}');
}

/* ---- resources and scopes ---- */

static void jw_resource(jw_t *w, size_t r) {
    const ottl_batch *b = w->b;
    const ottl_resources *t = &b->resources;
    int first = 1;
    jw_c(w, '{');
    jw_attrs(w, &first, &b->resource_attrs, t->attr_off[r], t->attr_off[r + 1]);
    JW_U32(w, first, "\"droppedAttributesCount\":", t->dropped[r]);
    if (t->entity_off[r + 1] > t->entity_off[r]) {
        JW_KEY(w, first, "\"entityRefs\":[");
        for (int64_t k = t->entity_off[r]; k < t->entity_off[r + 1]; k++) {
            if (k > t->entity_off[r]) jw_c(w, ',');
            int32_t sid = b->entity_refs[k];
            jw_entity_ref(w, (const uint8_t *)ottl_strtab_ptr(&b->strings, sid),
                          ottl_strtab_len(&b->strings, sid));
        }
        jw_c(w, ']');
    }
    jw_c(w, '}');
}

static void jw_scope(jw_t *w, size_t s) {
    const ottl_batch *b = w->b;
    const ottl_scopes *t = &b->scopes;
    int first = 1;
    jw_c(w, '{');
    JW_STR(w, first, "\"name\":", t->name[s]);
    JW_STR(w, first, "\"version\":", t->version[s]);
    jw_attrs(w, &first, &b->scope_attrs, t->attr_off[s], t->attr_off[s + 1]);
    JW_U32(w, first, "\"droppedAttributesCount\":", t->dropped[s]);
    jw_c(w, '}');
}

/* ---- records ---- */

static void jw_event(jw_t *w, size_t e) {
    const ottl_batch *b = w->b;
    const ottl_events *t = &b->events;
    int first = 1;
    jw_c(w, '{');
    JW_U64S(w, first, "\"timeUnixNano\":", t->time[e]);
    JW_STR(w, first, "\"name\":", t->name[e]);
    jw_attrs(w, &first, &b->event_attrs, t->attr_off[e], t->attr_off[e + 1]);
    JW_U32(w, first, "\"droppedAttributesCount\":", t->dropped[e]);
    jw_c(w, '}');
}

static void jw_link(jw_t *w, size_t l) {
    const ottl_batch *b = w->b;
    const ottl_links *t = &b->links;
    uint8_t pr = t->present[l];
    int first = 1;
    jw_c(w, '{');
    JW_ID(w, first, "\"traceId\":", OTTL_OWNER_LINK, l, 1, pr, OTTL_P_TRACE_ID,
          OTTL_P_IRR_TRACE_ID, t->trace_id + 16 * l, 16);
    JW_ID(w, first, "\"spanId\":", OTTL_OWNER_LINK, l, 2, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID,
          t->span_id + 8 * l, 8);
    JW_STR(w, first, "\"traceState\":", t->trace_state[l]);
    jw_attrs(w, &first, &b->link_attrs, t->attr_off[l], t->attr_off[l + 1]);
    JW_U32(w, first, "\"droppedAttributesCount\":", t->dropped[l]);
    JW_U32(w, first, "\"flags\":", t->flags[l]);
    jw_c(w, '}');
}

static void jw_span(jw_t *w, size_t i) {
    const ottl_batch *b = w->b;
    const ottl_spans *t = &b->spans;
    uint8_t pr = t->present[i];
    int first = 1;
    jw_c(w, '{');
    JW_ID(w, first, "\"traceId\":", OTTL_OWNER_SPAN, i, 1, pr, OTTL_P_TRACE_ID,
          OTTL_P_IRR_TRACE_ID, t->trace_id + 16 * i, 16);
    JW_ID(w, first, "\"spanId\":", OTTL_OWNER_SPAN, i, 2, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID,
          t->span_id + 8 * i, 8);
    JW_STR(w, first, "\"traceState\":", t->trace_state[i]);
    JW_ID(w, first, "\"parentSpanId\":", OTTL_OWNER_SPAN, i, 4, pr, OTTL_P_PARENT_ID,
          OTTL_P_IRR_PARENT_ID, t->parent_span_id + 8 * i, 8);
    JW_U32(w, first, "\"flags\":", t->flags[i]);
    JW_STR(w, first, "\"name\":", t->name[i]);
    JW_I32(w, first, "\"kind\":", t->kind[i]);
    JW_U64S(w, first, "\"startTimeUnixNano\":", t->start_time[i]);
    JW_U64S(w, first, "\"endTimeUnixNano\":", t->end_time[i]);
    jw_attrs(w, &first, &b->span_attrs, t->attr_off[i], t->attr_off[i + 1]);
    JW_U32(w, first, "\"droppedAttributesCount\":", t->dropped_attrs[i]);
    if (t->event_off[i + 1] > t->event_off[i]) {
        JW_KEY(w, first, "\"events\":[");
        for (int64_t e = t->event_off[i]; e < t->event_off[i + 1]; e++) {
            if (e > t->event_off[i]) jw_c(w, ',');
            jw_event(w, (size_t)e);
        }
        jw_c(w, ']');
    }
    JW_U32(w, first, "\"droppedEventsCount\":", t->dropped_events[i]);
    if (t->link_off[i + 1] > t->link_off[i]) {
        JW_KEY(w, first, "\"links\":[");
        for (int64_t l = t->link_off[i]; l < t->link_off[i + 1]; l++) {
            if (l > t->link_off[i]) jw_c(w, ',');
            jw_link(w, (size_t)l);
        }
        jw_c(w, ']');
    }
    JW_U32(w, first, "\"droppedLinksCount\":", t->dropped_links[i]);
    if (pr & OTTL_P_STATUS) {
        int sf = 1;
        JW_KEY(w, first, "\"status\":{");
        JW_STR(w, sf, "\"message\":", t->status_message[i]);
        JW_I32(w, sf, "\"code\":", t->status_code[i]);
        jw_c(w, '}');
    }
    jw_c(w, '}');
}

static void jw_log(jw_t *w, size_t i) {
    const ottl_batch *b = w->b;
    const ottl_logs *t = &b->logs;
    uint8_t pr = t->present[i];
    int first = 1;
    jw_c(w, '{');
    JW_U64S(w, first, "\"timeUnixNano\":", t->time[i]);
    JW_U64S(w, first, "\"observedTimeUnixNano\":", t->observed_time[i]);
    JW_I32(w, first, "\"severityNumber\":", t->severity_number[i]);
    JW_STR(w, first, "\"severityText\":", t->severity_text[i]);
    if (t->body_tag[i] != OTTL_V_NONE) {
        JW_KEY(w, first, "\"body\":");
        jw_value(w, t->body_tag[i], t->body[i]);
    }
    jw_attrs(w, &first, &b->log_attrs, t->attr_off[i], t->attr_off[i + 1]);
    JW_U32(w, first, "\"droppedAttributesCount\":", t->dropped[i]);
    JW_U32(w, first, "\"flags\":", t->flags[i]);
    JW_ID(w, first, "\"traceId\":", OTTL_OWNER_LOG, i, 9, pr, OTTL_P_TRACE_ID,
          OTTL_P_IRR_TRACE_ID, t->trace_id + 16 * i, 16);
    JW_ID(w, first, "\"spanId\":", OTTL_OWNER_LOG, i, 10, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID,
          t->span_id + 8 * i, 8);
    JW_STR(w, first, "\"eventName\":", t->event_name[i]);
    jw_c(w, '}');
}

/* ---- the request ---- */

static int jw_scope_kept(const ottl_batch *b, const uint8_t *mask, int64_t s) {
    if (!mask) return 1;
    for (int64_t i = b->scopes.rec_off[s]; i < b->scopes.rec_off[s + 1]; i++)
        if (mask[i]) return 1;
    return 0;
}

int ottl_encode_json(const ottl_batch *b, const uint8_t *mask, uint8_t *buf, size_t cap,
                     size_t *len) {
    jw_t w = {buf, buf, buf + cap, 0, b};
    const ottl_resources *R = &b->resources;
    const ottl_scopes *S = &b->scopes;
    int spans = b->kind == OTTL_BATCH_SPANS;
    int any = 0;
    for (size_t r = 0; r < R->n; r++) {
        int kept_scopes = 0;
        for (int64_t s = R->scope_off[r]; s < R->scope_off[r + 1]; s++)
            kept_scopes += jw_scope_kept(b, mask, s);
        if (mask && !kept_scopes) continue;
        if (!any) {
            if (spans) JW_LIT(&w, "{\"resourceSpans\":[");
            else JW_LIT(&w, "{\"resourceLogs\":[");
        } else {
            jw_c(&w, ',');
        }
        any = 1;
        int first = 1;
        jw_c(&w, '{');
        if (R->present[r]) {
            JW_KEY(&w, first, "\"resource\":");
            jw_resource(&w, r);
        }
        if (kept_scopes) {
            if (spans) JW_KEY(&w, first, "\"scopeSpans\":[");
            else JW_KEY(&w, first, "\"scopeLogs\":[");
            int sfirst = 1;
            for (int64_t s = R->scope_off[r]; s < R->scope_off[r + 1]; s++) {
                if (!jw_scope_kept(b, mask, s)) continue;
                if (!sfirst) jw_c(&w, ',');
                sfirst = 0;
                int gf = 1;
                jw_c(&w, '{');
                if (S->present[s]) {
                    JW_KEY(&w, gf, "\"scope\":");
                    jw_scope(&w, (size_t)s);
                }
                int rfirst = 1;
                for (int64_t i = S->rec_off[s]; i < S->rec_off[s + 1]; i++) {
                    if (mask && !mask[i]) continue;
                    if (rfirst) {
                        if (spans) JW_KEY(&w, gf, "\"spans\":[");
                        else JW_KEY(&w, gf, "\"logRecords\":[");
                        rfirst = 0;
                    } else {
                        jw_c(&w, ',');
                    }
                    if (spans) jw_span(&w, (size_t)i);
                    else jw_log(&w, (size_t)i);
                }
                if (!rfirst) jw_c(&w, ']');
                JW_STR(&w, gf, "\"schemaUrl\":", S->schema_url[s]);
                jw_c(&w, '}');
            }
            jw_c(&w, ']');
        }
        JW_STR(&w, first, "\"schemaUrl\":", R->schema_url[r]);
        jw_c(&w, '}');
    }
    if (any) JW_LIT(&w, "]}");
    else JW_LIT(&w, "{}");
    *len = (size_t)(w.p - w.start) + w.extra;
    return w.extra ? -1 : 0;
}
