/*
 * OTLP/JSON -> protobuf wire bytes -> batch (see otlp_json.h and docs/batches.md, "OTLP/JSON").
 *
 * A transcoder, not a second batch builder: one pass over the JSON text, driven by a table of
 * the OTLP messages (field names in lowerCamelCase and snake_case, field numbers, value kinds),
 * writes the protobuf form of the request into a growable buffer, and ottl_decode_into reads
 * that. The JSON text is read once and only forwards, every read bounded by its end.
 *
 * Submessages are written forwards with a placeholder for their length. The framing messages
 * (resource and scope groups, resources, scopes, records) get five bytes, filled in with a
 * padded varint when they close: legal protobuf, never copied out verbatim. Messages inside a
 * record get one byte, which fits when the content is under 128 bytes; a longer content is
 * moved up to make room for its length, so records stay in the minimal encoding that verbatim
 * copy-out re-emits.
 *
 * Everything the protobuf decoder would refuse is refused here first, with the JSON offset and
 * field path: invalid UTF-8, strings over the length limit, too many attributes or entries,
 * values nested too deeply, a payload over OTTL_MAX_PAYLOAD_SIZE.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_json.h"
#include "pbwire.h"
#include "utf8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- the schema ---- */

enum {
    JK_MESSAGE,
    JK_STRING,
    JK_BYTES,   /* base64 */
    JK_HEXID,   /* trace and span ids: hex */
    JK_BOOL,
    JK_INT64,   /* varint */
    JK_INT32,   /* varint, sign-extended */
    JK_UINT32,  /* varint */
    JK_ENUM,    /* varint, sign-extended; a number or a name */
    JK_FIXED64,
    JK_FIXED32,
    JK_DOUBLE,
};

enum {
    JF_REPEATED = 1,
    JF_ONEOF = 2,   /* a member of AnyValue's oneof: written even when default */
    JF_LIMIT = 4,   /* repeated: at most max_attributes elements */
    JF_NEST = 8,    /* repeated: each element is one AnyValue level deeper */
    JF_WIDE = 16,   /* message: five-byte length placeholder */
    JF_WHOLE = 32,  /* message: kept as one string by the decoder, so its size is limited */
};

typedef struct {
    const char *name;
    int32_t number;
} jenum_value;

typedef struct {
    const char *type;
    const jenum_value *values;
    int n;
} jenum;

typedef struct jmsg jmsg;

typedef struct {
    const char *json; /* lowerCamelCase */
    const char *name; /* the proto field name, snake_case: also the name in error paths */
    uint8_t jlen, nlen;
    uint8_t number, kind, flags;
    const jmsg *msg;
    const jenum *en;
} jfield;

struct jmsg {
    const jfield *fields;
    int n;
};

#define F(json, name, number, kind, flags, msg, en) \
    {json, name, sizeof(json) - 1, sizeof(name) - 1, number, kind, flags, msg, en}
#define MSG(fields) {fields, (int)(sizeof fields / sizeof fields[0])}

static const jenum_value span_kinds[] = {
    {"SPAN_KIND_UNSPECIFIED", 0}, {"SPAN_KIND_INTERNAL", 1}, {"SPAN_KIND_SERVER", 2},
    {"SPAN_KIND_CLIENT", 3},      {"SPAN_KIND_PRODUCER", 4}, {"SPAN_KIND_CONSUMER", 5},
};
static const jenum_value status_codes[] = {
    {"STATUS_CODE_UNSET", 0}, {"STATUS_CODE_OK", 1}, {"STATUS_CODE_ERROR", 2}};
static const jenum_value severities[] = {
    {"SEVERITY_NUMBER_UNSPECIFIED", 0}, {"SEVERITY_NUMBER_TRACE", 1},
    {"SEVERITY_NUMBER_TRACE2", 2},      {"SEVERITY_NUMBER_TRACE3", 3},
    {"SEVERITY_NUMBER_TRACE4", 4},      {"SEVERITY_NUMBER_DEBUG", 5},
    {"SEVERITY_NUMBER_DEBUG2", 6},      {"SEVERITY_NUMBER_DEBUG3", 7},
    {"SEVERITY_NUMBER_DEBUG4", 8},      {"SEVERITY_NUMBER_INFO", 9},
    {"SEVERITY_NUMBER_INFO2", 10},      {"SEVERITY_NUMBER_INFO3", 11},
    {"SEVERITY_NUMBER_INFO4", 12},      {"SEVERITY_NUMBER_WARN", 13},
    {"SEVERITY_NUMBER_WARN2", 14},      {"SEVERITY_NUMBER_WARN3", 15},
    {"SEVERITY_NUMBER_WARN4", 16},      {"SEVERITY_NUMBER_ERROR", 17},
    {"SEVERITY_NUMBER_ERROR2", 18},     {"SEVERITY_NUMBER_ERROR3", 19},
    {"SEVERITY_NUMBER_ERROR4", 20},     {"SEVERITY_NUMBER_FATAL", 21},
    {"SEVERITY_NUMBER_FATAL2", 22},     {"SEVERITY_NUMBER_FATAL3", 23},
    {"SEVERITY_NUMBER_FATAL4", 24},
};
static const jenum E_SPAN_KIND = {"SpanKind", span_kinds, 6};
static const jenum E_STATUS_CODE = {"StatusCode", status_codes, 3};
static const jenum E_SEVERITY = {"SeverityNumber", severities, 25};

/* The AnyValue family refers to itself: tentative definitions first. */
static const jmsg M_ANYVALUE;
static const jmsg M_KEYVALUE;

static const jfield f_array[] = {
    F("values", "values", 1, JK_MESSAGE, JF_REPEATED | JF_LIMIT | JF_NEST, &M_ANYVALUE, NULL),
};
static const jmsg M_ARRAY = MSG(f_array);

static const jfield f_kvlist[] = {
    F("values", "values", 1, JK_MESSAGE, JF_REPEATED | JF_LIMIT | JF_NEST, &M_KEYVALUE, NULL),
};
static const jmsg M_KVLIST = MSG(f_kvlist);

static const jfield f_anyvalue[] = {
    F("stringValue", "string_value", 1, JK_STRING, JF_ONEOF, NULL, NULL),
    F("boolValue", "bool_value", 2, JK_BOOL, JF_ONEOF, NULL, NULL),
    F("intValue", "int_value", 3, JK_INT64, JF_ONEOF, NULL, NULL),
    F("doubleValue", "double_value", 4, JK_DOUBLE, JF_ONEOF, NULL, NULL),
    F("arrayValue", "array_value", 5, JK_MESSAGE, JF_ONEOF, &M_ARRAY, NULL),
    F("kvlistValue", "kvlist_value", 6, JK_MESSAGE, JF_ONEOF, &M_KVLIST, NULL),
    F("bytesValue", "bytes_value", 7, JK_BYTES, JF_ONEOF, NULL, NULL),
    F("stringValueStrindex", "string_value_strindex", 8, JK_INT32, JF_ONEOF, NULL, NULL),
};
static const jmsg M_ANYVALUE = MSG(f_anyvalue);

static const jfield f_keyvalue[] = {
    F("key", "key", 1, JK_STRING, 0, NULL, NULL),
    F("value", "value", 2, JK_MESSAGE, 0, &M_ANYVALUE, NULL),
    F("keyStrindex", "key_strindex", 3, JK_INT32, 0, NULL, NULL),
};
static const jmsg M_KEYVALUE = MSG(f_keyvalue);

#define ATTRS(number) \
    F("attributes", "attributes", number, JK_MESSAGE, JF_REPEATED | JF_LIMIT, &M_KEYVALUE, NULL)
#define DROPPED(number) \
    F("droppedAttributesCount", "dropped_attributes_count", number, JK_UINT32, 0, NULL, NULL)

static const jfield f_entity_ref[] = {
    F("schemaUrl", "schema_url", 1, JK_STRING, 0, NULL, NULL),
    F("type", "type", 2, JK_STRING, 0, NULL, NULL),
    F("idKeys", "id_keys", 3, JK_STRING, JF_REPEATED, NULL, NULL),
    F("descriptionKeys", "description_keys", 4, JK_STRING, JF_REPEATED, NULL, NULL),
};
static const jmsg M_ENTITY_REF = MSG(f_entity_ref);

static const jfield f_resource[] = {
    ATTRS(1),
    DROPPED(2),
    F("entityRefs", "entity_refs", 3, JK_MESSAGE, JF_REPEATED | JF_WHOLE, &M_ENTITY_REF, NULL),
};
static const jmsg M_RESOURCE = MSG(f_resource);

static const jfield f_scope[] = {
    F("name", "name", 1, JK_STRING, 0, NULL, NULL),
    F("version", "version", 2, JK_STRING, 0, NULL, NULL),
    ATTRS(3),
    DROPPED(4),
};
static const jmsg M_SCOPE = MSG(f_scope);

static const jfield f_status[] = {
    F("message", "message", 2, JK_STRING, 0, NULL, NULL),
    F("code", "code", 3, JK_ENUM, 0, NULL, &E_STATUS_CODE),
};
static const jmsg M_STATUS = MSG(f_status);

static const jfield f_event[] = {
    F("timeUnixNano", "time_unix_nano", 1, JK_FIXED64, 0, NULL, NULL),
    F("name", "name", 2, JK_STRING, 0, NULL, NULL),
    ATTRS(3),
    DROPPED(4),
};
static const jmsg M_EVENT = MSG(f_event);

static const jfield f_link[] = {
    F("traceId", "trace_id", 1, JK_HEXID, 0, NULL, NULL),
    F("spanId", "span_id", 2, JK_HEXID, 0, NULL, NULL),
    F("traceState", "trace_state", 3, JK_STRING, 0, NULL, NULL),
    ATTRS(4),
    DROPPED(5),
    F("flags", "flags", 6, JK_FIXED32, 0, NULL, NULL),
};
static const jmsg M_LINK = MSG(f_link);

/* Declaration order, which is the order protojson writes and producers tend to follow: the
 * lookup tries the field after the last one matched first. */
static const jfield f_span[] = {
    F("traceId", "trace_id", 1, JK_HEXID, 0, NULL, NULL),
    F("spanId", "span_id", 2, JK_HEXID, 0, NULL, NULL),
    F("traceState", "trace_state", 3, JK_STRING, 0, NULL, NULL),
    F("parentSpanId", "parent_span_id", 4, JK_HEXID, 0, NULL, NULL),
    F("flags", "flags", 16, JK_FIXED32, 0, NULL, NULL),
    F("name", "name", 5, JK_STRING, 0, NULL, NULL),
    F("kind", "kind", 6, JK_ENUM, 0, NULL, &E_SPAN_KIND),
    F("startTimeUnixNano", "start_time_unix_nano", 7, JK_FIXED64, 0, NULL, NULL),
    F("endTimeUnixNano", "end_time_unix_nano", 8, JK_FIXED64, 0, NULL, NULL),
    ATTRS(9),
    DROPPED(10),
    F("events", "events", 11, JK_MESSAGE, JF_REPEATED, &M_EVENT, NULL),
    F("droppedEventsCount", "dropped_events_count", 12, JK_UINT32, 0, NULL, NULL),
    F("links", "links", 13, JK_MESSAGE, JF_REPEATED, &M_LINK, NULL),
    F("droppedLinksCount", "dropped_links_count", 14, JK_UINT32, 0, NULL, NULL),
    F("status", "status", 15, JK_MESSAGE, 0, &M_STATUS, NULL),
};
static const jmsg M_SPAN = MSG(f_span);

static const jfield f_scope_spans[] = {
    F("scope", "scope", 1, JK_MESSAGE, JF_WIDE, &M_SCOPE, NULL),
    F("spans", "spans", 2, JK_MESSAGE, JF_REPEATED | JF_WIDE, &M_SPAN, NULL),
    F("schemaUrl", "schema_url", 3, JK_STRING, 0, NULL, NULL),
};
static const jmsg M_SCOPE_SPANS = MSG(f_scope_spans);

static const jfield f_resource_spans[] = {
    F("resource", "resource", 1, JK_MESSAGE, JF_WIDE, &M_RESOURCE, NULL),
    F("scopeSpans", "scope_spans", 2, JK_MESSAGE, JF_REPEATED | JF_WIDE, &M_SCOPE_SPANS, NULL),
    F("schemaUrl", "schema_url", 3, JK_STRING, 0, NULL, NULL),
};
static const jmsg M_RESOURCE_SPANS = MSG(f_resource_spans);

static const jfield f_trace_request[] = {
    F("resourceSpans", "resource_spans", 1, JK_MESSAGE, JF_REPEATED | JF_WIDE,
      &M_RESOURCE_SPANS, NULL),
};
static const jmsg M_TRACE_REQUEST = MSG(f_trace_request);

static const jfield f_log[] = {
    F("timeUnixNano", "time_unix_nano", 1, JK_FIXED64, 0, NULL, NULL),
    F("observedTimeUnixNano", "observed_time_unix_nano", 11, JK_FIXED64, 0, NULL, NULL),
    F("severityNumber", "severity_number", 2, JK_ENUM, 0, NULL, &E_SEVERITY),
    F("severityText", "severity_text", 3, JK_STRING, 0, NULL, NULL),
    F("body", "body", 5, JK_MESSAGE, 0, &M_ANYVALUE, NULL),
    ATTRS(6),
    DROPPED(7),
    F("flags", "flags", 8, JK_FIXED32, 0, NULL, NULL),
    F("traceId", "trace_id", 9, JK_HEXID, 0, NULL, NULL),
    F("spanId", "span_id", 10, JK_HEXID, 0, NULL, NULL),
    F("eventName", "event_name", 12, JK_STRING, 0, NULL, NULL),
};
static const jmsg M_LOG = MSG(f_log);

static const jfield f_scope_logs[] = {
    F("scope", "scope", 1, JK_MESSAGE, JF_WIDE, &M_SCOPE, NULL),
    F("logRecords", "log_records", 2, JK_MESSAGE, JF_REPEATED | JF_WIDE, &M_LOG, NULL),
    F("schemaUrl", "schema_url", 3, JK_STRING, 0, NULL, NULL),
};
static const jmsg M_SCOPE_LOGS = MSG(f_scope_logs);

static const jfield f_resource_logs[] = {
    F("resource", "resource", 1, JK_MESSAGE, JF_WIDE, &M_RESOURCE, NULL),
    F("scopeLogs", "scope_logs", 2, JK_MESSAGE, JF_REPEATED | JF_WIDE, &M_SCOPE_LOGS, NULL),
    F("schemaUrl", "schema_url", 3, JK_STRING, 0, NULL, NULL),
};
static const jmsg M_RESOURCE_LOGS = MSG(f_resource_logs);

static const jfield f_logs_request[] = {
    F("resourceLogs", "resource_logs", 1, JK_MESSAGE, JF_REPEATED | JF_WIDE, &M_RESOURCE_LOGS,
      NULL),
};
static const jmsg M_LOGS_REQUEST = MSG(f_logs_request);

/* ---- the transcoder's state ---- */

/* Frames of the field path: request, groups, record, attributes[i], value, then per nested
 * level kvlist_value, values[i], value. */
#define JT_PATH_MAX (16 + 3 * (OTTL_MAX_NESTING_DEPTH + 2))
/* Nesting of the value of an unknown member, which is checked and skipped. */
#define JT_SKIP_MAX 512
/* Field names are short; an escaped name longer than this matches none. */
#define JT_KEY_MAX 256

typedef struct {
    const char *name;
    int32_t index; /* -1: not a repeated field */
} jt_frame;

typedef struct {
    const uint8_t *base, *p, *end;
    uint8_t *out; /* the protobuf being written: out[0, n) */
    size_t n, cap;
    uint8_t *tmp; /* unescaped string contents that are not copied to out as they are */
    size_t tmp_cap;
    ottl_decode_error *err;
    size_t max_string, max_attrs;
    size_t unknown;
    int nest; /* container levels (array or kvlist entries) around the current value */
    int depth;
    jt_frame path[JT_PATH_MAX];
} jt_t;

typedef struct {
    const uint8_t *s; /* the raw content, between the quotes */
    size_t n;
    int esc;          /* contains escapes */
} jstr;

/* ---- errors ---- */

static void jt_format_path(const jt_t *t, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    int depth = t->depth < JT_PATH_MAX ? t->depth : JT_PATH_MAX;
    for (int i = 0; i < depth && n < cap; i++) {
        int w;
        if (t->path[i].index >= 0)
            w = snprintf(out + n, cap - n, "%s%s[%d]", n ? "." : "", t->path[i].name,
                         (int)t->path[i].index);
        else
            w = snprintf(out + n, cap - n, "%s%s", n ? "." : "", t->path[i].name);
        if (w < 0) break;
        n += (size_t)w;
    }
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static int jt_fail(jt_t *t, const uint8_t *at, const char *fmt, ...) {
    ottl_decode_error *e = t->err;
    e->code = OTTL_DECODE_MALFORMED;
    if (at < t->base) at = t->base;
    if (at > t->end) at = t->end;
    e->offset = (int64_t)(at - t->base);
    jt_format_path(t, e->path, sizeof e->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

static int jt_nomem(jt_t *t) {
    t->err->code = OTTL_DECODE_NOMEM;
    snprintf(t->err->message, sizeof t->err->message, "out of memory while decoding");
    return -1;
}

static int jt_eof(jt_t *t) { return jt_fail(t, t->end, "truncated: the JSON text ends here"); }

static inline void jt_push(jt_t *t, const char *name, int32_t index) {
    if (t->depth < JT_PATH_MAX) {
        t->path[t->depth].name = name;
        t->path[t->depth].index = index;
    }
    t->depth++;
}
static inline void jt_pop(jt_t *t) { t->depth--; }

/* A JSON value's kind, for "expected X, got Y" messages. */
static const char *jt_kind_name(uint8_t c) {
    switch (c) {
    case '{':
        return "an object";
    case '[':
        return "an array";
    case '"':
        return "a string";
    case 't':
    case 'f':
        return "a boolean";
    case 'n':
        return "null";
    default:
        return (c == '-' || (c >= '0' && c <= '9')) ? "a number" : "an invalid token";
    }
}

static int jt_type(jt_t *t, const char *want) {
    return jt_fail(t, t->p, "expected %s, got %s", want, jt_kind_name(*t->p));
}

/* ---- output ---- */

static int jt_grow(jt_t *t, size_t need) {
    size_t want = t->n + need;
    if (want > (size_t)OTTL_MAX_PAYLOAD_SIZE + 64)
        return jt_fail(t, t->p, "the protobuf form of this payload is over the limit of %d bytes",
                       OTTL_MAX_PAYLOAD_SIZE);
    size_t cap = t->cap ? t->cap : 256;
    while (cap < want) cap += cap / 2 + 256;
    uint8_t *o = realloc(t->out, cap);
    if (!o) return jt_nomem(t);
    t->out = o;
    t->cap = cap;
    return 0;
}

#define JT_ROOM(t, k)                                                          \
    do {                                                                       \
        if (PB_UNLIKELY((t)->cap - (t)->n < (size_t)(k)) && jt_grow(t, k)) return -1; \
    } while (0)

/* Unchecked: the caller made room. */
static inline void jt_put_varint(jt_t *t, uint64_t v) {
    if (PB_LIKELY(v < 0x80)) {
        t->out[t->n++] = (uint8_t)v;
        return;
    }
    t->n = (size_t)(pb_put_varint(t->out + t->n, v) - t->out);
}

static inline void jt_put_tag(jt_t *t, uint32_t field, int wt) {
    jt_put_varint(t, (uint64_t)field << 3 | (uint64_t)wt);
}

/* A length-delimited field's tag and length placeholder; *mark is where its content starts. */
static inline int jt_open(jt_t *t, uint32_t field, int wide, size_t *mark) {
    JT_ROOM(t, 8);
    jt_put_tag(t, field, PB_LEN);
    t->n += wide ? 5 : 1;
    *mark = t->n;
    return 0;
}

static inline int jt_close(jt_t *t, size_t mark, int wide) {
    size_t len = t->n - mark;
    if (wide) {
        uint8_t *o = t->out + mark - 5;
        for (int i = 0; i < 4; i++) o[i] = (uint8_t)(((len >> (7 * i)) & 0x7f) | 0x80);
        o[4] = (uint8_t)(len >> 28);
        return 0;
    }
    if (PB_LIKELY(len < 0x80)) {
        t->out[mark - 1] = (uint8_t)len;
        return 0;
    }
    size_t extra = pb_varint_size(len) - 1;
    JT_ROOM(t, extra);
    memmove(t->out + mark + extra, t->out + mark, len);
    pb_put_varint(t->out + mark - 1, len);
    t->n += extra;
    return 0;
}

/* ---- lexing ---- */

static inline void jt_ws(jt_t *t) {
    const uint8_t *p = t->p, *end = t->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    t->p = p;
}

static int jt_literal(jt_t *t, const char *word, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (t->p + i >= t->end) return jt_eof(t);
        if (t->p[i] != (uint8_t)word[i])
            return jt_fail(t, t->p + i, "invalid token (expected '%s')", word);
    }
    t->p += n;
    return 0;
}

/* A hex digit's value plus one; 0 for anything else. */
static const uint8_t jt_hexval[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,
    ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14,
    ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15,
    ['F'] = 16,
};

static inline int jt_hex(uint8_t c) { return (int)jt_hexval[c] - 1; }

static int jt_hex4(const uint8_t *p, const uint8_t *end, uint32_t *out) {
    if (end - p < 4) return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = jt_hex(p[i]);
        if (h < 0) return -1;
        v = v << 4 | (uint32_t)h;
    }
    *out = v;
    return 0;
}

#define JT_ONES 0x0101010101010101ull
#define JT_HIGH 0x8080808080808080ull

/* The rest of a string from p, the first byte that is not plain ASCII: escapes, non-ASCII,
 * errors. */
static int jt_string_slow(jt_t *t, jstr *out, const uint8_t *start, const uint8_t *p) {
    const uint8_t *end = t->end;
    int esc = 0, hi = 0;
    for (;;) {
        /* Eight plain ASCII bytes (no quote, backslash or control character) per step. */
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            uint64_t q = w ^ (JT_ONES * '"'), b = w ^ (JT_ONES * '\\');
            uint64_t special = ((q - JT_ONES) & ~q) | ((b - JT_ONES) & ~b) |
                               (w - JT_ONES * 0x20) | w;
            if (special & JT_HIGH) break;
            p += 8;
        }
        if (PB_UNLIKELY(p >= end)) return jt_fail(t, end, "truncated: unterminated string");
        uint8_t c = *p;
        if (c == '"') break;
        if (c == '\\') {
            const uint8_t *at = p;
            esc = 1;
            if (++p >= end) return jt_fail(t, end, "truncated: unterminated string");
            switch (*p) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                p++;
                break;
            case 'u': {
                uint32_t cp, lo;
                if (jt_hex4(p + 1, end, &cp))
                    return jt_fail(t, at, "invalid \\u escape (four hex digits expected)");
                p += 5;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return jt_fail(t, at, "lone surrogate \\u%04X in a string", (unsigned)cp);
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (end - p < 2 || p[0] != '\\' || p[1] != 'u' || jt_hex4(p + 2, end, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF)
                        return jt_fail(t, at, "lone surrogate \\u%04X in a string", (unsigned)cp);
                    p += 6;
                }
                break;
            }
            default:
                return jt_fail(t, at, "invalid escape '\\%c' in a string",
                               *p >= 0x20 && *p < 0x7f ? *p : '?');
            }
            continue;
        }
        if (c < 0x20)
            return jt_fail(t, p, "control character U+%04X in a string (must be escaped)", c);
        if (c >= 0x80) hi = 1;
        p++;
    }
    out->s = start;
    out->n = (size_t)(p - start);
    out->esc = esc;
    if (hi) {
        size_t bad = ottl_utf8_check(start, out->n);
        if (bad != out->n) return jt_fail(t, start + bad, "invalid UTF-8 in a string");
    }
    t->p = p + 1;
    return 0;
}

/* Where the first byte of p[0, 16) that is a quote, a backslash, a control character or not
 * ASCII is (16 if there is none). */
#if defined(__SSE2__)
static inline unsigned jt_special16(const uint8_t *p) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* Signed: bytes >= 0x80 are negative, so "less than 0x20" catches them too. */
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                          _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                             _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
    unsigned bits = (unsigned)_mm_movemask_epi8(m);
    return bits ? (unsigned)__builtin_ctz(bits) : 16;
}
#endif

static inline int jt_plain_byte(uint8_t c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

/* A string at t->p (its opening quote), checked completely: escapes (\u surrogates paired),
 * no raw control characters, UTF-8. t->p ends after the closing quote. The usual string, plain
 * ASCII, is found here; anything else goes on in jt_string_slow. */
static inline int jt_string(jt_t *t, jstr *out) {
    const uint8_t *start = t->p + 1, *p = start, *end = t->end;
#if defined(__SSE2__)
    while (end - p >= 16) {
        unsigned k = jt_special16(p);
        p += k;
        if (k < 16) goto found;
    }
#endif
#if defined(__GNUC__) || defined(__clang__)
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t q = w ^ (JT_ONES * '"'), b = w ^ (JT_ONES * '\\');
        /* The lowest flagged byte is exact (borrows only flag bytes above a true one). */
        uint64_t special = (((q - JT_ONES) & ~q) | ((b - JT_ONES) & ~b) |
                            (w - JT_ONES * 0x20) | w) & JT_HIGH;
        if (special) {
            p += (unsigned)__builtin_ctzll(special) / 8;
            goto found;
        }
        p += 8;
    }
#endif
    while (p < end && jt_plain_byte(*p)) p++;
found:
    if (PB_LIKELY(p < end && *p == '"')) {
        out->s = start;
        out->n = (size_t)(p - start);
        out->esc = 0;
        t->p = p + 1;
        return 0;
    }
    return jt_string_slow(t, out, start, p);
}

static inline size_t jt_put_utf8(uint8_t *o, uint32_t cp) {
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* The content of a string jt_string checked, unescaped into dst (room for n bytes: never
 * longer than the escaped form). Returns its length. */
static size_t jt_unescape(const uint8_t *s, size_t n, uint8_t *dst) {
    const uint8_t *end = s + n;
    uint8_t *o = dst;
    while (s < end) {
        const uint8_t *bs = memchr(s, '\\', (size_t)(end - s));
        if (!bs) bs = end;
        memcpy(o, s, (size_t)(bs - s));
        o += bs - s;
        s = bs;
        if (s >= end) break;
        uint8_t c = s[1];
        s += 2;
        switch (c) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            uint32_t cp = 0, lo = 0;
            jt_hex4(s, end, &cp);
            s += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                jt_hex4(s + 2, end, &lo);
                s += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            o += jt_put_utf8(o, cp);
            break;
        }
        default: *o++ = c; break; /* " \ / */
        }
    }
    return (size_t)(o - dst);
}

/* A string's content as plain bytes: in place when it has no escapes, otherwise unescaped into
 * t->tmp (valid until the next call). */
static int jt_plain(jt_t *t, const jstr *s, const uint8_t **p, size_t *n) {
    if (!s->esc) {
        *p = s->s;
        *n = s->n;
        return 0;
    }
    if (t->tmp_cap < s->n) {
        size_t cap = s->n < 64 ? 64 : s->n;
        uint8_t *b = realloc(t->tmp, cap);
        if (!b) return jt_nomem(t);
        t->tmp = b;
        t->tmp_cap = cap;
    }
    *p = t->tmp;
    *n = jt_unescape(s->s, s->n, t->tmp);
    return 0;
}

/* ---- numbers ---- */

typedef struct {
    const uint8_t *ip, *fp; /* integer and fraction digits */
    size_t in, fn;
    int64_t exp;            /* saturated at +-1e15 */
    int neg;
} jnum;

/* The JSON number grammar over [p, end): 0 with *stop after the number, or -1 with *stop at the
 * first byte that does not fit. */
static int jnum_scan(const uint8_t *p, const uint8_t *end, jnum *n, const uint8_t **stop) {
    memset(n, 0, sizeof *n);
    if (p < end && *p == '-') {
        n->neg = 1;
        p++;
    }
    n->ip = p;
    if (p >= end || *p < '0' || *p > '9') goto bad;
    if (*p == '0') {
        p++;
    } else {
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    n->in = (size_t)(p - n->ip);
    if (p < end && *p == '.') {
        p++;
        n->fp = p;
        if (p >= end || *p < '0' || *p > '9') goto bad;
        while (p < end && *p >= '0' && *p <= '9') p++;
        n->fn = (size_t)(p - n->fp);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p >= end || *p < '0' || *p > '9') goto bad;
        int64_t e = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (e < 1000000000000000ll) e = e * 10 + (*p - '0');
            p++;
        }
        n->exp = eneg ? -e : e;
    }
    *stop = p;
    return 0;
bad:
    *stop = p;
    return -1;
}

static inline int jnum_digit(const jnum *n, size_t i) {
    return i < n->in ? n->ip[i] - '0' : n->fp[i - n->in] - '0';
}

/* The significant digits of a number: first and last nonzero digit positions (over integer
 * then fraction digits) and the power of ten of the last one. 0 when the number is zero. */
static int jnum_digits(const jnum *n, size_t *first, size_t *last, int64_t *pow10) {
    size_t total = n->in + n->fn, a = 0, z = total;
    while (a < total && jnum_digit(n, a) == 0) a++;
    if (a == total) return 0;
    while (jnum_digit(n, z - 1) == 0) z--;
    *first = a;
    *last = z - 1;
    *pow10 = n->exp - (int64_t)n->fn + (int64_t)(total - z);
    return 1;
}

/* The exact integer value: 0 with the magnitude in *mag; 1 when it has a fraction; 2 when it is
 * above 2^64 - 1. */
static int jnum_integer(const jnum *n, uint64_t *mag) {
    size_t a, z;
    int64_t k;
    *mag = 0;
    if (!jnum_digits(n, &a, &z, &k)) return 0;
    if (k < 0) return 1;
    if ((int64_t)(z - a + 1) + k > 20) return 2;
    uint64_t v = 0;
    for (size_t i = a; i <= z; i++) {
        unsigned d = (unsigned)jnum_digit(n, i);
        if (v > (UINT64_MAX - d) / 10) return 2;
        v = v * 10 + d;
    }
    for (int64_t i = 0; i < k; i++) {
        if (v > UINT64_MAX / 10) return 2;
        v *= 10;
    }
    *mag = v;
    return 0;
}

static const double jt_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                  1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A number's text [s, e) as the nearest double. -1 when it is too large for one. */
static int jnum_double(const jnum *n, const uint8_t *s, const uint8_t *e, double *out) {
    size_t a, z;
    int64_t k;
    if (!jnum_digits(n, &a, &z, &k)) {
        *out = n->neg ? -0.0 : 0.0;
        return 0;
    }
    /* At most 15 digits and a power of ten that is exact in a double: one correctly rounded
     * multiplication or division gives the nearest double (Clinger's fast path). */
    if (z - a < 15 && k >= -22 && k <= 22) {
        uint64_t m = 0;
        for (size_t i = a; i <= z; i++) m = m * 10 + (unsigned)jnum_digit(n, i);
        double v = (double)m;
        v = k >= 0 ? v * jt_pow10[k] : v / jt_pow10[-k];
        *out = n->neg ? -v : v;
        return 0;
    }
    /* Otherwise strtod, on a copy with the locale's decimal point (strtod follows LC_NUMERIC).
     * The point is learnt from snprintf, which unlike localeconv() is safe in threads. */
    char dp[16];
    int w = snprintf(dp, sizeof dp, "%.1f", 0.5); /* "0" point "5" */
    size_t dpn = w >= 3 && (size_t)w < sizeof dp ? (size_t)w - 2 : 1;
    if (w >= 3 && (size_t)w < sizeof dp) memmove(dp, dp + 1, dpn);
    else dp[0] = '.';
    size_t len = (size_t)(e - s);
    char stack[128], *buf = stack;
    if (len + dpn + 1 > sizeof stack) {
        buf = malloc(len + dpn + 1);
        if (!buf) return -2;
    }
    size_t o = 0;
    for (const uint8_t *p = s; p < e; p++) {
        if (*p == '.') {
            memcpy(buf + o, dp, dpn);
            o += dpn;
        } else {
            buf[o++] = (char)*p;
        }
    }
    buf[o] = '\0';
    double v = strtod(buf, NULL);
    if (buf != stack) free(buf);
    if (isinf(v)) return -1;
    *out = v;
    return 0;
}

/* ---- field values ---- */

static int jt_message(jt_t *t, const jmsg *m);
static int jt_skip(jt_t *t);

/* A number, or a string holding one, at t->p: its grammar checked; *s, *e its text. */
static int jt_number_text(jt_t *t, const char *want, jnum *num, const uint8_t **s,
                          const uint8_t **e) {
    const uint8_t *at = t->p, *stop;
    uint8_t c = *at;
    if (c == '"') {
        jstr str;
        size_t n;
        if (jt_string(t, &str) || jt_plain(t, &str, s, &n)) return -1;
        *e = *s + n;
        if (jnum_scan(*s, *e, num, &stop) || stop != *e)
            return jt_fail(t, at, "expected %s, got the string \"%.*s\"", want,
                           (int)(n > 40 ? 40 : n), (const char *)*s);
        return 0;
    }
    if (c != '-' && (c < '0' || c > '9')) return jt_type(t, want);
    if (jnum_scan(at, t->end, num, &stop)) {
        if (stop >= t->end) return jt_eof(t);
        return jt_fail(t, stop, "invalid number");
    }
    *s = at;
    *e = stop;
    t->p = stop;
    return 0;
}

static int jt_integer(jt_t *t, const jfield *f) {
    const uint8_t *at = t->p, *s = NULL, *e = NULL;
    jnum num;
    int64_t lo;
    uint64_t hi;
    switch (f->kind) {
    case JK_INT64:
        lo = INT64_MIN, hi = INT64_MAX;
        break;
    case JK_INT32:
    case JK_ENUM:
        lo = INT32_MIN, hi = INT32_MAX;
        break;
    case JK_UINT32:
    case JK_FIXED32:
        lo = 0, hi = UINT32_MAX;
        break;
    default:
        lo = 0, hi = UINT64_MAX;
        break;
    }
    uint64_t v;
    if (f->kind == JK_ENUM && *at == '"') {
        jstr str;
        const uint8_t *p;
        size_t n;
        if (jt_string(t, &str) || jt_plain(t, &str, &p, &n)) return -1;
        const jenum *en = f->en;
        for (int i = 0; i < en->n; i++) {
            if (strlen(en->values[i].name) == n && memcmp(en->values[i].name, p, n) == 0) {
                v = (uint64_t)(int64_t)en->values[i].number;
                goto write;
            }
        }
        /* Not a name: a number in a string, as the reference reader and the official Python
         * library accept. */
        const uint8_t *stop;
        if (jnum_scan(p, p + n, &num, &stop) || stop != p + n)
            return jt_fail(t, at, "unknown %s \"%.*s\"", en->type, (int)(n > 40 ? 40 : n),
                           (const char *)p);
        s = p;
        e = p + n;
    } else {
        const char *want = f->kind == JK_ENUM ? "an enum name or number" : "an integer";
        if (jt_number_text(t, want, &num, &s, &e)) return -1;
    }
    uint64_t mag;
    int rc = jnum_integer(&num, &mag);
    int len = (int)(e - s > 40 ? 40 : e - s);
    if (rc == 1) return jt_fail(t, at, "%.*s is not an integer", len, (const char *)s);
    int over = rc == 2 || (num.neg ? mag > (uint64_t)0 - (uint64_t)lo : mag > hi);
    if (over)
        return jt_fail(t, at, "%.*s is out of range [%lld, %llu]", len, (const char *)s,
                       (long long)lo, (unsigned long long)hi);
    v = num.neg ? (uint64_t)0 - mag : mag;
write:
    if (!v && !(f->flags & JF_ONEOF)) return 0;
    JT_ROOM(t, 16);
    if (f->kind == JK_FIXED64) {
        jt_put_tag(t, f->number, PB_I64);
        pb_put_fixed64(t->out + t->n, v);
        t->n += 8;
    } else if (f->kind == JK_FIXED32) {
        jt_put_tag(t, f->number, PB_I32);
        pb_put_fixed32(t->out + t->n, (uint32_t)v);
        t->n += 4;
    } else {
        jt_put_tag(t, f->number, PB_VARINT);
        jt_put_varint(t, v);
    }
    return 0;
}

static int jt_double(jt_t *t, const jfield *f) {
    const uint8_t *at = t->p, *s, *e;
    jnum num;
    double v;
    if (*at == '"') {
        /* The three names protojson writes, or a number in a string. */
        jstr str;
        const uint8_t *p;
        size_t n;
        const uint8_t *save = t->p;
        if (jt_string(t, &str) || jt_plain(t, &str, &p, &n)) return -1;
        if (n == 3 && memcmp(p, "NaN", 3) == 0) {
            v = NAN;
            goto write;
        }
        if (n == 8 && memcmp(p, "Infinity", 8) == 0) {
            v = INFINITY;
            goto write;
        }
        if (n == 9 && memcmp(p, "-Infinity", 9) == 0) {
            v = -INFINITY;
            goto write;
        }
        t->p = save;
    }
    if (jt_number_text(t, "a number (or \"NaN\", \"Infinity\", \"-Infinity\")", &num, &s, &e))
        return -1;
    int rc = jnum_double(&num, s, e, &v);
    if (rc == -2) return jt_nomem(t);
    if (rc)
        return jt_fail(t, at, "%.*s is out of range for a double", (int)(e - s > 40 ? 40 : e - s),
                       (const char *)s);
write:;
    uint64_t bits;
    if (isnan(v)) bits = 0x7FF8000000000000ull; /* the canonical quiet NaN */
    else memcpy(&bits, &v, 8);
    if (!bits && !(f->flags & JF_ONEOF)) return 0;
    JT_ROOM(t, 16);
    jt_put_tag(t, f->number, PB_I64);
    pb_put_fixed64(t->out + t->n, bits);
    t->n += 8;
    return 0;
}

static int jt_over_limit(jt_t *t, const uint8_t *at, const char *what, size_t n) {
    return jt_fail(t, at, "%s of %zu bytes is over the limit of %zu bytes", what, n,
                   t->max_string);
}

static int jt_put_string(jt_t *t, const jfield *f) {
    const uint8_t *at = t->p;
    if (*at != '"') return jt_type(t, "a string");
    jstr s;
    if (jt_string(t, &s)) return -1;
    /* Defaults are left out, but not oneof members (their presence) or list elements. */
    int keep = (f->flags & (JF_ONEOF | JF_REPEATED)) != 0;
    if (PB_LIKELY(!s.esc)) {
        if (PB_UNLIKELY(s.n > t->max_string)) return jt_over_limit(t, at, "string", s.n);
        if (!s.n && !keep) return 0;
        JT_ROOM(t, 16 + s.n);
        jt_put_tag(t, f->number, PB_LEN);
        jt_put_varint(t, s.n);
        pb_copy(t->out + t->n, s.s, s.n);
        t->n += s.n;
        return 0;
    }
    /* Unescaped straight into the output, after room for the length of the escaped form (which
     * is never shorter); the content moves down when its own length takes fewer bytes. */
    size_t vs = pb_varint_size(s.n);
    JT_ROOM(t, 8 + vs + s.n);
    size_t start = t->n;
    jt_put_tag(t, f->number, PB_LEN);
    size_t lenpos = t->n;
    size_t m = jt_unescape(s.s, s.n, t->out + lenpos + vs);
    if (m > t->max_string) {
        t->n = start;
        return jt_over_limit(t, at, "string", m);
    }
    if (!m && !keep) {
        t->n = start;
        return 0;
    }
    size_t vm = pb_varint_size(m);
    if (vm < vs) memmove(t->out + lenpos + vm, t->out + lenpos + vs, m);
    pb_put_varint(t->out + lenpos, m);
    t->n = lenpos + vm + m;
    return 0;
}

static int jt_put_hexid(jt_t *t, const jfield *f) {
    const uint8_t *at = t->p, *p;
    size_t n;
    if (*at != '"') return jt_type(t, "a hex string");
    jstr s;
    if (jt_string(t, &s) || jt_plain(t, &s, &p, &n)) return -1;
    if (!n) return 0; /* "" is an absent id */
    if (n & 1) return jt_fail(t, at, "an id of %zu hex digits (an even number is needed)", n);
    size_t len = n / 2;
    if (len > t->max_string) return jt_over_limit(t, at, "id", len);
    JT_ROOM(t, 16 + len);
    jt_put_tag(t, f->number, PB_LEN);
    jt_put_varint(t, len);
    uint8_t *o = t->out + t->n;
    for (size_t i = 0; i < len; i++) {
        int a = jt_hex(p[2 * i]), b = jt_hex(p[2 * i + 1]);
        if (PB_UNLIKELY((a | b) < 0)) {
            size_t k = 2 * i + (a < 0 ? 0 : 1);
            return jt_fail(t, s.esc ? at : p + k, "invalid hex digit '%c' in an id",
                           p[k] >= 0x20 && p[k] < 0x7f ? p[k] : '?');
        }
        o[i] = (uint8_t)(a << 4 | b);
    }
    t->n += len;
    return 0;
}

/* A base64 digit's value in the standard (url = 0) or URL-safe alphabet; -1 if it is none. */
static inline int jt_b64(uint8_t c, int url) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (url ? '-' : '+')) return 62;
    if (c == (url ? '_' : '/')) return 63;
    return -1;
}

static int jt_put_base64(jt_t *t, const jfield *f) {
    const uint8_t *at = t->p, *p;
    size_t n;
    if (*at != '"') return jt_type(t, "a base64 string");
    jstr s;
    if (jt_string(t, &s) || jt_plain(t, &s, &p, &n)) return -1;
    /* protojson's rules: the URL-safe alphabet when '-' or '_' occurs, else the standard one;
     * '=' padding only when the length is a multiple of four, and then optional. */
    int url = memchr(p, '-', n) != NULL || memchr(p, '_', n) != NULL;
    size_t m = n;
    if (n % 4 == 0) {
        for (int k = 0; k < 2 && m > 0 && p[m - 1] == '='; k++) m--;
    }
    if (m % 4 == 1) return jt_fail(t, at, "invalid base64: %zu characters", m);
    size_t len = m / 4 * 3 + (m % 4 == 3 ? 2 : m % 4 == 2 ? 1 : 0);
    if (len > t->max_string) return jt_over_limit(t, at, "bytes value", len);
    JT_ROOM(t, 16 + len);
    size_t start = t->n;
    jt_put_tag(t, f->number, PB_LEN);
    jt_put_varint(t, len);
    uint8_t *o = t->out + t->n;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < m; i++) {
        int v = jt_b64(p[i], url);
        if (PB_UNLIKELY(v < 0)) {
            t->n = start;
            return jt_fail(t, s.esc ? at : p + i, "invalid base64 character '%c'",
                           p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?');
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (uint8_t)(acc >> bits);
        }
    }
    t->n += len;
    return 0;
}

static int jt_element(jt_t *t, const jfield *f) {
    switch (f->kind) {
    case JK_MESSAGE: {
        const uint8_t *at = t->p;
        if (*at != '{') return jt_type(t, "an object");
        size_t mark;
        int wide = (f->flags & JF_WIDE) != 0;
        if (jt_open(t, f->number, wide, &mark)) return -1;
        if (jt_message(t, f->msg)) return -1;
        if ((f->flags & JF_WHOLE) && t->n - mark > t->max_string)
            return jt_over_limit(t, at, "an entity_refs message", t->n - mark);
        return jt_close(t, mark, wide);
    }
    case JK_STRING:
        return jt_put_string(t, f);
    case JK_HEXID:
        return jt_put_hexid(t, f);
    case JK_BYTES:
        return jt_put_base64(t, f);
    case JK_BOOL: {
        int v;
        if (*t->p == 't') {
            if (jt_literal(t, "true", 4)) return -1;
            v = 1;
        } else if (*t->p == 'f') {
            if (jt_literal(t, "false", 5)) return -1;
            v = 0;
        } else {
            return jt_type(t, "true or false");
        }
        if (!v && !(f->flags & JF_ONEOF)) return 0;
        JT_ROOM(t, 8);
        jt_put_tag(t, f->number, PB_VARINT);
        t->out[t->n++] = (uint8_t)v;
        return 0;
    }
    case JK_DOUBLE:
        return jt_double(t, f);
    default:
        return jt_integer(t, f);
    }
}

/* A known member's value (not null) at t->p. */
static int jt_field(jt_t *t, const jfield *f) {
    if (!(f->flags & JF_REPEATED)) {
        jt_push(t, f->name, -1);
        if (jt_element(t, f)) return -1;
        jt_pop(t);
        return 0;
    }
    if (*t->p != '[') {
        jt_push(t, f->name, -1);
        return jt_type(t, "an array");
    }
    t->p++;
    jt_ws(t);
    if (t->p >= t->end) return jt_eof(t);
    if (*t->p == ']') {
        t->p++;
        return 0;
    }
    int nest = (f->flags & JF_NEST) != 0;
    for (int32_t i = 0;; i++) {
        jt_push(t, f->name, i);
        if (PB_UNLIKELY((f->flags & JF_LIMIT) && (size_t)i >= t->max_attrs)) {
            if (nest)
                return jt_fail(t, t->p, "more than %zu entries in one %s", t->max_attrs,
                               f->msg == &M_KEYVALUE ? "kvlist" : "array");
            return jt_fail(t, t->p, "more than %zu attributes", t->max_attrs);
        }
        if (PB_UNLIKELY(nest && t->nest + 2 > OTTL_MAX_NESTING_DEPTH))
            return jt_fail(t, t->p, "values nested deeper than %d levels",
                           OTTL_MAX_NESTING_DEPTH);
        t->nest += nest;
        if (jt_element(t, f)) return -1;
        t->nest -= nest;
        jt_pop(t);
        jt_ws(t);
        if (t->p >= t->end) return jt_eof(t);
        if (*t->p == ']') {
            t->p++;
            return 0;
        }
        if (*t->p != ',') return jt_fail(t, t->p, "expected ',' or ']' in an array");
        t->p++;
        jt_ws(t);
        if (t->p >= t->end) return jt_eof(t);
    }
}

/* The field a member name names, trying first the one after the field matched last. */
static int jt_lookup(const jmsg *m, const jstr *k, int *guess) {
    const uint8_t *s = k->s;
    size_t n = k->n;
    uint8_t buf[JT_KEY_MAX];
    if (k->esc) {
        if (n > JT_KEY_MAX) return -1;
        n = jt_unescape(s, n, buf);
        s = buf;
    }
    int g = *guess;
    if (g < m->n && m->fields[g].jlen == n && ottl_bytes_eq(m->fields[g].json, s, n)) {
        *guess = g + 1;
        return g;
    }
    for (int i = 0; i < m->n; i++) {
        const jfield *f = &m->fields[i];
        if ((f->jlen == n && ottl_bytes_eq(f->json, s, n)) ||
            (f->nlen == n && ottl_bytes_eq(f->name, s, n))) {
            *guess = i + 1;
            return i;
        }
    }
    return -1;
}

/* An object at t->p ('{') as message m. */
static int jt_message(jt_t *t, const jmsg *m) {
    uint32_t seen = 0;
    int oneof = 0, guess = 0;
    t->p++;
    jt_ws(t);
    if (t->p >= t->end) return jt_eof(t);
    if (*t->p == '}') {
        t->p++;
        return 0;
    }
    for (;;) {
        const uint8_t *kat = t->p;
        if (*kat != '"') return jt_fail(t, kat, "expected a member name in double quotes");
        jstr k;
        if (jt_string(t, &k)) return -1;
        jt_ws(t);
        if (t->p >= t->end) return jt_eof(t);
        if (*t->p != ':') return jt_fail(t, t->p, "expected ':' after a member name");
        t->p++;
        jt_ws(t);
        if (t->p >= t->end) return jt_eof(t);
        int i = jt_lookup(m, &k, &guess);
        if (i < 0) {
            /* Unknown members are skipped (protojson's DiscardUnknown), their values checked. */
            t->unknown++;
            if (jt_skip(t)) return -1;
        } else {
            const jfield *f = &m->fields[i];
            if (seen & (1u << i))
                return jt_fail(t, kat, "field %s appears twice (by either of its names)",
                               f->name);
            seen |= 1u << i;
            if (*t->p == 'n') {
                /* null: the field is absent. */
                if (jt_literal(t, "null", 4)) return -1;
            } else {
                if (f->flags & JF_ONEOF) {
                    if (oneof)
                        return jt_fail(t, kat, "a second member of the AnyValue oneof (%s)",
                                       f->name);
                    oneof = 1;
                }
                if (jt_field(t, f)) return -1;
            }
        }
        jt_ws(t);
        if (t->p >= t->end) return jt_eof(t);
        if (*t->p == '}') {
            t->p++;
            return 0;
        }
        if (*t->p != ',') return jt_fail(t, t->p, "expected ',' or '}' in an object");
        t->p++;
        jt_ws(t);
        if (t->p >= t->end) return jt_eof(t);
    }
}

/* Any JSON value at t->p, checked and skipped without recursion (an explicit stack of open
 * containers, bounded). */
static int jt_skip(jt_t *t) {
    uint8_t stack[JT_SKIP_MAX]; /* '{' or '[' */
    int sp = 0;
    jstr s;
    const uint8_t *stop;
    jnum num;
value:
    if (t->p >= t->end) return jt_eof(t);
    switch (*t->p) {
    case '{':
    case '[':
        if (sp >= JT_SKIP_MAX)
            return jt_fail(t, t->p, "JSON nested deeper than %d levels in an unknown member",
                           JT_SKIP_MAX);
        stack[sp++] = *t->p++;
        jt_ws(t);
        if (t->p >= t->end) return jt_eof(t);
        if (*t->p == (stack[sp - 1] == '{' ? '}' : ']')) {
            t->p++;
            sp--;
            goto after;
        }
        if (stack[sp - 1] == '{') goto key;
        goto value;
    case '"':
        if (jt_string(t, &s)) return -1;
        goto after;
    case 't':
        if (jt_literal(t, "true", 4)) return -1;
        goto after;
    case 'f':
        if (jt_literal(t, "false", 5)) return -1;
        goto after;
    case 'n':
        if (jt_literal(t, "null", 4)) return -1;
        goto after;
    default:
        if (jnum_scan(t->p, t->end, &num, &stop)) {
            if (stop >= t->end) return jt_eof(t);
            return jt_fail(t, stop, stop == t->p ? "invalid token" : "invalid number");
        }
        t->p = stop;
        goto after;
    }
key:
    if (*t->p != '"') return jt_fail(t, t->p, "expected a member name in double quotes");
    if (jt_string(t, &s)) return -1;
    jt_ws(t);
    if (t->p >= t->end) return jt_eof(t);
    if (*t->p != ':') return jt_fail(t, t->p, "expected ':' after a member name");
    t->p++;
    jt_ws(t);
    goto value;
after:
    if (!sp) return 0;
    jt_ws(t);
    if (t->p >= t->end) return jt_eof(t);
    if (*t->p == ',') {
        t->p++;
        jt_ws(t);
        if (t->p >= t->end) return jt_eof(t);
        if (stack[sp - 1] == '{') goto key;
        goto value;
    }
    if (*t->p == (stack[sp - 1] == '{' ? '}' : ']')) {
        t->p++;
        sp--;
        goto after;
    }
    return jt_fail(t, t->p, stack[sp - 1] == '{' ? "expected ',' or '}' in an object"
                                                 : "expected ',' or ']' in an array");
}

/* ---- entry points ---- */

int ottl_json_transcode(int kind, const uint8_t *json, size_t len, const ottl_decode_options *opt,
                        uint8_t **out, size_t *out_len, size_t *unknown, ottl_decode_error *err) {
    static const uint8_t empty[1] = {0};
    memset(err, 0, sizeof *err);
    *out = NULL;
    *out_len = 0;
    if (unknown) *unknown = 0;
    if (!json) json = empty;
    jt_t *t = malloc(sizeof *t);
    if (!t) {
        err->code = OTTL_DECODE_NOMEM;
        snprintf(err->message, sizeof err->message, "out of memory while decoding");
        return OTTL_DECODE_NOMEM;
    }
    memset(t, 0, offsetof(jt_t, path));
    t->base = t->p = json;
    t->end = json + len;
    t->err = err;
    t->max_string = opt && opt->max_string_length > 0 ? (size_t)opt->max_string_length
                                                      : (size_t)OTTL_DEFAULT_MAX_STRING_LENGTH;
    t->max_attrs = opt && opt->max_attributes > 0 ? (size_t)opt->max_attributes
                                                  : (size_t)OTTL_DEFAULT_MAX_ATTRIBUTES;
    const jmsg *top = kind == OTTL_BATCH_SPANS ? &M_TRACE_REQUEST : &M_LOGS_REQUEST;
    int rc;
    if (len > (size_t)OTTL_MAX_PAYLOAD_SIZE) {
        rc = jt_fail(t, json, "payload of %zu bytes is over the limit of %d bytes", len,
                     OTTL_MAX_PAYLOAD_SIZE);
        err->offset = OTTL_MAX_PAYLOAD_SIZE;
    } else if (jt_grow(t, len / 2 + 64)) {
        rc = -1;
    } else {
        jt_ws(t);
        if (t->p >= t->end) rc = jt_fail(t, t->p, "expected a JSON object, got no data");
        else if (*t->p != '{') rc = jt_type(t, "a JSON object");
        else rc = jt_message(t, top);
        if (!rc) {
            jt_ws(t);
            if (t->p < t->end) rc = jt_fail(t, t->p, "unexpected data after the JSON object");
        }
        if (!rc && t->n > (size_t)OTTL_MAX_PAYLOAD_SIZE)
            rc = jt_fail(t, t->end, "the protobuf form of this payload is over the limit of %d "
                         "bytes", OTTL_MAX_PAYLOAD_SIZE);
    }
    free(t->tmp);
    if (rc) {
        free(t->out);
        free(t);
        return err->code ? err->code : OTTL_DECODE_MALFORMED;
    }
    *out = t->out;
    *out_len = t->n;
    if (unknown) *unknown = t->unknown;
    free(t);
    return OTTL_DECODE_OK;
}

int ottl_decode_json_into(ottl_batch *reuse, int kind, const uint8_t *json, size_t len,
                          const ottl_decode_options *opt, ottl_batch **out, uint8_t **buf,
                          ottl_decode_error *err) {
    size_t n = 0, unknown = 0;
    *out = NULL;
    *buf = NULL;
    int rc = ottl_json_transcode(kind, json, len, opt, buf, &n, &unknown, err);
    if (rc) {
        ottl_batch_free(reuse);
        return rc;
    }
    rc = ottl_decode_into(reuse, kind, *buf, n, opt, out, err);
    if (rc) {
        free(*buf);
        *buf = NULL;
        if (rc == OTTL_DECODE_MALFORMED) {
            /* The transcoder refuses everything the decoder would: this is a bug. */
            char msg[sizeof err->message];
            snprintf(msg, sizeof msg,
                     "internal error: the transcoded protobuf was refused (%.180s)", err->message);
            memcpy(err->message, msg, sizeof msg);
            err->offset = 0;
        }
        return rc;
    }
    (*out)->unknown_fields += unknown;
    return OTTL_DECODE_OK;
}
