/*
 * Drives the native OTLP codec over payload files, for tests/batch/test_batch_sanitizers.py,
 * which builds it with AddressSanitizer and UndefinedBehaviorSanitizer (LeakSanitizer included)
 * and checks that it exits cleanly.
 *
 * usage: otlp_driver ITERATIONS FILE...
 * Each file is decoded as traces and as logs, ITERATIONS times: files named *.json as OTLP/JSON,
 * others as protobuf. Whatever decodes is encoded (plain, masked, verbatim, and as JSON, plain
 * and masked; verbatim with records whose attributes changed) and the encodings decoded again,
 * which must succeed and encode to the same bytes.
 * Prints "ok <decoded> <rejected>"; exits 1 on any inconsistency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_batch.h"
#include "otlp_json.h"

typedef int (*decode_fn)(const uint8_t *, size_t, const ottl_decode_options *, ottl_batch **,
                         ottl_decode_error *);

/* Starts from a deliberately small buffer so the "no room" path and the retry run too. The
 * output is moved to the start of an exactly sized heap block, so ASan sees any overrun. */
static uint8_t *encode(const ottl_batch *b, const uint8_t *mask, int verbatim, size_t *len) {
    size_t cap = 8;
    for (;;) {
        uint8_t *buf = malloc(cap);
        if (!buf) return NULL;
        if (ottl_encode(b, mask, verbatim, buf, cap, len) == 0) {
            uint8_t *out = malloc(*len + 1);
            if (out) memcpy(out, buf + cap - *len, *len);
            free(buf);
            return out;
        }
        free(buf);
        cap *= 4;
    }
}

/* OTLP/JSON, first into a buffer too small (the encoder then reports the exact size), then
 * into an exactly sized heap block, so ASan sees any write past what it reported. */
static uint8_t *encode_json(const ottl_batch *b, const uint8_t *mask, size_t *len) {
    uint8_t small[8];
    size_t need = 0;
    if (ottl_encode_json(b, mask, small, sizeof small, &need) == 0) {
        uint8_t *out = malloc(need + 1);
        if (out) memcpy(out, small, need);
        *len = need;
        return out;
    }
    uint8_t *out = malloc(need);
    if (!out) return NULL;
    if (ottl_encode_json(b, mask, out, need, len) != 0 || *len != need) {
        fprintf(stderr, "encode_json: the size it reported did not fit\n");
        free(out);
        return NULL;
    }
    return out;
}

/* The exact-size verbatim writer must write what the backward encoder writes, into a heap
 * block of exactly the size it planned (so ASan sees any write past it). */
static int check_verbatim_plan(const ottl_batch *b, const uint8_t *mask, const uint8_t *want,
                               size_t wlen) {
    ottl_verbatim_plan *p = ottl_verbatim_plan_new(b, mask);
    if (!p) {
        fprintf(stderr, "no verbatim plan for a clean batch\n");
        return -1;
    }
    size_t n = ottl_verbatim_size(p);
    uint8_t *out = malloc(n ? n : 1);
    int bad = !out;
    if (out) {
        ottl_verbatim_write(p, b, mask, out);
        if (n != wlen || memcmp(out, want, n) != 0) {
            fprintf(stderr, "exact-size verbatim output differs (%zu vs %zu bytes)\n", n, wlen);
            bad = 1;
        }
    }
    free(out);
    ottl_verbatim_free(p);
    return bad ? -1 : 0;
}

static size_t record_count(const ottl_batch *b) {
    return b->kind == OTTL_BATCH_SPANS ? b->spans.n : b->logs.n;
}

/* The batch's JSON decodes (as JSON) to a batch with the same protobuf encoding e[0, elen), and
 * writes the same JSON again; the masked JSON decodes too. 0 ok, -1 inconsistent. */
static int check_json(const ottl_batch *b, const uint8_t *mask, const uint8_t *e, size_t elen) {
    size_t jlen = 0, mjlen = 0;
    uint8_t *j = encode_json(b, NULL, &jlen);
    uint8_t *mj = encode_json(b, mask, &mjlen);
    int bad = !j || !mj;
    ottl_decode_error err;
    for (int k = 0; k < 2 && !bad; k++) {
        ottl_batch *again = NULL;
        uint8_t *buf = NULL;
        const uint8_t *in = k ? mj : j;
        size_t inlen = k ? mjlen : jlen;
        if (ottl_decode_json_into(NULL, b->kind, in, inlen, NULL, &again, &buf, &err)) {
            fprintf(stderr, "JSON re-decode failed: %s at %lld in %s\n", err.message,
                    (long long)err.offset, err.path);
            bad = 1;
            break;
        }
        if (k == 0) {
            size_t alen = 0, a2len = 0;
            uint8_t *a = encode(again, NULL, 0, &alen);
            uint8_t *a2 = encode_json(again, NULL, &a2len);
            if (!a || alen != elen || memcmp(a, e, elen) != 0) {
                fprintf(stderr, "JSON round trip changed the protobuf encoding\n");
                bad = 1;
            }
            if (!a2 || a2len != jlen || memcmp(a2, j, jlen) != 0) {
                fprintf(stderr, "JSON round trip changed the JSON encoding\n");
                bad = 1;
            }
            free(a);
            free(a2);
        }
        ottl_batch_free(again);
        free(buf);
    }
    free(j);
    free(mj);
    return bad ? -1 : 0;
}

static int json_traces(const uint8_t *data, size_t len, const ottl_decode_options *opt,
                       ottl_batch **out, ottl_decode_error *err);
static int json_logs(const uint8_t *data, size_t len, const ottl_decode_options *opt,
                     ottl_batch **out, ottl_decode_error *err);

/* The transcoded buffer of the batch json_traces/json_logs decoded last (its input). */
static uint8_t *json_buf;

static int json_decode(int kind, const uint8_t *data, size_t len, const ottl_decode_options *opt,
                       ottl_batch **out, ottl_decode_error *err) {
    free(json_buf);
    json_buf = NULL;
    return ottl_decode_json_into(NULL, kind, data, len, opt, out, &json_buf, err);
}
static int json_traces(const uint8_t *data, size_t len, const ottl_decode_options *opt,
                       ottl_batch **out, ottl_decode_error *err) {
    return json_decode(OTTL_BATCH_SPANS, data, len, opt, out, err);
}
static int json_logs(const uint8_t *data, size_t len, const ottl_decode_options *opt,
                     ottl_batch **out, ottl_decode_error *err) {
    return json_decode(OTTL_BATCH_LOGS, data, len, opt, out, err);
}

/* Projected decodes (keys the generated requests use, and one they do not), which must
 * refuse exactly what the whole decodes refuse. */
static const char *const proj_keys[] = {"a", "k", "http.method", "absent"};
static const size_t proj_lens[] = {1, 1, 11, 6};
static const ottl_projection projection = {proj_keys, proj_lens, 4, 0};

static int projected_traces(const uint8_t *data, size_t len, const ottl_decode_options *opt,
                            ottl_batch **out, ottl_decode_error *err) {
    return ottl_decode_projected(NULL, OTTL_BATCH_SPANS, data, len, opt, &projection, out, err);
}
static int projected_logs(const uint8_t *data, size_t len, const ottl_decode_options *opt,
                          ottl_batch **out, ottl_decode_error *err) {
    return ottl_decode_projected(NULL, OTTL_BATCH_LOGS, data, len, opt, &projection, out, err);
}

/* The same keys decoded with the other attributes kept opaque (for transforms). */
static const ottl_projection kept = {proj_keys, proj_lens, 4, 1};

/* 0 ok, 1 rejected, -1 inconsistent: a batch decoded with the other attributes kept opaque,
 * every record marked as having changed attributes, encodes verbatim (copying every entry,
 * opaque or not) to what reads back as the whole decode of the same input. */
static int check_kept(int kind, const uint8_t *data, size_t len) {
    ottl_batch *k = NULL, *w = NULL, *again = NULL;
    ottl_decode_error err;
    if (ottl_decode_projected(NULL, kind, data, len, NULL, &kept, &k, &err)) return k ? -1 : 1;
    int bad = ottl_decode_into(NULL, kind, data, len, NULL, &w, &err) != 0;
    size_t n = record_count(k), vlen = 0, elen = 0, alen = 0;
    uint8_t *v = NULL, *e = NULL, *a = NULL;
    if (!bad && k->attrs_projected != 0 && k->attrs_projected != 2) bad = 1;
    if (!bad) {
        k->dirty = calloc(n ? n : 1, 1);
        for (size_t i = 0; k->dirty && i < n; i++) k->dirty[i] = OTTL_DIRTY_ATTRS;
        v = encode(k, NULL, 1, &vlen);
        e = encode(w, NULL, 0, &elen);
        bad = !k->dirty || !v || !e;
    }
    if (!bad && ottl_decode_into(NULL, kind, v, vlen, NULL, &again, &err)) {
        fprintf(stderr, "kept-attributes verbatim encode does not decode: %s at %s\n",
                err.message, err.path);
        bad = 1;
    }
    if (!bad) {
        a = encode(again, NULL, 0, &alen);
        if (!a || alen != elen || memcmp(a, e, elen) != 0) {
            fprintf(stderr, "kept-attributes verbatim encode reads back differently\n");
            bad = 1;
        }
    }
    free(v);
    free(e);
    free(a);
    ottl_batch_free(k);
    ottl_batch_free(w);
    ottl_batch_free(again);
    return bad ? -1 : 0;
}

/* A verbatim encode of records whose attributes changed (every other one marked so, and in
 * every fourth one an entry no longer as decoded) writes the input around their attributes and
 * copies the entries still as decoded: what it writes must read back as the batch, i.e. decode
 * to the same encoding from the columns, e[0, elen). Leaves b marked. */
static int check_patched(ottl_batch *b, const uint8_t *e, size_t elen) {
    size_t n = record_count(b);
    int spans = b->kind == OTTL_BATCH_SPANS;
    const int64_t *off = spans ? b->spans.attr_off : b->logs.attr_off;
    ottl_kvpool *pool = spans ? &b->span_attrs : &b->log_attrs;
    b->dirty = calloc(n ? n : 1, 1);
    if (!b->dirty) return -1;
    for (size_t i = 0; i < n; i += 2) {
        b->dirty[i] = OTTL_DIRTY_ATTRS;
        if (i % 4 == 0 && off[i + 1] > off[i]) pool->src[off[i]] = -1;
    }
    size_t plen = 0, alen = 0;
    uint8_t *pe = encode(b, NULL, 1, &plen), *a = NULL;
    ottl_batch *again = NULL;
    ottl_decode_error err;
    int bad = !pe;
    if (!bad && (spans ? ottl_decode_traces : ottl_decode_logs)(pe, plen, NULL, &again, &err)) {
        fprintf(stderr, "patched verbatim encode does not decode: %s at %lld in %s\n",
                err.message, (long long)err.offset, err.path);
        bad = 1;
    }
    if (!bad) {
        a = encode(again, NULL, 0, &alen);
        if (!a || alen != elen || memcmp(a, e, elen) != 0) {
            fprintf(stderr, "patched verbatim encode reads back differently\n");
            bad = 1;
        }
    }
    free(a);
    free(pe);
    ottl_batch_free(again);
    return bad ? -1 : 0;
}

/* A decode on four threads against one on a single thread (main lets every resource group start
 * a part): the same error, or batches that encode to the same bytes. 0 ok, -1 not. */
static int check_parallel(int kind, const uint8_t *data, size_t len) {
    ottl_decode_options one = {-1, -1, 1}, four = {-1, -1, 4};
    ottl_batch *a = NULL, *b = NULL;
    ottl_decode_error ea, eb;
    int ra = ottl_decode_into(NULL, kind, data, len, &one, &a, &ea);
    int rb = ottl_decode_into(NULL, kind, data, len, &four, &b, &eb);
    int bad = ra != rb;
    if (!bad && ra)
        bad = ea.code != eb.code || ea.offset != eb.offset || strcmp(ea.path, eb.path) != 0 ||
              strcmp(ea.message, eb.message) != 0;
    for (int verbatim = 0; !bad && !ra && verbatim < 2; verbatim++) {
        size_t la = 0, lb = 0;
        uint8_t *xa = encode(a, NULL, verbatim, &la), *xb = encode(b, NULL, verbatim, &lb);
        bad = !xa || !xb || la != lb || memcmp(xa, xb, la) != 0 ||
              a->strings.count != b->strings.count ||
              a->strings.arena_len != b->strings.arena_len ||
              memcmp(a->strings.arena, b->strings.arena, a->strings.arena_len) != 0;
        free(xa);
        free(xb);
    }
    ottl_batch_free(a);
    ottl_batch_free(b);
    return bad ? -1 : 0;
}

/* 0 ok, 1 rejected, -1 inconsistent */
static int check(decode_fn decode, int json, const uint8_t *data, size_t len) {
    ottl_batch *b = NULL;
    ottl_decode_error err;
    int rc = decode(data, len, NULL, &b, &err);
    if (rc) {
        if (b || err.offset < 0 || (size_t)err.offset > len) return -1;
        if (json && strstr(err.message, "internal error")) {
            fprintf(stderr, "%s\n", err.message);
            return -1;
        }
        return 1;
    }
    size_t n = record_count(b), elen = 0, mlen = 0, vlen = 0;
    uint8_t *mask = malloc(n + 1);
    for (size_t i = 0; i < n; i++) mask[i] = (uint8_t)(i % 3 != 1);
    uint8_t *e = encode(b, NULL, 0, &elen);
    uint8_t *m = encode(b, mask, 0, &mlen);
    uint8_t *v = encode(b, NULL, 1, &vlen);
    size_t mvlen = 0;
    uint8_t *mv = encode(b, mask, 1, &mvlen);
    int bad = !e || !m || !v || !mv;
    if (!bad && (check_verbatim_plan(b, NULL, v, vlen) || check_verbatim_plan(b, mask, mv, mvlen)))
        bad = 1;
    if (!bad && check_json(b, mask, e, elen)) bad = 1;
    if (!bad) {
        /* What we encode we must read back, to the same bytes. */
        ottl_batch *again = NULL;
        decode_fn proto = b->kind == OTTL_BATCH_SPANS ? ottl_decode_traces : ottl_decode_logs;
        if (proto(e, elen, NULL, &again, &err)) {
            fprintf(stderr, "re-decode failed: %s at %lld in %s\n", err.message,
                    (long long)err.offset, err.path);
            bad = 1;
        } else {
            size_t alen = 0;
            uint8_t *a = encode(again, NULL, 0, &alen);
            if (!a || alen != elen || memcmp(a, e, elen) != 0) {
                fprintf(stderr, "re-encode differs\n");
                bad = 1;
            }
            free(a);
            ottl_batch_free(again);
        }
    }
    /* (A projected batch lacks attributes, so it has nothing to patch: Python refuses it.) */
    if (!bad && !b->attrs_projected && check_patched(b, e, elen)) bad = 1;
    free(e);
    free(m);
    free(v);
    free(mv);
    free(mask);
    ottl_batch_free(b);
    free(json_buf);
    json_buf = NULL;
    return bad ? -1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s ITERATIONS FILE...\n", argv[0]);
        return 2;
    }
    int iterations = atoi(argv[1]);
    long decoded = 0, rejected = 0;
    /* Every resource group may start a part of a parallel decode (the default needs 512 KiB
     * each): the decodes below with the default options cut every payload of several groups. */
    ottl_decode_set_part_min_bytes(1);
    /* A length over the limit is refused before a byte is read. */
    uint8_t one = 0;
    ottl_batch *b = NULL;
    ottl_decode_error err;
    if (ottl_decode_traces(&one, (size_t)OTTL_MAX_PAYLOAD_SIZE + 1, NULL, &b, &err) !=
            OTTL_DECODE_MALFORMED || b || err.offset != OTTL_MAX_PAYLOAD_SIZE) {
        fprintf(stderr, "oversize payload not refused\n");
        return 1;
    }
    uint8_t *jb = NULL;
    if (ottl_decode_json_into(NULL, OTTL_BATCH_SPANS, &one, (size_t)OTTL_MAX_PAYLOAD_SIZE + 1,
                              NULL, &b, &jb, &err) != OTTL_DECODE_MALFORMED ||
        b || jb || err.offset != OTTL_MAX_PAYLOAD_SIZE) {
        fprintf(stderr, "oversize JSON payload not refused\n");
        return 1;
    }
    for (int f = 2; f < argc; f++) {
        FILE *fp = fopen(argv[f], "rb");
        if (!fp) {
            perror(argv[f]);
            return 2;
        }
        fseek(fp, 0, SEEK_END);
        long len = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        /* Exactly len bytes on the heap, so ASan sees any read past the end. */
        uint8_t *data = malloc(len > 0 ? (size_t)len : 1);
        if (len > 0 && fread(data, 1, (size_t)len, fp) != (size_t)len) {
            perror(argv[f]);
            return 2;
        }
        fclose(fp);
        size_t nlen = strlen(argv[f]);
        int json = nlen > 5 && strcmp(argv[f] + nlen - 5, ".json") == 0;
        for (int it = 0; it < iterations; it++) {
            decode_fn fns[4] = {ottl_decode_traces, ottl_decode_logs, projected_traces,
                                projected_logs};
            int nfns = 4, rcs[4];
            if (json) {
                fns[0] = json_traces;
                fns[1] = json_logs;
                nfns = 2;
            }
            for (int k = 0; k < nfns; k++) {
                int rc = rcs[k] = check(fns[k], json, data, (size_t)len);
                if (rc < 0 || (k >= 2 && rc != rcs[k - 2])) {
                    fprintf(stderr, "inconsistent result for %s\n", argv[f]);
                    return 1;
                }
                if (rc == 0) decoded++;
                else rejected++;
            }
            for (int k = 0; !json && k < 2; k++) {
                int rc = check_kept(k ? OTTL_BATCH_LOGS : OTTL_BATCH_SPANS, data, (size_t)len);
                if (rc < 0 || rc != rcs[k]) {
                    fprintf(stderr, "inconsistent kept-attributes result for %s\n", argv[f]);
                    return 1;
                }
                if (check_parallel(k ? OTTL_BATCH_LOGS : OTTL_BATCH_SPANS, data, (size_t)len)) {
                    fprintf(stderr, "a parallel decode differs for %s\n", argv[f]);
                    return 1;
                }
            }
        }
        free(data);
    }
    ottl_decode_free_spares();
    printf("ok %ld %ld\n", decoded, rejected);
    return 0;
}
