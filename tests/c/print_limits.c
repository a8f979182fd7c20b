/* Prints the limits header's macros and table rows, for tests/test_limits.py to compare with
 * what Python sees. Built and run under ASan and UBSan by the test. */
#include <inttypes.h>
#include <stdio.h>

#include "ottl_limits.h"

#define SHOW(name) printf("macro %s %" PRId64 "\n", #name, (int64_t)(OTTL_##name))

int main(void) {
    SHOW(DEFAULT_BATCH_SIZE);
    SHOW(MIN_BATCH_SIZE);
    SHOW(MAX_BATCH_SIZE);
    SHOW(DEFAULT_TIMEOUT_MS);
    SHOW(MIN_TIMEOUT_MS);
    SHOW(MAX_TIMEOUT_MS);
    SHOW(MAX_STATEMENT_LENGTH);
    SHOW(MAX_NESTING_DEPTH);
    SHOW(MAX_EXPRESSION_DEPTH);
    SHOW(DEFAULT_MAX_STATEMENTS);
    SHOW(MIN_MAX_STATEMENTS);
    SHOW(MAX_MAX_STATEMENTS);
    SHOW(MAX_ARGUMENTS);
    SHOW(MAX_PATH_KEYS);
    SHOW(DEFAULT_MAX_STRING_LENGTH);
    SHOW(MIN_MAX_STRING_LENGTH);
    SHOW(MAX_MAX_STRING_LENGTH);
    SHOW(DEFAULT_MAX_ATTRIBUTES);
    SHOW(MIN_MAX_ATTRIBUTES);
    SHOW(MAX_MAX_ATTRIBUTES);
    SHOW(MAX_REGEX_PATTERN_SIZE);
    SHOW(MAX_PAYLOAD_SIZE);
    SHOW(MAX_DECODE_THREADS);
    SHOW(DECODE_PART_MIN_BYTES);
    SHOW(VM_BLOCK_SIZE);
    SHOW(VM_MAX_REGISTERS);
    SHOW(VM_MAX_CODE);
    for (size_t i = 0; i < ottl_limits_count; i++) {
        const ottl_limit_t *row = &ottl_limits[i];
        if (row->min > row->value || row->value > row->max) {
            fprintf(stderr, "row %s: value outside its own range\n", row->name);
            return 1;
        }
        printf("row %s %" PRId64 " %" PRId64 " %" PRId64 " %d\n", row->name, row->value, row->min,
               row->max, row->configurable);
    }
    return 0;
}
