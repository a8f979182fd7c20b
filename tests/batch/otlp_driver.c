/*
 * Drives the native OTLP codec over payload files, for tests/batch/test_batch_sanitizers.py,
 * which builds it with AddressSanitizer and UndefinedBehaviorSanitizer (LeakSanitizer included)
 * and checks that it exits cleanly.
 *
 * usage: otlp_driver ITERATIONS FILE...
 * Each file is decoded as traces and as logs, ITERATIONS times; whatever decodes is encoded
 * (plain, masked, verbatim) and the encoding decoded again, which must succeed and encode to
 * the same bytes. Prints "ok <decoded> <rejected>"; exits 1 on any inconsistency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_batch.h"

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

static size_t record_count(const ottl_batch *b) {
    return b->kind == OTTL_BATCH_SPANS ? b->spans.n : b->logs.n;
}

/* 0 ok, 1 rejected, -1 inconsistent */
static int check(decode_fn decode, const uint8_t *data, size_t len) {
    ottl_batch *b = NULL;
    ottl_decode_error err;
    int rc = decode(data, len, NULL, &b, &err);
    if (rc) {
        if (b || err.offset < 0 || (size_t)err.offset > len) return -1;
        return 1;
    }
    size_t n = record_count(b), elen = 0, mlen = 0, vlen = 0;
    uint8_t *mask = malloc(n + 1);
    for (size_t i = 0; i < n; i++) mask[i] = (uint8_t)(i % 3 != 1);
    uint8_t *e = encode(b, NULL, 0, &elen);
    uint8_t *m = encode(b, mask, 0, &mlen);
    uint8_t *v = encode(b, NULL, 1, &vlen);
    int bad = !e || !m || !v;
    if (!bad) {
        /* What we encode we must read back, to the same bytes. */
        ottl_batch *again = NULL;
        if (decode(e, elen, NULL, &again, &err)) {
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
    free(e);
    free(m);
    free(v);
    free(mask);
    ottl_batch_free(b);
    return bad ? -1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s ITERATIONS FILE...\n", argv[0]);
        return 2;
    }
    int iterations = atoi(argv[1]);
    long decoded = 0, rejected = 0;
    /* A length over the limit is refused before a byte is read. */
    uint8_t one = 0;
    ottl_batch *b = NULL;
    ottl_decode_error err;
    if (ottl_decode_traces(&one, (size_t)OTTL_MAX_PAYLOAD_SIZE + 1, NULL, &b, &err) !=
            OTTL_DECODE_MALFORMED || b || err.offset != OTTL_MAX_PAYLOAD_SIZE) {
        fprintf(stderr, "oversize payload not refused\n");
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
        for (int it = 0; it < iterations; it++) {
            decode_fn fns[2] = {ottl_decode_traces, ottl_decode_logs};
            for (int k = 0; k < 2; k++) {
                int rc = check(fns[k], data, (size_t)len);
                if (rc < 0) {
                    fprintf(stderr, "inconsistent result for %s\n", argv[f]);
                    return 1;
                }
                if (rc == 0) decoded++;
                else rejected++;
            }
        }
        free(data);
    }
    printf("ok %ld %ld\n", decoded, rejected);
    return 0;
}
