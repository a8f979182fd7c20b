/*
 * Drives the VM (csrc/vm*.c) over decoded payloads, for tests/engine/test_sanitizers.py, which
 * builds it with AddressSanitizer and UndefinedBehaviorSanitizer (LeakSanitizer included) and
 * checks that it exits cleanly.
 *
 * usage: vm_driver ITERATIONS MUTANTS SEED PROGRAMS PAYLOAD...
 *
 * PROGRAMS is a text file of programs, whitespace-separated tokens each:
 *     EXPECT NREGS NMASKS NCODE word... NCONSTS (tag value)... NSTRINGS hex...
 * EXPECT is "v" (must load), "x" (must be refused) or "a" (either); an empty string is "-".
 * Each PAYLOAD is decoded as traces and as logs. Every program that loads runs over every
 * batch that decodes, ITERATIONS times, alternating the AVX2 and scalar kernels, which must
 * agree; a program that writes (a statement) runs on a fresh decode of the payload, and the
 * batch it leaves must encode, and its encoding decode again. For each "v" program, every
 * proper prefix of its code and MUTANTS randomly damaged copies (code words, register counts,
 * constants; xorshift from SEED) are loaded too: each must be refused or run cleanly.
 *
 * Programs that read derived columns (converter results, LOAD_DERIVED) get NDERIVED columns
 * made here, of every scalar type with valid string ids; one that wants more must be refused
 * at run time.
 *
 * Prints "mask P B N HASH" for each "v" condition P without derived columns over batch B (N
 * records, FNV-1a of the mask bytes), so the test can compare with the extension, then
 * "ok <loaded> <refused> <runs>". Exits 1 on any inconsistency.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_batch.h"
#include "vm.h"
#include "vm_events.h"
#include "vm_mapedit.h"
#include "vm_parents.h"
#include "vm_write.h"

typedef struct {
    char expect;
    int nregs, nmasks;
    int32_t *code;
    size_t ncode;
    uint8_t *tags;
    int64_t *vals;
    size_t nconsts;
    uint8_t *bytes;
    int64_t *off;
    size_t nstrings;
} prog;

typedef struct {
    const uint8_t *data;
    size_t len;
    ottl_batch *batch[2]; /* as traces, as logs (NULL where it does not decode) */
} payload;

static long loaded, refused, runs;

static void die(const char *what) {
    fprintf(stderr, "vm_driver: %s\n", what);
    exit(1);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory");
    return p;
}

/* ---- reading the programs ---- */

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int read_prog(FILE *fp, prog *p) {
    char expect[8];
    if (fscanf(fp, "%7s", expect) != 1) return 0;
    p->expect = expect[0];
    if (fscanf(fp, "%d %d %zu", &p->nregs, &p->nmasks, &p->ncode) != 3) die("bad program");
    p->code = xmalloc(p->ncode * sizeof *p->code);
    for (size_t i = 0; i < p->ncode; i++)
        if (fscanf(fp, "%d", &p->code[i]) != 1) die("bad code");
    if (fscanf(fp, "%zu", &p->nconsts) != 1) die("bad constants");
    p->tags = xmalloc(p->nconsts);
    p->vals = xmalloc(p->nconsts * sizeof *p->vals);
    for (size_t i = 0; i < p->nconsts; i++) {
        unsigned t;
        long long v;
        if (fscanf(fp, "%u %lld", &t, &v) != 2) die("bad constant");
        p->tags[i] = (uint8_t)t;
        p->vals[i] = v;
    }
    if (fscanf(fp, "%zu", &p->nstrings) != 1) die("bad strings");
    p->off = xmalloc((p->nstrings + 1) * sizeof *p->off);
    p->bytes = xmalloc(4096);
    size_t used = 0, cap = 4096;
    p->off[0] = 0;
    for (size_t i = 0; i < p->nstrings; i++) {
        char tok[8192];
        if (fscanf(fp, "%8191s", tok) != 1) die("bad string");
        size_t n = strcmp(tok, "-") ? strlen(tok) / 2 : 0;
        if (used + n > cap) {
            cap = 2 * (used + n);
            p->bytes = realloc(p->bytes, cap);
            if (!p->bytes) die("out of memory");
        }
        for (size_t j = 0; j < n; j++) {
            int hi = hexval(tok[2 * j]), lo = hexval(tok[2 * j + 1]);
            if (hi < 0 || lo < 0) die("bad hex");
            p->bytes[used++] = (uint8_t)(hi * 16 + lo);
        }
        p->off[i + 1] = (int64_t)used;
    }
    return 1;
}

static void free_prog(prog *p) {
    free(p->code);
    free(p->tags);
    free(p->vals);
    free(p->bytes);
    free(p->off);
}

/* ---- running ---- */

static uint64_t fnv1a(const uint8_t *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

static uint8_t *encode(const ottl_batch *b, size_t *len) {
    size_t cap = 64;
    for (;;) {
        uint8_t *buf = xmalloc(cap);
        if (ottl_encode(b, NULL, 0, buf, cap, len) == 0) {
            uint8_t *out = xmalloc(*len);
            memcpy(out, buf + cap - *len, *len);
            free(buf);
            return out;
        }
        free(buf);
        cap *= 4;
    }
}

static size_t rows(const ottl_batch *b) {
    return b->kind == OTTL_BATCH_SPANS ? b->spans.n : b->logs.n;
}

/* Derived columns as a caller computes them: one value per record, strings as ids of the
 * batch. Column k holds ints, strings, doubles, or a mix with bools and nil. */
#define NDERIVED 4

typedef struct {
    ottl_vm_derived cols[NDERIVED];
    uint8_t *tags;
    int64_t *vals;
} derived_set;

static void make_derived(const ottl_batch *b, derived_set *d) {
    size_t n = rows(b), nstr = b->strings.count;
    d->tags = xmalloc(NDERIVED * (n ? n : 1));
    d->vals = xmalloc(NDERIVED * (n ? n : 1) * sizeof *d->vals);
    for (int k = 0; k < NDERIVED; k++) {
        uint8_t *t = d->tags + (size_t)k * n;
        int64_t *v = d->vals + (size_t)k * n;
        for (size_t i = 0; i < n; i++) {
            double x = (double)(i % 7) - 2.5;
            switch (k == 3 ? i % 4 : (size_t)k) {
            case 0: t[i] = OTTL_V_INT; v[i] = (int64_t)(i % 5) - 1; break;
            case 1: t[i] = OTTL_V_STRING; v[i] = nstr ? (int64_t)(i % nstr) : 0; break;
            case 2: t[i] = OTTL_V_DOUBLE; memcpy(&v[i], &x, sizeof x); break;
            default: t[i] = i % 2 ? OTTL_V_BOOL : OTTL_V_NONE; v[i] = (int64_t)(i % 3 == 0); break;
            }
        }
        d->cols[k].tags = t;
        d->cols[k].vals = v;
    }
}

static void free_derived(derived_set *d) {
    free(d->tags);
    free(d->vals);
}

static void run_condition(const ottl_vm_program *vm, ottl_batch *b, int iterations, int report,
                          size_t pi, size_t bi) {
    ottl_vm_error err;
    size_t n = rows(b);
    if (ottl_vm_prepare(vm, b, &err)) {
        if (vm->signal && vm->signal != b->kind) return; /* the other signal: refused, fine */
        die(err.message);
    }
    uint8_t *first = xmalloc(n), *out = xmalloc(n);
    derived_set d;
    make_derived(b, &d);
    for (int it = 0; it < iterations; it++) {
        ottl_vm_force_scalar(it & 1);
        memset(out, 0xAA, n); /* every byte must be written */
        int rc = vm->nderived ? ottl_vm_filter_derived(vm, b, d.cols, NDERIVED, out, &err)
                              : ottl_vm_filter(vm, b, out, &err);
        if (rc && vm->nderived > NDERIVED) { /* more columns than given: refused */
            if (!strstr(err.message, "derived")) die(err.message);
            report = 0;
            break;
        }
        if (rc) die(err.message);
        runs++;
        for (size_t i = 0; i < n; i++)
            if (out[i] > 1) die("a mask byte other than 0 or 1");
        if (it == 0) memcpy(first, out, n);
        else if (memcmp(first, out, n)) die("the scalar and AVX2 kernels disagree");
    }
    ottl_vm_force_scalar(0);
    if (report && !vm->nderived)
        printf("mask %zu %zu %zu %016llx\n", pi, bi, n, (unsigned long long)fnv1a(first, n));
    free_derived(&d);
    free(first);
    free(out);
}

static void run_statement(const ottl_vm_program *vm, const payload *pl, int kind, int iteration) {
    ottl_batch *b = NULL;
    ottl_decode_error derr;
    ottl_vm_error err;
    int rc = kind == OTTL_BATCH_SPANS ? ottl_decode_traces(pl->data, pl->len, NULL, &b, &derr)
                                      : ottl_decode_logs(pl->data, pl->len, NULL, &b, &derr);
    if (rc) return;
    size_t n = rows(b);
    uint8_t *gate = xmalloc(n), *out = xmalloc(n);
    for (size_t i = 0; i < n; i++) gate[i] = (uint8_t)((i + (size_t)iteration) % 3 != 0);
    ottl_vm_force_scalar(iteration & 1);
    derived_set d;
    make_derived(b, &d);
    if (ottl_vm_prepare(vm, b, &err) == 0) {
        memset(out, 0xAA, n);
        if (ottl_vm_execute_derived(vm, b, iteration & 2 ? gate : NULL, d.cols, NDERIVED, out,
                                    &err)) {
            if (vm->nderived > NDERIVED && strstr(err.message, "derived")) goto done;
            die(err.message);
        }
        runs++;
        for (size_t i = 0; i < n; i++)
            if (out[i] > 1) die("a statement's mask byte other than 0 or 1");
        /* What a statement leaves must still be a batch: it encodes, and decodes again. */
        size_t len = 0;
        uint8_t *e = encode(b, &len);
        ottl_batch *again = NULL;
        rc = kind == OTTL_BATCH_SPANS ? ottl_decode_traces(e, len, NULL, &again, &derr)
                                      : ottl_decode_logs(e, len, NULL, &again, &derr);
        if (rc) {
            fprintf(stderr, "re-decode after a statement: %s at %lld in %s\n", derr.message,
                    (long long)derr.offset, derr.path);
            die("a statement left a batch that does not encode to valid OTLP");
        }
        if (rows(again) != n) die("a statement changed the number of records");
        ottl_batch_free(again);
        free(e);
    } else if (!(vm->signal && vm->signal != b->kind)) {
        die(err.message);
    }
done:
    ottl_vm_force_scalar(0);
    free_derived(&d);
    free(gate);
    free(out);
    ottl_batch_free(b);
}

/* Loads a program; when it loads, runs it over every batch. 1 loaded, 0 refused. */
static int try_prog(const prog *p, payload *pls, size_t npl, int iterations, int report,
                    size_t pi) {
    ottl_vm_program *vm = NULL;
    ottl_vm_error err;
    int64_t zero_off = 0;
    uint8_t dummy_tag = 0;
    int64_t dummy_val = 0;
    int32_t dummy_code = 0;
    int rc = ottl_vm_load(p->ncode ? p->code : &dummy_code, p->ncode,
                          p->nconsts ? p->tags : &dummy_tag, p->nconsts ? p->vals : &dummy_val,
                          p->nconsts, p->bytes, p->nstrings ? p->off : &zero_off, p->nstrings,
                          p->nregs, p->nmasks, &vm, &err);
    if (rc) {
        if (vm) die("a refused program came back");
        if (err.pc < -1 || err.pc >= (int64_t)p->ncode) die("an error pc outside the code");
        if (!err.message[0]) die("a refusal without a message");
        refused++;
        return 0;
    }
    loaded++;
    for (size_t j = 0; j < npl; j++) {
        for (int k = 0; k < 2; k++) {
            if (!pls[j].batch[k]) continue;
            if (vm->writes) {
                for (int it = 0; it < (iterations < 4 ? iterations : 4); it++)
                    run_statement(vm, &pls[j], k ? OTTL_BATCH_LOGS : OTTL_BATCH_SPANS, it);
            } else {
                run_condition(vm, pls[j].batch[k], iterations, report, pi, 2 * j + (size_t)k);
            }
        }
    }
    ottl_vm_free(vm);
    return 1;
}

static uint64_t rng_state;

static uint64_t rnd(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static int32_t any_word(const prog *p) {
    switch (rnd() % 6) {
    case 5: return rnd() % 2 ? INT32_MAX : INT32_MIN;         /* the extremes */
    case 0: return (int32_t)(rnd() % 20);                 /* an opcode */
    case 1: return (int32_t)(rnd() % 40) - 2;             /* a small operand, or negative */
    case 2: return (int32_t)p->ncode + (int32_t)(rnd() % 3) - 1; /* around the end */
    case 3: return (int32_t)(uint32_t)rnd();              /* anything */
    default: return p->ncode ? p->code[rnd() % p->ncode] : 0; /* another word */
    }
}

/* A damaged copy of p (which it owns). */
static prog mutate(const prog *p) {
    prog q = *p;
    q.expect = 'a';
    size_t extra = 4;
    q.code = xmalloc((p->ncode + extra) * sizeof *q.code);
    memcpy(q.code, p->code, p->ncode * sizeof *q.code);
    q.tags = xmalloc(p->nconsts);
    memcpy(q.tags, p->tags, p->nconsts);
    q.vals = xmalloc(p->nconsts * sizeof *q.vals);
    memcpy(q.vals, p->vals, p->nconsts * sizeof *q.vals);
    q.bytes = xmalloc((size_t)p->off[p->nstrings]);
    memcpy(q.bytes, p->bytes, (size_t)p->off[p->nstrings]);
    q.off = xmalloc((p->nstrings + 1) * sizeof *q.off);
    memcpy(q.off, p->off, (p->nstrings + 1) * sizeof *q.off);
    int edits = 1 + (int)(rnd() % 3);
    for (int e = 0; e < edits; e++) {
        switch (rnd() % 8) {
        case 0: case 1: case 2: /* a code word */
            if (q.ncode) q.code[rnd() % q.ncode] = any_word(p);
            break;
        case 3: /* longer or shorter code */
            if (rnd() % 2 && q.ncode < p->ncode + extra) q.code[q.ncode++] = any_word(p);
            else if (q.ncode) q.ncode--;
            break;
        case 4: /* register and mask counts */
            if (rnd() % 2) q.nregs = (int)(rnd() % 6) - 1 + (rnd() % 2 ? q.nregs : 0);
            else q.nmasks = (int)(rnd() % 6) - 1 + (rnd() % 2 ? q.nmasks : 0);
            break;
        case 5: /* a constant's type */
            if (q.nconsts) q.tags[rnd() % q.nconsts] = (uint8_t)(rnd() % 17);
            break;
        case 6: /* a constant's value */
            if (q.nconsts) {
                int64_t v = rnd() % 2 ? (int64_t)(rnd() % 8) - 2 : (int64_t)rnd();
                q.vals[rnd() % q.nconsts] = v;
            }
            break;
        default: /* fewer constants or strings */
            if (rnd() % 2 && q.nconsts) q.nconsts--;
            else if (q.nstrings) q.nstrings--;
            break;
        }
    }
    return q;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        perror(path);
        exit(2);
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *data = xmalloc(n > 0 ? (size_t)n : 1); /* exactly n bytes: ASan sees overruns */
    if (n > 0 && fread(data, 1, (size_t)n, fp) != (size_t)n) {
        perror(path);
        exit(2);
    }
    fclose(fp);
    *len = (size_t)n;
    return data;
}

/* The map editors' kernel over a decoded batch: random tables (flags, new ids, drops, ids past
 * the table's end), random masks; after each edit the attribute CSR must still be sound. */
static void exercise_map_edits(ottl_batch *b, int rounds) {
    int spans = b->kind == OTTL_BATCH_SPANS;
    size_t n = spans ? b->spans.n : b->logs.n;
    for (int round = 0; round < rounds; round++) {
        int cache = round % 2; /* the records' attributes, or their cache */
        int32_t owner = cache ? (spans ? F_SPAN_CACHE : F_LOG_CACHE)
                              : (spans ? F_SPAN_ATTRS : F_LOG_ATTRS);
        size_t count = b->strings.count;
        size_t len = count ? (size_t)(rnd() % (count + 2)) : 0;
        uint8_t *keep = xmalloc(len ? len : 1);
        int32_t *map = xmalloc((len ? len : 1) * sizeof *map);
        for (size_t i = 0; i < len; i++) {
            keep[i] = (uint8_t)(rnd() % 2);
            switch (rnd() % 4) {
            case 0: map[i] = -1; break;
            case 1: map[i] = -2; break;
            default: map[i] = count ? (int32_t)(rnd() % count) : -1; break;
            }
        }
        uint8_t *mask = xmalloc(n ? n : 1);
        for (size_t r = 0; r < n; r++) mask[r] = (uint8_t)(rnd() % 3 != 0);
        ottl_mapedit op = {(ottl_mapedit_kind)(rnd() % 5), keep, map, len,
                           (int64_t)(rnd() % 5), NULL, NULL};
        uint8_t *src_tag = xmalloc(n ? n : 1);
        int64_t *src_val = xmalloc((n ? n : 1) * sizeof *src_val);
        if (op.kind == OTTL_MAPEDIT_MERGE) { /* per record: a fresh kvlist, or not a map */
            op.limit = (int64_t)(rnd() % 3);
            for (size_t r = 0; r < n; r++) {
                int32_t keys[4];
                uint8_t tags[4];
                int64_t vals[4];
                size_t m = (size_t)(rnd() % 5);
                for (size_t i = 0; i < m; i++) {
                    keys[i] = count ? (int32_t)(rnd() % count) : 0;
                    tags[i] = i % 2 ? OTTL_V_INT : OTTL_V_NONE;
                    vals[i] = (int64_t)rnd();
                }
                src_tag[r] = count && rnd() % 4 ? OTTL_V_KVLIST : OTTL_V_STRING;
                src_val[r] = 0;
                if (src_tag[r] == OTTL_V_KVLIST &&
                    ottl_vm_push_values(b, m, keys, tags, vals, &src_val[r]))
                    die("push failed");
            }
            op.src_tag = src_tag;
            op.src_val = src_val;
        }
        if (ottl_vm_map_edit(b, owner, mask, &op)) die("a map edit failed");
        const int64_t *off = cache ? b->cache_off : spans ? b->spans.attr_off : b->logs.attr_off;
        const ottl_kvpool *pool = cache ? &b->cache : spans ? &b->span_attrs : &b->log_attrs;
        if (off[0] != 0 || (size_t)off[n] != pool->n) die("map edit: offsets do not span the pool");
        for (size_t r = 0; r < n; r++)
            if (off[r] > off[r + 1]) die("map edit: offsets go backwards");
        for (size_t k = 0; k < pool->n; k++)
            if (pool->key[k] < 0 || (size_t)pool->key[k] >= b->strings.count)
                die("map edit: a key outside the string table");
        ottl_mapedit bad = op;
        bad.kind = (ottl_mapedit_kind)7;
        if (ottl_vm_map_edit(b, owner, mask, &bad) != -2) die("map edit: a bad kind was taken");
        free(keep);
        free(map);
        free(mask);
        free(src_tag);
        free(src_val);
    }
}

/* Resource and scope rows rewritten at random (more, fewer or no entries; nested values in
 * the value pool; rows past the end refused), then the batch encoded: the CSR offsets must
 * still span each pool, and the encoder must read only what the pools hold. */
/* Up to 6 random entries (string ids of the batch's table, ints), the last one sometimes a
 * kvlist of the others in the value pool; returns how many. */
static size_t random_entries(ottl_batch *b, int32_t keys[6], uint8_t tags[6], int64_t vals[6]) {
    size_t count = b->strings.count, n = (size_t)(rnd() % 6);
    for (size_t i = 0; i < n; i++) {
        keys[i] = (int32_t)(rnd() % count);
        tags[i] = i % 2 ? OTTL_V_STRING : OTTL_V_INT;
        vals[i] = i % 2 ? (int64_t)(rnd() % count) : (int64_t)rnd();
    }
    if (n && rnd() % 2) { /* the last one a kvlist of the others */
        int64_t packed;
        if (ottl_vm_push_values(b, n - 1, keys, tags, vals, &packed)) die("push failed");
        tags[n - 1] = OTTL_V_KVLIST;
        vals[n - 1] = packed;
    }
    return n;
}

/* CSR offsets over `rows` rows that start at 0, never go back and end at `total`. */
static void check_offsets(const int64_t *off, size_t rows, size_t total, const char *what) {
    if (off[0] != 0 || (size_t)off[rows] != total) die(what);
    for (size_t r = 0; r < rows; r++)
        if (off[r] > off[r + 1]) die(what);
}

static void exercise_parent_writes(ottl_batch *b, int rounds) {
    for (int round = 0; round < rounds; round++) {
        int owner = (int)(rnd() % 2);
        size_t nrows = owner == OTTL_PARENT_RESOURCE ? b->resources.n : b->scopes.n;
        size_t count = b->strings.count;
        if (!nrows || !count) return;
        int32_t keys[6];
        uint8_t tags[6];
        int64_t vals[6];
        size_t n = random_entries(b, keys, tags, vals);
        int32_t url = (int32_t)(rnd() % count);
        ottl_parent_row row = {n, keys, tags, vals, (uint32_t)rnd(), url, url, url};
        if (ottl_vm_set_parent(b, owner, (size_t)(rnd() % nrows), &row)) die("set_parent failed");
        if (ottl_vm_set_parent(b, owner, nrows, &row) != -2) die("set_parent: a row past the end");
        const int64_t *off = owner == OTTL_PARENT_RESOURCE ? b->resources.attr_off
                                                          : b->scopes.attr_off;
        const ottl_kvpool *pool = owner == OTTL_PARENT_RESOURCE ? &b->resource_attrs
                                                                : &b->scope_attrs;
        check_offsets(off, nrows, pool->n, "set_parent: offsets do not span the pool");
        size_t len;
        free(encode(b, &len));
    }
}

/* Span events rewritten at random (as exercise_parent_writes), a rewrite to what the event
 * holds (must write nothing), then events dropped at random: the events' and spans' offsets
 * must still span their pools, and the encoder must read only what they hold. */
static void exercise_event_writes(ottl_batch *b, int rounds) {
    if (b->kind != OTTL_BATCH_SPANS) return;
    for (int round = 0; round < rounds; round++) {
        ottl_events *E = &b->events;
        size_t count = b->strings.count;
        if (!E->n || !count) return;
        int32_t keys[6];
        uint8_t tags[6];
        int64_t vals[6];
        size_t n = random_entries(b, keys, tags, vals);
        size_t row = (size_t)(rnd() % E->n);
        uint64_t time = rnd();
        ottl_parent_row w = {n, keys, tags, vals, (uint32_t)rnd(), 0, (int32_t)(rnd() % count), 0};
        if (ottl_vm_set_event(b, row, &w, time)) die("set_event failed");
        if (ottl_vm_set_event(b, row, &w, time) != 1) die("set_event: a rewrite to the same");
        if (ottl_vm_set_event(b, E->n, &w, time) != -2) die("set_event: a row past the end");
        uint8_t *keep = xmalloc(E->n + 1);
        for (size_t e = 0; e < E->n; e++) keep[e] = rnd() % 4 != 0;
        if (ottl_vm_keep_events(b, keep)) die("keep_events failed");
        free(keep);
        check_offsets(b->spans.event_off, b->spans.n, E->n,
                      "keep_events: span offsets do not span the events");
        check_offsets(E->attr_off, E->n, b->event_attrs.n,
                      "keep_events: event offsets do not span the pool");
        size_t len;
        free(encode(b, &len));
    }
}

/* Span events copied as log records (ottl_vm_events_as_logs), the copy changed as a log
 * group changes it (rows of attributes rewritten with new strings and nested values, names
 * set), written back (ottl_vm_events_from_logs): the events' offsets must span their pool, the
 * spans' parents must be the copy's, and the encoder must read only what they hold. */
static void exercise_events_as_logs(ottl_batch *b, int rounds) {
    if (b->kind != OTTL_BATCH_SPANS) {
        if (ottl_vm_events_as_logs(b)) die("events_as_logs: a log batch");
        return;
    }
    for (int round = 0; round < rounds; round++) {
        ottl_batch *l = ottl_vm_events_as_logs(b);
        if (!l) die("events_as_logs failed");
        if (l->logs.n != b->events.n) die("events_as_logs: one record per event");
        check_offsets(l->logs.attr_off, l->logs.n, l->log_attrs.n,
                      "events_as_logs: record offsets do not span the pool");
        check_offsets(l->scopes.rec_off, l->scopes.n, l->logs.n,
                      "events_as_logs: scope offsets do not span the records");
        for (size_t s = 0; s < b->spans.n; s++)
            for (int64_t e = b->spans.event_off[s]; e < b->spans.event_off[s + 1]; e++)
                if (l->logs.scope[e] != b->spans.scope[s] ||
                    l->logs.resource[e] != b->spans.resource[s])
                    die("events_as_logs: a record under another parent");
        size_t n = l->logs.n;
        if (n && round % 2) {
            char word[32];
            snprintf(word, sizeof word, "round %d", round);
            int32_t id = ottl_strtab_intern(&l->strings, (const uint8_t *)word, strlen(word));
            if (id < 0) die("intern failed");
            size_t row = (size_t)(rnd() % n);
            l->logs.event_name[row] = id;
            if (vm_mark_dirty(l, row, OTTL_DIRTY_FIELDS)) die("mark failed");
            int32_t keys[6];
            uint8_t tags[6];
            int64_t vals[6];
            size_t m = random_entries(l, keys, tags, vals);
            int64_t at = (int64_t)row;
            ottl_parent_row with = {m, keys, tags, vals, 0, 0, 0, 0};
            if (ottl_vm_set_rows(l, F_LOG_ATTRS, 1, &at, &with)) die("set_rows on the copy");
        }
        ottl_batch *other = ottl_vm_events_as_logs(b);
        if (!other) die("events_as_logs failed");
        other->logs.n = n + 1; /* one record too many */
        if (ottl_vm_events_from_logs(b, other) != -2) die("events_from_logs: a wrong count");
        other->logs.n = n;
        ottl_batch_free(other);
        if (ottl_vm_events_from_logs(b, l)) die("events_from_logs failed");
        if (l->logs.n || l->log_attrs.n || l->values.n) die("events_from_logs: not emptied");
        check_offsets(b->events.attr_off, b->events.n, b->event_attrs.n,
                      "events_from_logs: event offsets do not span the pool");
        ottl_batch_free(l);
        size_t len;
        free(encode(b, &len));
    }
}

/* Ids of records set (ottl_vm_set_ids): random ascending rows, random ids (some all-zero, which
 * clear the field), the same again (nothing changes), refusals, and an encode. */
static void exercise_id_writes(ottl_batch *b, int rounds) {
    int spans = b->kind == OTTL_BATCH_SPANS;
    size_t count = spans ? b->spans.n : b->logs.n;
    const int32_t fields[] = {F_SPAN_TRACE_ID, F_SPAN_SPAN_ID, F_SPAN_PARENT_SPAN_ID_STRING,
                              F_LOG_TRACE_ID_STRING, F_LOG_SPAN_ID};
    for (int round = 0; round < rounds && count; round++) {
        int32_t field = spans ? fields[rnd() % 3] : fields[3 + rnd() % 2];
        size_t width = field == F_SPAN_TRACE_ID || field == F_LOG_TRACE_ID_STRING ? 16 : 8;
        int64_t rows[8];
        uint8_t ids[8 * 16];
        size_t n = 0;
        for (size_t r = (size_t)(rnd() % count); r < count && n < 8; r += 1 + (size_t)(rnd() % 4))
            rows[n++] = (int64_t)r;
        for (size_t i = 0; i < n * width; i++) ids[i] = (uint8_t)rnd();
        if (n && rnd() % 2) memset(ids, 0, width); /* an empty id */
        if (ottl_vm_set_ids(b, field, n, rows, ids)) die("set_ids failed");
        if (ottl_vm_set_ids(b, field, n, rows, ids)) die("set_ids: the same again");
        int32_t other = spans ? F_LOG_TRACE_ID : F_SPAN_TRACE_ID;
        if (ottl_vm_set_ids(b, other, n, rows, ids) != -2) die("set_ids: the other signal");
        if (ottl_vm_set_ids(b, F_SPAN_NAME, n, rows, ids) != -2) die("set_ids: not an id");
        int64_t past = (int64_t)count;
        if (ottl_vm_set_ids(b, field, 1, &past, ids) != -2) die("set_ids: a row past the end");
        if (n > 1) {
            int64_t swapped[2] = {rows[1], rows[0]};
            if (ottl_vm_set_ids(b, field, 2, swapped, ids) != -2) die("set_ids: rows out of order");
        }
        size_t len;
        free(encode(b, &len));
    }
}

/* Whole attribute rows of records rewritten (ottl_vm_set_rows): random rows, random entries,
 * then the same again (left as they are), refusals, offsets and an encode. */
static void exercise_row_writes(ottl_batch *b, int rounds) {
    int spans = b->kind == OTTL_BATCH_SPANS;
    int32_t owner = spans ? F_SPAN_ATTRS : F_LOG_ATTRS;
    size_t n = spans ? b->spans.n : b->logs.n;
    int64_t *off = spans ? b->spans.attr_off : b->logs.attr_off;
    ottl_kvpool *pool = spans ? &b->span_attrs : &b->log_attrs;
    for (int round = 0; round < rounds && n && b->strings.count; round++) {
        int64_t rows[4];
        ottl_parent_row with[4];
        int32_t keys[4][6];
        uint8_t tags[4][6];
        int64_t vals[4][6];
        size_t count = 0;
        for (size_t r = (size_t)(rnd() % n); r < n && count < 4; r += 1 + (size_t)(rnd() % 3)) {
            size_t m = random_entries(b, keys[count], tags[count], vals[count]);
            with[count] = (ottl_parent_row){m, keys[count], tags[count], vals[count], 0, 0, 0, 0};
            rows[count++] = (int64_t)r;
        }
        if (ottl_vm_set_rows(b, owner, count, rows, with)) die("set_rows failed");
        check_offsets(off, n, pool->n, "set_rows: offsets do not span the pool");
        if (ottl_vm_set_rows(b, owner, count, rows, with)) die("set_rows: the same again");
        if (count > 1) {
            int64_t swapped[2] = {rows[1], rows[0]};
            if (ottl_vm_set_rows(b, owner, 2, swapped, with) != -2) die("set_rows: rows out of order");
        }
        int64_t past = (int64_t)n;
        if (ottl_vm_set_rows(b, owner, 1, &past, with) != -2) die("set_rows: a row past the end");
        size_t len;
        free(encode(b, &len));
    }
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s ITERATIONS MUTANTS SEED PROGRAMS PAYLOAD...\n", argv[0]);
        return 2;
    }
    int iterations = atoi(argv[1]), mutants = atoi(argv[2]);
    rng_state = strtoull(argv[3], NULL, 10) | 1;
    size_t npl = (size_t)(argc - 5);
    payload *pls = xmalloc(npl * sizeof *pls);
    for (size_t j = 0; j < npl; j++) {
        pls[j].data = read_file(argv[5 + j], &pls[j].len);
        ottl_decode_error derr;
        pls[j].batch[0] = pls[j].batch[1] = NULL;
        if (ottl_decode_traces(pls[j].data, pls[j].len, NULL, &pls[j].batch[0], &derr))
            pls[j].batch[0] = NULL;
        if (ottl_decode_logs(pls[j].data, pls[j].len, NULL, &pls[j].batch[1], &derr))
            pls[j].batch[1] = NULL;
    }
    FILE *fp = fopen(argv[4], "r");
    if (!fp) {
        perror(argv[4]);
        return 2;
    }
    prog p;
    for (size_t pi = 0; read_prog(fp, &p); pi++) {
        int ok = try_prog(&p, pls, npl, iterations, p.expect == 'v', pi);
        if (p.expect == 'v' && !ok) {
            fprintf(stderr, "program %zu was refused\n", pi);
            return 1;
        }
        if (p.expect == 'x' && ok) {
            fprintf(stderr, "program %zu was loaded\n", pi);
            return 1;
        }
        if (p.expect == 'v') {
            size_t full = p.ncode;
            for (p.ncode = 0; p.ncode < full; p.ncode++) /* every proper prefix */
                try_prog(&p, pls, npl, 1, 0, pi);
            p.ncode = full;
            for (int m = 0; m < mutants; m++) {
                prog q = mutate(&p);
                try_prog(&q, pls, npl, 2, 0, pi);
                free_prog(&q);
            }
        }
        free_prog(&p);
    }
    fclose(fp);
    for (size_t j = 0; j < npl; j++)
        for (int k = 0; k < 2; k++)
            if (pls[j].batch[k]) {
                exercise_map_edits(pls[j].batch[k], 8);
                exercise_parent_writes(pls[j].batch[k], 8);
                exercise_events_as_logs(pls[j].batch[k], 6);
                exercise_event_writes(pls[j].batch[k], 8);
                exercise_row_writes(pls[j].batch[k], 8);
                exercise_id_writes(pls[j].batch[k], 8);
            }
    for (size_t j = 0; j < npl; j++) {
        ottl_batch_free(pls[j].batch[0]);
        ottl_batch_free(pls[j].batch[1]);
        free((void *)pls[j].data);
    }
    free(pls);
    printf("ok %ld %ld %ld\n", loaded, refused, runs);
    return 0;
}
