/* Verbatim copy-out at the exact size (see ottl_verbatim_plan in otlp_batch.h).
 *
 * When no record is re-encoded, every size of the output is known before writing it: the
 * records' byte ranges, and the few resource and scope headers, which are encoded once into a
 * small arena here. So the output goes straight into a buffer of its exact size, front to back,
 * with none of the backward writer's final move of the whole output to the buffer's start (a
 * second pass over megabytes, the dearest part of a filter's copy-out). The bytes are the same
 * as ottl_encode(verbatim) writes. */
#include "otlp_encode.h"

#include <stdlib.h>
#include <string.h>

struct ottl_verbatim_plan {
    size_t size;
    /* Per resource and per scope: the content length of its ResourceSpans / ScopeSpans (or
     * ResourceLogs / ScopeLogs) message, or SIZE_MAX when the mask drops it; and where its
     * header (the resource or scope field, tag and length included) sits in hdr. */
    size_t *res_len, *scope_len;
    size_t *res_hdr, *scope_hdr; /* offsets into hdr; one more entry closes each range */
    uint8_t *hdr;
};

static size_t field_size(size_t len) { return 1 + pb_varint_size(len) + len; }

static size_t str_field_size(const ottl_batch *b, int32_t sid) {
    return sid ? field_size(ottl_strtab_len(&b->strings, sid)) : 0;
}

/* A growable buffer: the header arena, and the scratch the backward writer fills first. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} vbuf;

static int vbuf_reserve(vbuf *v, size_t need) {
    if (need <= v->cap) return 0;
    size_t want = need * 2;
    uint8_t *grown = realloc(v->p, want);
    if (!grown) return -1;
    v->p = grown;
    v->cap = want;
    return 0;
}

/* The resource (is_res) or scope field of group g, written backwards into scratch (grown
 * until it fits), then appended to hdr. */
static int add_header(const ottl_batch *b, int is_res, size_t g, vbuf *hdr, vbuf *scratch) {
    const int present = is_res ? b->resources.present[g] : b->scopes.present[g];
    if (!present) return 0;
    for (;;) {
        rw_t w = {scratch->p, scratch->p + scratch->cap, scratch->p + scratch->cap,
                  b->input != NULL};
        int rc = is_res ? rw_resource(&w, b, g) : rw_scope(&w, b, g);
        if (!rc) rc = rw_close(&w, PB_TAG(1, PB_LEN), 0);
        if (!rc) {
            size_t n = rw_used(&w);
            if (vbuf_reserve(hdr, hdr->len + n)) return -1;
            memcpy(hdr->p + hdr->len, w.p, n);
            hdr->len += n;
            return 0;
        }
        if (vbuf_reserve(scratch, scratch->cap * 2)) return -1;
    }
}

void ottl_verbatim_free(ottl_verbatim_plan *p) {
    if (!p) return;
    free(p->res_len);
    free(p->scope_len);
    free(p->res_hdr);
    free(p->scope_hdr);
    free(p->hdr);
    free(p);
}

ottl_verbatim_plan *ottl_verbatim_plan_new(const ottl_batch *b, const uint8_t *mask) {
    if (b->dirty) return NULL;
    const ottl_resources *R = &b->resources;
    const ottl_scopes *S = &b->scopes;
    int spans = b->kind == OTTL_BATCH_SPANS;
    const int64_t *start = spans ? b->spans.byte_start : b->logs.byte_start;
    const int64_t *end = spans ? b->spans.byte_end : b->logs.byte_end;
    ottl_verbatim_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    vbuf hdr = {0}, scratch = {0};
    p->res_len = malloc((R->n + 1) * sizeof *p->res_len);
    p->scope_len = malloc((S->n + 1) * sizeof *p->scope_len);
    p->res_hdr = malloc((R->n + 1) * sizeof *p->res_hdr);
    p->scope_hdr = malloc((S->n + 1) * sizeof *p->scope_hdr);
    if (!p->res_len || !p->scope_len || !p->res_hdr || !p->scope_hdr ||
        vbuf_reserve(&hdr, 512) || vbuf_reserve(&scratch, 128))
        goto fail;
    for (size_t r = 0; r < R->n; r++) {
        size_t content = 0, kept_scopes = 0;
        p->res_hdr[r] = hdr.len;
        if (add_header(b, 1, r, &hdr, &scratch)) goto fail;
        content += hdr.len - p->res_hdr[r];
        for (int64_t s = R->scope_off[r]; s < R->scope_off[r + 1]; s++) {
            size_t sc = 0, kept = 0;
            for (int64_t i = S->rec_off[s]; i < S->rec_off[s + 1]; i++) {
                if (mask && !mask[i]) continue;
                sc += field_size((size_t)(end[i] - start[i]));
                kept++;
            }
            p->scope_hdr[s] = hdr.len;
            if (mask && !kept) {
                p->scope_len[s] = SIZE_MAX; /* dropped, schema_url and all */
                continue;
            }
            if (add_header(b, 0, (size_t)s, &hdr, &scratch)) goto fail;
            sc += hdr.len - p->scope_hdr[s] + str_field_size(b, S->schema_url[s]);
            p->scope_len[s] = sc;
            content += field_size(sc);
            kept_scopes++;
        }
        if (mask && !kept_scopes) {
            p->res_len[r] = SIZE_MAX;
            hdr.len = p->res_hdr[r];
            continue;
        }
        content += str_field_size(b, R->schema_url[r]);
        p->res_len[r] = content;
        p->size += field_size(content);
    }
    p->res_hdr[R->n] = hdr.len;
    p->scope_hdr[S->n] = hdr.len;
    p->hdr = hdr.p;
    free(scratch.p);
    return p;
fail:
    free(hdr.p);
    free(scratch.p);
    ottl_verbatim_free(p);
    return NULL;
}

size_t ottl_verbatim_size(const ottl_verbatim_plan *p) { return p->size; }

static uint8_t *put_len_field(uint8_t *o, uint8_t tag, size_t len) {
    *o++ = tag;
    return pb_put_varint(o, len);
}

static uint8_t *put_str(uint8_t *o, const ottl_batch *b, uint8_t tag, int32_t sid) {
    if (!sid) return o;
    size_t n = ottl_strtab_len(&b->strings, sid);
    o = put_len_field(o, tag, n);
    memcpy(o, ottl_strtab_ptr(&b->strings, sid), n);
    return o + n;
}

/* The end of the run of kept records from i (before stop) that lie back to back in the
 * input, each framed there exactly as it is written here (field 2, its length as a minimal
 * varint); *from is where the run's first frame starts. i itself when record i is not so
 * framed. Such a run is copied in one piece: a copy per record pays its start-up each time,
 * one long copy runs at the memory's speed. Headers are read again only when the decoder did
 * not find every frame minimal (ottl_batch.frames_minimal). */
static int64_t framed_run(const ottl_batch *b, const int64_t *start, const int64_t *end,
                          const uint8_t *mask, int64_t i, int64_t stop, int64_t *from) {
    int64_t j = i;
    for (; j < stop && (!mask || mask[j]); j++) {
        size_t len = (size_t)(end[j] - start[j]);
        size_t hl = 1 + pb_varint_size(len);
        int64_t h = start[j] - (int64_t)hl;
        if (h < 0 || (j > i && h != end[j - 1])) break;
        if (!b->frames_minimal) {
            uint8_t head[16];
            put_len_field(head, PB_TAG(2, PB_LEN), len);
            if (memcmp(b->input + h, head, hl)) break;
        }
        if (j == i) *from = h;
    }
    return j;
}

void ottl_verbatim_write(const ottl_verbatim_plan *p, const ottl_batch *b, const uint8_t *mask,
                         uint8_t *out) {
    const ottl_resources *R = &b->resources;
    const ottl_scopes *S = &b->scopes;
    int spans = b->kind == OTTL_BATCH_SPANS;
    const int64_t *start = spans ? b->spans.byte_start : b->logs.byte_start;
    const int64_t *end = spans ? b->spans.byte_end : b->logs.byte_end;
    uint8_t *o = out;
    for (size_t r = 0; r < R->n; r++) {
        if (p->res_len[r] == SIZE_MAX) continue;
        o = put_len_field(o, PB_TAG(1, PB_LEN), p->res_len[r]);
        /* Header ranges: a resource's runs to its first scope's, a scope's to the next scope's
         * or, for its resource's last, to the next resource's (closing entries at the end). */
        int64_t s0 = R->scope_off[r];
        size_t h0 = p->res_hdr[r];
        size_t h1 = s0 < R->scope_off[r + 1] ? p->scope_hdr[s0] : p->res_hdr[r + 1];
        memcpy(o, p->hdr + h0, h1 - h0);
        o += h1 - h0;
        for (int64_t s = s0; s < R->scope_off[r + 1]; s++) {
            if (p->scope_len[s] == SIZE_MAX) continue;
            o = put_len_field(o, PB_TAG(2, PB_LEN), p->scope_len[s]);
            size_t g0 = p->scope_hdr[s], g1 = p->scope_hdr[s + 1];
            if (s + 1 == R->scope_off[r + 1]) g1 = p->res_hdr[r + 1];
            memcpy(o, p->hdr + g0, g1 - g0);
            o += g1 - g0;
            for (int64_t i = S->rec_off[s], stop = S->rec_off[s + 1]; i < stop;) {
                if (mask && !mask[i]) {
                    i++;
                    continue;
                }
                int64_t from = 0, j = framed_run(b, start, end, mask, i, stop, &from);
                if (j > i) {
                    size_t n = (size_t)(end[j - 1] - from);
                    memcpy(o, b->input + from, n);
                    o += n;
                    i = j;
                    continue;
                }
                size_t n = (size_t)(end[i] - start[i]);
                o = put_len_field(o, PB_TAG(2, PB_LEN), n);
                memcpy(o, b->input + start[i], n);
                o += n;
                i++;
            }
            o = put_str(o, b, PB_TAG(3, PB_LEN), S->schema_url[s]);
        }
        o = put_str(o, b, PB_TAG(3, PB_LEN), R->schema_url[r]);
    }
}
