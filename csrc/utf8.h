/* UTF-8 validation for proto3 `string` fields (the official parser rejects invalid UTF-8). */
#ifndef OTTL_UTF8_H
#define OTTL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Returns len when valid, otherwise the offset of the first byte of the bad sequence.
 * Rejects overlong forms, surrogates (U+D800..U+DFFF) and code points above U+10FFFF. */
size_t ottl_utf8_check(const uint8_t *p, size_t len);

#endif /* OTTL_UTF8_H */
