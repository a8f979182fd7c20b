/* String table: hashing and interning (see strtab.h for the layout). */
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

static int grow_entries(ottl_strtab *t, size_t need) {
    if (need <= t->cap) return 0;
    size_t cap = t->cap ? t->cap : 64;
    while (cap < need) cap *= 2;
    /* The off array always holds one more entry than ids (the end of the last string). */
    int64_t *off = realloc(t->off, (cap + 1) * sizeof *off);
    if (!off) return -1;
    t->off = off;
    uint32_t *hash = realloc(t->hash, cap * sizeof *hash);
    if (!hash) return -1;
    t->hash = hash;
    uint8_t *utf8 = realloc(t->utf8, cap);
    if (!utf8) return -1;
    t->utf8 = utf8;
    t->cap = cap;
    return 0;
}

static int rehash(ottl_strtab *t, size_t nslots) {
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots) return -1;
    size_t mask = nslots - 1;
    for (size_t id = 0; id < t->count; id++) {
        size_t i = t->hash[id] & mask;
        while (slots[i]) i = (i + 1) & mask;
        slots[i] = (uint32_t)id + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

int ottl_strtab_init(ottl_strtab *t, size_t expect) {
    memset(t, 0, sizeof *t);
    if (grow_entries(t, expect < 64 ? 64 : expect)) goto fail;
    t->arena_cap = 4096;
    t->arena = malloc(t->arena_cap);
    if (!t->arena) goto fail;
    size_t nslots = 128;
    while (nslots < 2 * t->cap) nslots *= 2;
    t->off[0] = 0;
    if (rehash(t, nslots)) goto fail;
    if (ottl_strtab_intern(t, (const uint8_t *)"", 0) != 0) goto fail;
    t->utf8[0] = 1;
    return 0;
fail:
    ottl_strtab_free(t);
    return -1;
}

void ottl_strtab_free(ottl_strtab *t) {
    free(t->arena);
    free(t->off);
    free(t->hash);
    free(t->utf8);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* A word-at-a-time multiply-xorshift hash: strings here are short keys and values, so the
 * per-call cost matters more than the last bit of distribution quality. */
uint32_t ottl_strtab_hash(const uint8_t *p, size_t len) {
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    uint64_t h = 0x243F6A8885A308D3ull ^ (len * k);
    while (len >= 8) {
        h = (h ^ load64(p)) * k;
        h ^= h >> 32;
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        h = (h ^ w) * k;
        h ^= h >> 32;
    }
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

int32_t ottl_strtab_intern(ottl_strtab *t, const uint8_t *p, size_t len) {
    uint32_t h = ottl_strtab_hash(p, len);
    size_t mask = t->nslots - 1;
    size_t i = h & mask;
    for (;;) {
        uint32_t s = t->slots[i];
        if (!s) break;
        uint32_t id = s - 1;
        if (t->hash[id] == h && (size_t)(t->off[id + 1] - t->off[id]) == len &&
            (len == 0 || memcmp(t->arena + t->off[id], p, len) == 0))
            return (int32_t)id;
        i = (i + 1) & mask;
    }
    if (t->count >= (size_t)INT32_MAX) return -1;
    if (grow_entries(t, t->count + 1)) return -1;
    if (t->arena_len + len > t->arena_cap) {
        size_t cap = t->arena_cap;
        while (cap < t->arena_len + len) cap *= 2;
        char *a = realloc(t->arena, cap);
        if (!a) return -1;
        t->arena = a;
        t->arena_cap = cap;
    }
    if (len) memcpy(t->arena + t->arena_len, p, len);
    size_t id = t->count;
    t->arena_len += len;
    t->off[id + 1] = (int64_t)t->arena_len;
    t->hash[id] = h;
    t->utf8[id] = 0;
    t->slots[i] = (uint32_t)id + 1;
    t->count++;
    if (2 * t->count > t->nslots && rehash(t, t->nslots * 2)) {
        /* The string is in; only the table stayed small. Undo so the state stays coherent. */
        t->slots[i] = 0;
        t->count--;
        t->arena_len -= len;
        return -1;
    }
    return (int32_t)id;
}
