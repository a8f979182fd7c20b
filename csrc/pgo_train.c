/*
 * The training run of the profile-guided build (setup.py, OTTL_PGO): the codec's hot paths over
 * realistic payloads made here (about what benchmarks/benchmarks/otlp_data.py makes: ten
 * attributes per span, resource and scope attributes, some events, log records with bodies), so
 * that the compiler lays out, inlines and unrolls them for what a decode and an encode meet.
 * Not part of the library: setup.py links it with the codec's objects (compiled with
 * -fprofile-generate), runs it, then compiles the codec again with the profile.
 *
 * usage: pgo_train ROUNDS
 */
#include "otlp_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small protobuf writer: messages built inside out, each in its own buffer ---- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, const void *data, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            fprintf(stderr, "pgo_train: out of memory\n");
            exit(1);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void varint(buf_t *b, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put(b, tmp, n);
}

static void field_bytes(buf_t *b, int num, const void *data, size_t n) {
    varint(b, (uint64_t)num << 3 | 2);
    varint(b, n);
    put(b, data, n);
}

static void field_str(buf_t *b, int num, const char *s) { field_bytes(b, num, s, strlen(s)); }

static void field_msg(buf_t *b, int num, buf_t *inner) { /* and empties inner */
    field_bytes(b, num, inner->p, inner->len);
    inner->len = 0;
}

static void field_varint(buf_t *b, int num, uint64_t v) {
    varint(b, (uint64_t)num << 3);
    varint(b, v);
}

static void field_fixed64(buf_t *b, int num, uint64_t v) {
    varint(b, (uint64_t)num << 3 | 1);
    for (int i = 0; i < 8; i++) {
        uint8_t byte = (uint8_t)(v >> (8 * i));
        put(b, &byte, 1);
    }
}

/* A KeyValue of a string, int or bool. */
static void attr(buf_t *out, int num, const char *key, const char *s, int64_t i, int kind) {
    buf_t kv = {0}, v = {0};
    field_str(&kv, 1, key);
    if (kind == 's') field_str(&v, 1, s);
    else if (kind == 'b') field_varint(&v, 2, (uint64_t)i);
    else field_varint(&v, 3, (uint64_t)i);
    field_msg(&kv, 2, &v);
    field_msg(out, num, &kv);
    free(kv.p);
    free(v.p);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { /* xorshift64 */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void resource(buf_t *out, int r) {
    buf_t res = {0};
    char text[64];
    snprintf(text, sizeof text, "service-%d", r);
    attr(&res, 1, "service.name", text, 0, 's');
    attr(&res, 1, "deployment.environment", "production", 0, 's');
    snprintf(text, sizeof text, "ip-10-0-%d-%d.ec2.internal", r, (int)(next() % 255));
    attr(&res, 1, "host.name", text, 0, 's');
    attr(&res, 1, "telemetry.sdk.language", "python", 0, 's');
    field_msg(out, 1, &res);
    free(res.p);
}

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "GET", "PATCH"};
static const char *const routes[] = {"/api/v1/users/{id}", "/api/v1/orders/{id}",
                                     "/api/v1/carts/{id}", "/api/v1/search/{id}"};

static buf_t traces_payload(int resources, int per) {
    buf_t req = {0}, rs = {0}, ss = {0}, scope = {0}, span = {0}, ev = {0}, status = {0};
    char text[128];
    for (int r = 0; r < resources; r++) {
        resource(&rs, r);
        field_str(&scope, 1, "opentelemetry.instrumentation.flask");
        field_str(&scope, 2, "0.48b0");
        field_msg(&ss, 1, &scope);
        for (int s = 0; s < per; s++) {
            uint8_t id[16];
            for (int k = 0; k < 16; k++) id[k] = (uint8_t)next();
            const char *method = methods[next() % 6], *route = routes[next() % 4];
            uint64_t start = 1700000000000000000ull + next() % 1000000000000ull;
            field_bytes(&span, 1, id, 16);
            field_bytes(&span, 2, id + 8, 8);
            if (next() % 5) field_bytes(&span, 4, id + 4, 8);
            snprintf(text, sizeof text, "%s %s", method, route);
            field_str(&span, 5, text);
            field_varint(&span, 6, 1 + next() % 3);
            field_fixed64(&span, 7, start);
            field_fixed64(&span, 8, start + next() % 100000000);
            int code = next() % 8 ? 200 : 500 + (int)(next() % 4);
            attr(&span, 9, "http.method", method, 0, 's');
            attr(&span, 9, "http.route", route, 0, 's');
            snprintf(text, sizeof text, "https://shop.example.com/api/v1/x/%d",
                     (int)(next() % 1000000));
            attr(&span, 9, "http.url", text, 0, 's');
            attr(&span, 9, "http.status_code", NULL, code, 'i');
            attr(&span, 9, "http.scheme", "https", 0, 's');
            snprintf(text, sizeof text, "10.1.%d.%d", (int)(next() % 4), (int)(next() % 255));
            attr(&span, 9, "net.peer.name", text, 0, 's');
            attr(&span, 9, "net.peer.port", NULL, 30000 + (int64_t)(next() % 30000), 'i');
            const char *agent = next() % 2 ? "curl/8.4.0" : "python-requests/2.31";
            attr(&span, 9, "http.user_agent", agent, 0, 's');
            attr(&span, 9, "http.request_content_length", NULL, (int64_t)(next() % 5000), 'i');
            attr(&span, 9, "sampled", NULL, 1, 'b');
            if (next() % 10 == 0) {
                field_fixed64(&ev, 1, start + 1000);
                field_str(&ev, 2, "exception");
                attr(&ev, 3, "exception.type", "ValueError", 0, 's');
                field_msg(&span, 11, &ev);
            }
            if (code >= 500) {
                field_str(&status, 2, "upstream error");
                field_varint(&status, 3, 2);
                field_msg(&span, 15, &status);
            }
            field_msg(&ss, 2, &span);
        }
        field_msg(&rs, 2, &ss);
        field_str(&rs, 3, "https://opentelemetry.io/schemas/1.24.0");
        field_msg(&req, 1, &rs);
    }
    free(rs.p), free(ss.p), free(scope.p), free(span.p), free(ev.p), free(status.p);
    return req;
}

static buf_t logs_payload(int resources, int per) {
    buf_t req = {0}, rl = {0}, sl = {0}, scope = {0}, rec = {0}, body = {0};
    char text[128];
    for (int r = 0; r < resources; r++) {
        resource(&rl, r);
        field_str(&scope, 1, "app.logger");
        field_msg(&sl, 1, &scope);
        for (int i = 0; i < per; i++) {
            uint8_t id[16];
            for (int k = 0; k < 16; k++) id[k] = (uint8_t)next();
            uint64_t t = 1700000000000000000ull + next() % 1000000000000ull;
            field_fixed64(&rec, 1, t);
            field_varint(&rec, 2, 9);
            field_str(&rec, 3, "INFO");
            snprintf(text, sizeof text, "request %d handled in %d ms", (int)(next() % 1000000),
                     (int)(next() % 500));
            field_str(&body, 1, text);
            field_msg(&rec, 5, &body);
            attr(&rec, 6, "logger", "app.http", 0, 's');
            attr(&rec, 6, "thread.id", NULL, (int64_t)(next() % 64), 'i');
            field_bytes(&rec, 9, id, 16);
            field_bytes(&rec, 10, id + 8, 8);
            field_fixed64(&rec, 11, t + 1000);
            field_msg(&sl, 2, &rec);
        }
        field_msg(&rl, 2, &sl);
        field_msg(&req, 1, &rl);
    }
    free(rl.p), free(sl.p), free(scope.p), free(rec.p), free(body.p);
    return req;
}

/* ---- the run ---- */

/* Every encoder path over the batch: from the columns, verbatim, and the exact-size plan of a
 * filter keeping two records in three. */
static int encode_all(const ottl_batch *b, size_t rows, size_t input_len) {
    size_t cap = 2 * input_len + 4096, len = 0;
    uint8_t *buf = malloc(cap), *mask = malloc(rows ? rows : 1);
    if (!buf || !mask) return -1;
    for (size_t i = 0; i < rows; i++) mask[i] = i % 3 != 0;
    int rc = ottl_encode(b, NULL, 0, buf, cap, &len) || ottl_encode(b, NULL, 1, buf, cap, &len);
    ottl_verbatim_plan *plan = rc ? NULL : ottl_verbatim_plan_new(b, mask);
    if (plan && ottl_verbatim_size(plan) <= cap) ottl_verbatim_write(plan, b, mask, buf);
    else rc = -1;
    ottl_verbatim_free(plan);
    free(buf);
    free(mask);
    return rc;
}

static int decode(int kind, const uint8_t *data, size_t len, const ottl_projection *proj,
                  ottl_batch **out) {
    ottl_decode_options opt = {-1, -1, 1}; /* one thread: a deterministic profile */
    ottl_decode_error err;
    int rc = proj ? ottl_decode_projected(NULL, kind, data, len, &opt, proj, out, &err)
                  : ottl_decode_into(NULL, kind, data, len, &opt, out, &err);
    if (rc) fprintf(stderr, "pgo_train: the payload does not decode: %s at %s\n", err.message,
                    err.path);
    return rc;
}

int main(int argc, char **argv) {
    int rounds = argc == 2 ? atoi(argv[1]) : 0;
    if (rounds < 1) {
        fprintf(stderr, "usage: pgo_train ROUNDS\n");
        return 2;
    }
    buf_t traces = traces_payload(10, 400), logs = logs_payload(10, 300);
    const char *keys[] = {"http.status_code", "http.method"};
    const size_t lens[] = {16, 11};
    ottl_projection proj = {keys, lens, 2, 0}, kept = {keys, lens, 2, 1};
    for (int r = 0; r < rounds; r++) {
        ottl_batch *b = NULL;
        if (decode(OTTL_BATCH_SPANS, traces.p, traces.len, NULL, &b) ||
            encode_all(b, b->spans.n, traces.len))
            return 1;
        ottl_batch_free(b);
        if (decode(OTTL_BATCH_SPANS, traces.p, traces.len, &proj, &b) ||
            encode_all(b, b->spans.n, traces.len))
            return 1;
        ottl_batch_free(b);
        if (decode(OTTL_BATCH_SPANS, traces.p, traces.len, &kept, &b) ||
            encode_all(b, b->spans.n, traces.len))
            return 1;
        ottl_batch_free(b);
        if (decode(OTTL_BATCH_LOGS, logs.p, logs.len, NULL, &b) ||
            encode_all(b, b->logs.n, logs.len))
            return 1;
        ottl_batch_free(b);
    }
    free(traces.p);
    free(logs.p);
    return 0;
}
