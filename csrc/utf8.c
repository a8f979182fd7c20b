/* UTF-8 validation, following the well-formed byte sequences of Unicode's Table 3-7. */
#include "utf8.h"

#include <string.h>

/* Whether s is all ASCII: word loads ORed together, the last word overlapping the one before
 * instead of a byte loop for the tail. */
static inline int all_ascii(const uint8_t *s, size_t len) {
    uint64_t acc = 0, w;
    if (len >= 8) {
        for (size_t i = 0; i + 8 <= len; i += 8) {
            memcpy(&w, s + i, 8);
            acc |= w;
        }
        memcpy(&w, s + len - 8, 8);
        acc |= w;
    } else if (len >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + len - 4, 4);
        acc = a | b;
    } else {
        for (size_t i = 0; i < len; i++) acc |= s[i];
    }
    return (acc & 0x8080808080808080ull) == 0;
}

size_t ottl_utf8_check(const uint8_t *s, size_t len) {
    if (all_ascii(s, len)) return len;
    size_t i = 0;
    while (i < len) {
        /* Telemetry strings are mostly ASCII: skip eight such bytes per step. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= len) break;
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) lo = 0xA0;       /* overlong */
            else if (c == 0xED) hi = 0x9F;  /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) lo = 0x90;       /* overlong */
            else if (c == 0xF4) hi = 0x8F;  /* above U+10FFFF */
        } else {
            return i;
        }
        if (len - i <= need) return i;
        if (s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        i += need + 1;
    }
    return len;
}
