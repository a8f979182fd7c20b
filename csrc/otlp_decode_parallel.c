/*
 * One payload decoded by several threads: the request is cut between resource groups into
 * parts of about equal size, each part is decoded into a batch of its own (the first on the
 * calling thread, the others on threads started for the call), and the others' batches are
 * then appended to the first (ottl_batch_append), which makes exactly the batch one decode of
 * the whole payload makes.
 *
 * Errors are those of one decode too: the parts lie in input order, so the first part that
 * fails holds the first error a single pass would have met, with its offset in the whole input
 * and its path numbered as in the whole request. A request whose top level is anything but
 * well-framed resource groups is not cut: one decode reports what is wrong with it.
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include "otlp_decode.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const uint8_t *data;
    size_t len;
    const uint8_t *from, *to;
    int32_t first_group;
    const ottl_decode_options *opt;
    const ottl_projection *proj;
    int kind;
    ottl_batch *reuse, *out;
    int rc;
    ottl_decode_error err;
} dec_job;

static void *run_job(void *arg) {
    dec_job *j = arg;
    j->rc = dec_part(j->reuse, j->data, j->len, j->from, j->to, j->first_group, j->opt, j->proj,
                     j->kind, &j->out, &j->err);
    j->reuse = NULL; /* dec_part owns it from the call on */
    return NULL;
}

/* ---- the CPUs, and the parts ---- */

static int cpu_count;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void count_cpus(void) {
#ifdef __linux__
    cpu_set_t set; /* the CPUs this process may run on, which a container may restrict */
    cpu_count = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
#else
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_count = n > 0 && n < 1024 ? (int)n : 1;
#endif
    if (cpu_count < 1) cpu_count = 1;
}

/* OTTL_DECODE_PART_MIN_BYTES, which tests lower to have small payloads cut. */
static _Atomic size_t part_min_bytes = OTTL_DECODE_PART_MIN_BYTES;

void ottl_decode_set_part_min_bytes(size_t n) {
    atomic_store_explicit(&part_min_bytes, n ? n : (size_t)OTTL_DECODE_PART_MIN_BYTES,
                          memory_order_relaxed);
}

static int threads_wanted(const ottl_decode_options *opt) {
    int want = opt ? opt->threads : 0;
    if (want <= 0) {
        pthread_once(&cpu_once, count_cpus);
        want = cpu_count;
    }
    return want < OTTL_MAX_DECODE_THREADS ? want : OTTL_MAX_DECODE_THREADS;
}

/* Where the parts start: cuts[0] is data, cuts[k] the tag of the first resource group of part
 * k, cuts[parts] the end; groups[k] that group's index in the request. Returns the number of
 * parts, 1 when the payload is not cut. Only reads the top level's tags and lengths. */
static int plan_parts(const uint8_t *data, size_t len, int threads, const uint8_t **cuts,
                      int32_t *groups) {
    size_t parts = len / atomic_load_explicit(&part_min_bytes, memory_order_relaxed);
    if (parts > (size_t)threads) parts = (size_t)threads;
    if (parts < 2) return 1;
    const uint8_t *p = data, *end = data + len;
    size_t k = 1;
    int32_t group = 0;
    cuts[0] = data;
    groups[0] = 0;
    while (p < end) {
        const uint8_t *at = p, *sub;
        uint32_t field;
        int wt;
        if (pb_read_tag(&p, end, &field, &wt) || field != 1 || wt != PB_LEN ||
            pb_read_len(&p, end, &sub))
            return 1;
        /* A group starting at or past the k-th equal share begins part k. */
        if (k < parts && group > groups[k - 1] && (size_t)(at - data) >= k * (len / parts)) {
            cuts[k] = at;
            groups[k] = group;
            k++;
        }
        p = sub;
        group++;
    }
    cuts[k] = end;
    return (int)k;
}

/* ---- the parts' batches, kept for the next call ---- */

/* A part's batch, emptied but with its allocations, so that the next parallel decode writes on
 * pages already mapped (as the Python layer keeps the batches it hands out: ottl/_batch.pyx,
 * _take_spare). Kept only for parts up to this size. */
#define SPARE_MAX_INPUT ((size_t)64 << 20)

static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static ottl_batch *spares[OTTL_MAX_DECODE_THREADS];
static int nspares;

static ottl_batch *take_spare(void) {
    ottl_batch *b = NULL;
    pthread_mutex_lock(&spare_lock);
    if (nspares) b = spares[--nspares];
    pthread_mutex_unlock(&spare_lock);
    return b;
}

static void give_spare(ottl_batch *b, size_t input_len) {
    if (!b) return;
    if (input_len <= SPARE_MAX_INPUT) {
        pthread_mutex_lock(&spare_lock);
        if (nspares < OTTL_MAX_DECODE_THREADS) {
            spares[nspares++] = b;
            b = NULL;
        }
        pthread_mutex_unlock(&spare_lock);
    }
    ottl_batch_free(b);
}

void ottl_decode_free_spares(void) {
    pthread_mutex_lock(&spare_lock);
    while (nspares) ottl_batch_free(spares[--nspares]);
    pthread_mutex_unlock(&spare_lock);
}

/* ---- the decode ---- */

int dec_parallel(ottl_batch *reuse, const uint8_t *data, size_t len,
                 const ottl_decode_options *opt, const ottl_projection *proj, int kind,
                 ottl_batch **out, ottl_decode_error *err) {
    const uint8_t *cuts[OTTL_MAX_DECODE_THREADS + 1];
    int32_t groups[OTTL_MAX_DECODE_THREADS];
    int parts = plan_parts(data, len, threads_wanted(opt), cuts, groups);
    dec_job *jobs = parts > 1 ? calloc((size_t)parts, sizeof *jobs) : NULL;
    if (!jobs) /* one part (threads=1 among the reasons), or no memory for more */
        return dec_part(reuse, data, len, data, data + len, 0, opt, proj, kind, out, err);
    pthread_t tids[OTTL_MAX_DECODE_THREADS];
    int started[OTTL_MAX_DECODE_THREADS] = {0};
    for (int k = 0; k < parts; k++) {
        dec_job *j = &jobs[k];
        j->data = data;
        j->len = len;
        j->from = cuts[k];
        j->to = cuts[k + 1];
        j->first_group = groups[k];
        j->opt = opt;
        j->proj = proj;
        j->kind = kind;
        j->reuse = k ? take_spare() : reuse;
    }
    /* A thread that cannot be started leaves its part to the calling thread. The threads block
     * every signal, so that the process's signals (a Ctrl-C) reach the threads that expect
     * them. */
    sigset_t all, old;
    sigfillset(&all);
    int masked = pthread_sigmask(SIG_SETMASK, &all, &old) == 0;
    for (int k = 1; k < parts; k++)
        started[k] = pthread_create(&tids[k], NULL, run_job, &jobs[k]) == 0;
    if (masked) pthread_sigmask(SIG_SETMASK, &old, NULL);
    run_job(&jobs[0]);
    for (int k = 1; k < parts; k++) {
        if (started[k])
            pthread_join(tids[k], NULL);
        else
            run_job(&jobs[k]);
    }

    int rc = OTTL_DECODE_OK;
    for (int k = 0; k < parts && rc == OTTL_DECODE_OK; k++) {
        if (jobs[k].rc != OTTL_DECODE_OK) {
            rc = jobs[k].rc;
            *err = jobs[k].err;
        }
    }
    ottl_batch *b = jobs[0].out;
    for (int k = 1; k < parts && rc == OTTL_DECODE_OK; k++) {
        if (ottl_batch_append(b, jobs[k].out)) {
            memset(err, 0, sizeof *err);
            err->code = rc = OTTL_DECODE_NOMEM;
            strcpy(err->message, "out of memory while decoding");
        }
    }
    for (int k = 1; k < parts; k++) give_spare(jobs[k].out, (size_t)(jobs[k].to - jobs[k].from));
    free(jobs);
    if (rc != OTTL_DECODE_OK) {
        ottl_batch_free(b); /* never a partial batch */
        return rc;
    }
    *out = b;
    return OTTL_DECODE_OK;
}
