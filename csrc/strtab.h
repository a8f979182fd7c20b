/*
 * The per-batch string table: every distinct byte string once, addressed by an int32 id.
 *
 * Layout is Arrow's: one arena of bytes and int64 offsets, string i being
 * arena[off[i]:off[i+1]], so Python can see the whole table as two numpy arrays. Id 0 is the
 * empty string, which lets a zero-filled id column mean "".
 */
#ifndef OTTL_STRTAB_H
#define OTTL_STRTAB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    char *arena;
    size_t arena_len, arena_cap;
    int64_t *off;       /* count + 1 entries */
    uint32_t *hash;     /* per id, so probing rarely touches the arena */
    uint8_t *utf8;      /* per id: 1 once the bytes were checked as UTF-8 */
    size_t count, cap;
    uint64_t *slots;    /* open addressing: hash << 32 | (id + 1); 0 = free. The hash in the
                         * slot lets a probe reject most mismatches without touching the
                         * per-id arrays or the arena. */
    size_t nslots;      /* a power of two, at least twice count */
} ottl_strtab;

int ottl_strtab_init(ottl_strtab *t, size_t expect);
void ottl_strtab_free(ottl_strtab *t);
/* dst (uninitialized) becomes a copy of src holding the same ids; -1 when out of memory (dst
 * is then empty). */
int ottl_strtab_copy(ottl_strtab *dst, const ottl_strtab *src);
/* Back to the empty string only, keeping the allocations. */
void ottl_strtab_reset(ottl_strtab *t);
uint32_t ottl_strtab_hash(const uint8_t *p, size_t len);
/* The id of these bytes, adding them if new; -1 when out of memory. */
int32_t ottl_strtab_intern(ottl_strtab *t, const uint8_t *p, size_t len);
/* The same, for bytes whose ottl_strtab_hash is h already (another table's hash column). */
int32_t ottl_strtab_intern_hashed(ottl_strtab *t, const uint8_t *p, size_t len, uint32_t h);
/* The id of these bytes, or -1 when the table does not hold them (the table is not changed). */
int32_t ottl_strtab_find(const ottl_strtab *t, const uint8_t *p, size_t len);

/* Equality of two short byte strings without a library call: word loads, the last word
 * overlapping the previous one instead of a byte loop. */
static inline int ottl_bytes_eq(const void *a, const void *b, size_t n) {
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    if (n >= 8) {
        uint64_t u, v;
        size_t i = 0;
        for (; i + 8 < n; i += 8) {
            memcpy(&u, x + i, 8);
            memcpy(&v, y + i, 8);
            if (u != v) return 0;
        }
        memcpy(&u, x + n - 8, 8);
        memcpy(&v, y + n - 8, 8);
        return u == v;
    }
    if (n >= 4) {
        uint32_t u, v, u2, v2;
        memcpy(&u, x, 4);
        memcpy(&v, y, 4);
        memcpy(&u2, x + n - 4, 4);
        memcpy(&v2, y + n - 4, 4);
        return u == v && u2 == v2;
    }
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return 0;
    return 1;
}

static inline const char *ottl_strtab_ptr(const ottl_strtab *t, int32_t id) {
    return t->arena + t->off[id];
}
static inline size_t ottl_strtab_len(const ottl_strtab *t, int32_t id) {
    return (size_t)(t->off[id + 1] - t->off[id]);
}

#endif /* OTTL_STRTAB_H */
