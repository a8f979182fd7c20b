/* String table: hashing and interning (see strtab.h for the layout). */
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH_W(p) __builtin_prefetch((p), 1)
#else
#define PREFETCH_W(p) ((void)(p))
#endif

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
    uint64_t *slots = calloc(nslots, sizeof *slots);
    if (!slots) return -1;
    size_t mask = nslots - 1;
    for (size_t id = 0; id < t->count; id++) {
        size_t i = t->hash[id] & mask;
        while (slots[i]) i = (i + 1) & mask;
        slots[i] = (uint64_t)t->hash[id] << 32 | ((uint64_t)id + 1);
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
    /* Sized for the expected distinct strings, not the capacity, so the probed table stays
     * small enough for the cache; it doubles as strings arrive. */
    size_t nslots = 256;
    while (nslots < 2 * expect) nslots *= 2;
    t->off[0] = 0;
    if (rehash(t, nslots)) goto fail;
    if (ottl_strtab_intern(t, (const uint8_t *)"", 0) != 0) goto fail;
    t->utf8[0] = 1;
    return 0;
fail:
    ottl_strtab_free(t);
    return -1;
}

void ottl_strtab_reset(ottl_strtab *t) {
    memset(t->slots, 0, t->nslots * sizeof *t->slots);
    t->count = 0;
    t->arena_len = 0;
    /* Re-adding "" cannot fail: the table has room for it. */
    (void)ottl_strtab_intern(t, (const uint8_t *)"", 0);
    t->utf8[0] = 1;
}

int ottl_strtab_copy(ottl_strtab *dst, const ottl_strtab *src) {
    memset(dst, 0, sizeof *dst);
    dst->arena = malloc(src->arena_cap);
    dst->off = malloc((src->cap + 1) * sizeof *dst->off);
    dst->hash = malloc(src->cap * sizeof *dst->hash);
    dst->utf8 = malloc(src->cap);
    dst->slots = malloc(src->nslots * sizeof *dst->slots);
    if (!dst->arena || !dst->off || !dst->hash || !dst->utf8 || !dst->slots) {
        ottl_strtab_free(dst);
        return -1;
    }
    memcpy(dst->arena, src->arena, src->arena_len);
    memcpy(dst->off, src->off, (src->count + 1) * sizeof *dst->off);
    memcpy(dst->hash, src->hash, src->count * sizeof *dst->hash);
    memcpy(dst->utf8, src->utf8, src->count);
    memcpy(dst->slots, src->slots, src->nslots * sizeof *dst->slots);
    dst->arena_len = src->arena_len;
    dst->arena_cap = src->arena_cap;
    dst->count = src->count;
    dst->cap = src->cap;
    dst->nslots = src->nslots;
    return 0;
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

/* Folded 64x64->128-bit multiply (the wyhash / mum idea): one multiply mixes two words well.
 * Compilers without a 128-bit type get a weaker but sound fallback. */
static inline uint64_t mum(uint64_t a, uint64_t b) {
#ifdef __SIZEOF_INT128__
    __extension__ typedef unsigned __int128 u128;
    u128 r = (u128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
    uint64_t r = a * b;
    return r ^ (r >> 29) ^ ((a >> 32) * (b >> 32));
#endif
}

/* Short keys and values dominate, so strings up to 16 bytes take one multiply: two loads that
 * overlap when the string is shorter than 16 bytes. */
uint32_t ottl_strtab_hash(const uint8_t *p, size_t len) {
    const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                   k2 = 0x8ebc6af09c88c6e3ull;
    uint64_t a, b, h = k0 ^ (uint64_t)len;
    if (len <= 16) {
        if (len >= 8) {
            a = load64(p);
            b = load64(p + len - 8);
        } else if (len >= 4) {
            uint32_t x, y;
            memcpy(&x, p, 4);
            memcpy(&y, p + len - 4, 4);
            a = x;
            b = y;
        } else {
            a = len ? ((uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1]) : 0;
            b = 0;
        }
    } else {
        size_t i = 0;
        for (; i + 16 < len; i += 16) h = mum(load64(p + i) ^ k1, load64(p + i + 8) ^ h);
        a = load64(p + len - 16);
        b = load64(p + len - 8);
    }
    h = mum(a ^ k1, b ^ h);
    h = mum(h ^ k2, (uint64_t)len ^ k1);
    return (uint32_t)(h ^ (h >> 32));
}

int32_t ottl_strtab_find(const ottl_strtab *t, const uint8_t *p, size_t len) {
    uint32_t h = ottl_strtab_hash(p, len);
    size_t mask = t->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint64_t s = t->slots[i];
        if (!s) return -1;
        if ((uint32_t)(s >> 32) == h) {
            uint32_t id = (uint32_t)s - 1;
            if ((size_t)(t->off[id + 1] - t->off[id]) == len &&
                ottl_bytes_eq(t->arena + t->off[id], p, len))
                return (int32_t)id;
        }
    }
}

int32_t ottl_strtab_intern(ottl_strtab *t, const uint8_t *p, size_t len) {
    return ottl_strtab_intern_hashed(t, p, len, ottl_strtab_hash(p, len));
}

int32_t ottl_strtab_intern_hashed(ottl_strtab *t, const uint8_t *p, size_t len, uint32_t h) {
    size_t mask = t->nslots - 1;
    size_t i = h & mask;
    for (;;) {
        uint64_t s = t->slots[i];
        if (!s) break;
        if ((uint32_t)(s >> 32) == h) {
            uint32_t id = (uint32_t)s - 1;
            if ((size_t)(t->off[id + 1] - t->off[id]) == len &&
                ottl_bytes_eq(t->arena + t->off[id], p, len))
                return (int32_t)id;
        }
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
    /* A new string appends to four arrays; a decode writes some thirty other streams besides,
     * more than the prefetchers follow (csrc/otlp_decode.h, DEC_AHEAD): ask for the lines a
     * few strings on. */
    if (t->arena_len + len + 512 < t->arena_cap) PREFETCH_W(t->arena + t->arena_len + len + 512);
    if (id + 33 < t->cap) {
        PREFETCH_W(t->off + id + 33);
        PREFETCH_W(t->hash + id + 32);
        PREFETCH_W(t->utf8 + id + 32);
    }
    t->arena_len += len;
    t->off[id + 1] = (int64_t)t->arena_len;
    t->hash[id] = h;
    t->utf8[id] = 0;
    t->slots[i] = (uint64_t)h << 32 | ((uint64_t)id + 1);
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
