/*
 * What statements write into a batch (the editors' side of csrc/vm.c).
 *
 * Scalar fields are written in place, row by row, with the reference setter's rules (a value
 * of the wrong type leaves the field alone; ints wrap to the field's protobuf width).
 * Attribute writes cannot be done in place (a CSR pool has no room to insert), so a run logs
 * them and, when the program is done, rebuilds the owner's pool once with every edit applied.
 * Rows an edit changed are marked dirty: the encoder re-encodes those from the columns and
 * copies every other record's input bytes verbatim (a row its edits left as it was, such as
 * a delete of a key it lacks, is not dirty).
 */
#include "vm_write.h"

#include "vm.h"

#include <stdlib.h>
#include <string.h>

const uint8_t *ottl_vm_dirty(const ottl_batch *b) { return b->dirty; }

int vm_mark_dirty(ottl_batch *b, size_t row, uint8_t what) {
    if (!b->dirty) {
        size_t n = b->kind == OTTL_BATCH_SPANS ? b->spans.n : b->logs.n;
        b->dirty = calloc(n ? n : 1, 1);
        if (!b->dirty) return -1;
    }
    b->dirty[row] |= what;
    return 0;
}

int vm_set_field(ottl_batch *b, int32_t f, size_t row, uint8_t tag, int64_t val) {
    ottl_spans *S = &b->spans;
    ottl_logs *L = &b->logs;
    if (f == F_LOG_BODY) {
        if (tag == OTTL_V_NONE) return 0; /* set(x, nil) does nothing */
        L->body_tag[row] = tag;
        L->body[row] = val;
        return vm_mark_dirty(b, row, OTTL_DIRTY_FIELDS);
    }
    int is_string = f == F_SPAN_NAME || f == F_SPAN_TRACE_STATE || f == F_SPAN_STATUS_MESSAGE ||
                    f == F_LOG_SEVERITY_TEXT || f == F_LOG_EVENT_NAME;
    if (tag != (is_string ? OTTL_V_STRING : OTTL_V_INT)) return 0;
    switch (f) {
    case F_SPAN_NAME: S->name[row] = (int32_t)val; break;
    case F_SPAN_TRACE_STATE: S->trace_state[row] = (int32_t)val; break;
    case F_SPAN_STATUS_MESSAGE:
        S->status_message[row] = (int32_t)val;
        S->present[row] |= OTTL_P_STATUS;
        break;
    case F_SPAN_STATUS_CODE:
        S->status_code[row] = (int32_t)(uint32_t)(uint64_t)val;
        S->present[row] |= OTTL_P_STATUS;
        break;
    case F_SPAN_KIND: S->kind[row] = (int32_t)(uint32_t)(uint64_t)val; break;
    case F_SPAN_START: S->start_time[row] = (uint64_t)val; break;
    case F_SPAN_END: S->end_time[row] = (uint64_t)val; break;
    case F_SPAN_DROPPED_ATTRS: S->dropped_attrs[row] = (uint32_t)(uint64_t)val; break;
    case F_SPAN_DROPPED_EVENTS: S->dropped_events[row] = (uint32_t)(uint64_t)val; break;
    case F_SPAN_DROPPED_LINKS: S->dropped_links[row] = (uint32_t)(uint64_t)val; break;
    case F_LOG_SEVERITY_TEXT: L->severity_text[row] = (int32_t)val; break;
    case F_LOG_EVENT_NAME: L->event_name[row] = (int32_t)val; break;
    case F_LOG_TIME: L->time[row] = (uint64_t)val; break;
    case F_LOG_OBSERVED_TIME: L->observed_time[row] = (uint64_t)val; break;
    case F_LOG_SEVERITY_NUMBER: L->severity_number[row] = (int32_t)(uint32_t)(uint64_t)val; break;
    case F_LOG_FLAGS: L->flags[row] = (uint32_t)(uint64_t)val; break;
    case F_LOG_DROPPED_ATTRS: L->dropped[row] = (uint32_t)(uint64_t)val; break;
    default: return 0; /* the verifier admits only the fields above */
    }
    return vm_mark_dirty(b, row, OTTL_DIRTY_FIELDS);
}

int vm_id_column_of(ottl_batch *b, int32_t field, vm_id_column *out) {
    ottl_spans *S = &b->spans;
    ottl_logs *L = &b->logs;
    vm_id_column c = {S->present, S->present, 8, 0, 0, "span", ""};
    switch (field) {
    case F_SPAN_TRACE_ID:
    case F_SPAN_TRACE_ID_STRING:
        c.ids = S->trace_id, c.width = 16, c.name = "trace_id";
        c.bit = OTTL_P_TRACE_ID, c.irr = OTTL_P_IRR_TRACE_ID;
        break;
    case F_SPAN_SPAN_ID:
    case F_SPAN_SPAN_ID_STRING:
        c.ids = S->span_id, c.name = "span_id";
        c.bit = OTTL_P_SPAN_ID, c.irr = OTTL_P_IRR_SPAN_ID;
        break;
    case F_SPAN_PARENT_SPAN_ID:
    case F_SPAN_PARENT_SPAN_ID_STRING:
        c.ids = S->parent_span_id, c.name = "parent_span_id";
        c.bit = OTTL_P_PARENT_ID, c.irr = OTTL_P_IRR_PARENT_ID;
        break;
    case F_LOG_TRACE_ID:
    case F_LOG_TRACE_ID_STRING:
        c.ids = L->trace_id, c.present = L->present, c.width = 16;
        c.owner = "log record", c.name = "trace_id";
        c.bit = OTTL_P_TRACE_ID, c.irr = OTTL_P_IRR_TRACE_ID;
        break;
    case F_LOG_SPAN_ID:
    case F_LOG_SPAN_ID_STRING:
        c.ids = L->span_id, c.present = L->present;
        c.owner = "log record", c.name = "span_id";
        c.bit = OTTL_P_SPAN_ID, c.irr = OTTL_P_IRR_SPAN_ID;
        break;
    default:
        return -2;
    }
    if (ottl_field_signal[field] != b->kind) return -2; /* a log field of spans, or back */
    *out = c;
    return 0;
}

int ottl_vm_set_ids(ottl_batch *b, int32_t field, size_t n, const int64_t *rows,
                    const uint8_t *ids) {
    vm_id_column c;
    if (vm_id_column_of(b, field, &c)) return -2;
    uint8_t *column = c.ids, *present = c.present, bit = c.bit, irr = c.irr;
    size_t width = c.width, count = b->kind == OTTL_BATCH_SPANS ? b->spans.n : b->logs.n;
    for (size_t k = 0; k < n; k++)
        if (rows[k] < 0 || (size_t)rows[k] >= count || (k && rows[k] <= rows[k - 1])) return -2;
    static const uint8_t zeros[16] = {0};
    int changed = 0;
    for (size_t k = 0; k < n; k++) {
        size_t row = (size_t)rows[k];
        const uint8_t *id = ids + k * width;
        uint8_t *dst = column + row * width;
        int empty = !memcmp(id, zeros, width);
        uint8_t was = present[row] & (bit | irr);
        if (empty ? !was : was == bit && !memcmp(dst, id, width)) continue; /* as it was */
        if (vm_mark_dirty(b, row, OTTL_DIRTY_FIELDS)) return -1;
        memcpy(dst, id, width);
        present[row] = (uint8_t)((present[row] & ~(bit | irr)) | (empty ? 0 : bit));
        changed = 1;
    }
    if (changed) ottl_batch_drop_derived(b);
    return 0;
}

int vm_log_edit(vm_edits *e, int32_t row, int32_t key, uint8_t op, uint8_t tag, int64_t val) {
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 256;
        vm_edit *a = realloc(e->items, cap * sizeof *a);
        if (!a) return -1;
        e->items = a;
        e->cap = cap;
    }
    e->items[e->n++] = (vm_edit){row, key, op, tag, val};
    return 0;
}

static inline uint64_t key_bit(int32_t key) {
    return 1ull << (((uint32_t)key * 0x9E3779B1u) >> 26);
}

int vm_dedup_row(const ottl_kvpool *pool, int64_t lo, int64_t hi, ottl_kvpool *out) {
    if (pool->unique) return ottl_kvpool_append(out, pool, lo, hi);
    size_t first = out->n;
    /* A 64-bit filter of the keys so far: most keys are new, and those skip the search. */
    uint64_t seen = 0;
    for (int64_t j = lo; j < hi; j++) {
        int32_t key = pool->key[j];
        uint64_t bit = key_bit(key);
        if (seen & bit) {
            size_t k = first;
            while (k < out->n && out->key[k] != key) k++;
            if (k < out->n) {
                out->tag[k] = pool->tag[j];
                out->val[k] = pool->val[j];
                out->src[k] = -1; /* the first entry's key with a later one's value */
                continue;
            }
        }
        seen |= bit;
        if (ottl_kvpool_push_src(out, key, pool->tag[j], pool->val[j], pool->src[j])) return -1;
    }
    return 0;
}

int vm_same_row(const ottl_kvpool *pool, int64_t lo, int64_t hi, const ottl_kvpool *out,
                size_t first) {
    if ((size_t)(hi - lo) != out->n - first) return 0;
    for (int64_t j = lo; j < hi; j++) {
        size_t k = first + (size_t)(j - lo);
        if (pool->key[j] != out->key[k] || pool->tag[j] != out->tag[k] ||
            pool->val[j] != out->val[k])
            return 0;
    }
    return 1;
}

/* One row's attributes with its edits applied, into the new pool. The reference evaluator
 * holds attributes as a map, so a changed record leaves with each key once (at its first
 * position, with its last value), then the edits in order: a set replaces or appends, a
 * delete removes. */
static int rebuild_row(const ottl_kvpool *old, int64_t lo, int64_t hi, const vm_edit *ed,
                       size_t ned, ottl_kvpool *out) {
    size_t first = out->n;
    if (vm_dedup_row(old, lo, hi, out)) return -1;
    for (size_t x = 0; x < ned; x++) {
        size_t k = first;
        while (k < out->n && out->key[k] != ed[x].key) k++;
        if (ed[x].op == VM_EDIT_DELETE) {
            if (k < out->n) {
                memmove(out->key + k, out->key + k + 1, (out->n - k - 1) * sizeof *out->key);
                memmove(out->tag + k, out->tag + k + 1, (out->n - k - 1) * sizeof *out->tag);
                memmove(out->val + k, out->val + k + 1, (out->n - k - 1) * sizeof *out->val);
                memmove(out->src + k, out->src + k + 1, (out->n - k - 1) * sizeof *out->src);
                out->n--;
            }
        } else if (k < out->n) {
            out->tag[k] = ed[x].tag;
            out->val[k] = ed[x].val;
            out->src[k] = -1;
        } else if (ottl_kvpool_push(out, ed[x].key, ed[x].tag, ed[x].val)) {
            return -1;
        }
    }
    return 0;
}

int vm_owner_pool(ottl_batch *b, int32_t owner, ottl_kvpool **pool, int64_t **off, size_t *n,
                  int *records) {
    int spans = b->kind == OTTL_BATCH_SPANS;
    *n = spans ? b->spans.n : b->logs.n;
    if (owner == (spans ? F_SPAN_ATTRS : F_LOG_ATTRS)) {
        *pool = spans ? &b->span_attrs : &b->log_attrs;
        *off = spans ? b->spans.attr_off : b->logs.attr_off;
        *records = 1;
        return 0;
    }
    if (owner != (spans ? F_SPAN_CACHE : F_LOG_CACHE)) return -2;
    if (!b->cache_off) {
        b->cache_off = calloc(*n + 1, sizeof *b->cache_off);
        if (!b->cache_off) return -1;
        b->cache.unique = 1; /* every write deduplicates its row */
    }
    *pool = &b->cache;
    *off = b->cache_off;
    *records = 0;
    return 0;
}

int ottl_vm_cache_reset(ottl_batch *b) {
    if (b->cache_off) {
        size_t n = b->kind == OTTL_BATCH_SPANS ? b->spans.n : b->logs.n;
        memset(b->cache_off, 0, (n + 1) * sizeof *b->cache_off);
    }
    b->cache.n = 0;
    ottl_batch_drop_derived(b); /* gathered cache columns */
    return 0;
}

void vm_replace_pool(ottl_kvpool *pool, ottl_kvpool *out) {
    out->unique = pool->unique;
    ottl_kvpool_release(pool);
    *pool = *out;
    *out = (ottl_kvpool){0};
}

int vm_apply_edits(ottl_batch *b, int32_t owner, vm_edits *e) {
    if (!e->n) return 0;
    size_t n;
    ottl_kvpool *pool;
    int64_t *off;
    int records;
    if (vm_owner_pool(b, owner, &pool, &off, &n, &records)) {
        e->n = 0;
        return -1;
    }
    /* Edits by row, keeping each row's edits in program order (a counting sort). */
    size_t *start = calloc(n + 1, sizeof *start);
    vm_edit *sorted = malloc(e->n * sizeof *sorted);
    ottl_kvpool out = {0};
    int rc = -1;
    if (!start || !sorted) goto done;
    for (size_t i = 0; i < e->n; i++) start[e->items[i].row + 1]++;
    for (size_t r = 0; r < n; r++) start[r + 1] += start[r];
    {
        size_t *fill = malloc((n ? n : 1) * sizeof *fill);
        if (!fill) goto done;
        memcpy(fill, start, n * sizeof *fill);
        for (size_t i = 0; i < e->n; i++) sorted[fill[e->items[i].row]++] = e->items[i];
        free(fill);
    }
    if (ottl_kvpool_reserve(&out, pool->n + e->n)) goto done;
    for (size_t r = 0; r < n; r++) {
        int64_t lo = off[r], hi = off[r + 1];
        off[r] = (int64_t)out.n;
        size_t ned = start[r + 1] - start[r];
        if (!ned) {
            if (ottl_kvpool_append(&out, pool, lo, hi)) goto done;
            continue;
        }
        size_t first = out.n;
        if (rebuild_row(pool, lo, hi, sorted + start[r], ned, &out)) goto done;
        if (vm_same_row(pool, lo, hi, &out, first)) {
            /* Nothing changed (a delete of an absent key, a set to the value it had): the
             * row stays as it came, its entries' input offsets included. */
            out.n = first;
            if (ottl_kvpool_append(&out, pool, lo, hi)) goto done;
            continue;
        }
        if (records && vm_mark_dirty(b, r, OTTL_DIRTY_ATTRS)) goto done;
    }
    off[n] = (int64_t)out.n;
    vm_replace_pool(pool, &out);
    rc = 0;
done:
    /* On failure the offsets may be half rewritten: the caller reports the batch as lost. */
    ottl_kvpool_release(&out);
    free(start);
    free(sorted);
    e->n = 0;
    return rc;
}
