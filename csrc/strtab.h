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

typedef struct {
    char *arena;
    size_t arena_len, arena_cap;
    int64_t *off;       /* count + 1 entries */
    uint32_t *hash;     /* per id, so probing rarely touches the arena */
    uint8_t *utf8;      /* per id: 1 once the bytes were checked as UTF-8 */
    size_t count, cap;
    uint32_t *slots;    /* open addressing, id + 1 per slot, 0 = free */
    size_t nslots;      /* a power of two, at least twice count */
} ottl_strtab;

int ottl_strtab_init(ottl_strtab *t, size_t expect);
void ottl_strtab_free(ottl_strtab *t);
uint32_t ottl_strtab_hash(const uint8_t *p, size_t len);
/* The id of these bytes, adding them if new; -1 when out of memory. */
int32_t ottl_strtab_intern(ottl_strtab *t, const uint8_t *p, size_t len);

static inline const char *ottl_strtab_ptr(const ottl_strtab *t, int32_t id) {
    return t->arena + t->off[id];
}
static inline size_t ottl_strtab_len(const ottl_strtab *t, int32_t id) {
    return (size_t)(t->off[id + 1] - t->off[id]);
}

#endif /* OTTL_STRTAB_H */
