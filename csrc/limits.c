/* The limits table of ottl_limits.h, the one place Python learns the numbers from. */
#include "ottl_limits.h"

#define FIXED(name, unit, doc) {#name, OTTL_##name, OTTL_##name, OTTL_##name, 0, unit, doc}
/* A value users may choose: DEFAULT_x with its MIN_x and MAX_x. */
#define CHOICE(name, unit, doc)                                                            \
    {"DEFAULT_" #name, OTTL_DEFAULT_##name, OTTL_MIN_##name, OTTL_MAX_##name, 1, unit, doc}

const ottl_limit_t ottl_limits[] = {
    CHOICE(BATCH_SIZE, "records", "records per batch"),
    CHOICE(TIMEOUT_MS, "ms", "batch flush timeout"),
    CHOICE(MAX_STATEMENTS, "statements", "statements and conditions per program"),
    CHOICE(MAX_STRING_LENGTH, "bytes", "bytes in one string or bytes value"),
    CHOICE(MAX_ATTRIBUTES, "entries", "attributes per record, entries per map or list"),
    FIXED(MAX_STATEMENT_LENGTH, "characters", "characters in one statement"),
    FIXED(MAX_NESTING_DEPTH, "levels", "bracket nesting depth of one statement"),
    FIXED(MAX_EXPRESSION_DEPTH, "levels", "tree depth of one statement, operator chains included"),
    FIXED(MAX_ARGUMENTS, "arguments", "arguments in one function call"),
    FIXED(MAX_PATH_KEYS, "keys", "keys after one path segment or converter"),
    FIXED(MAX_REGEX_PATTERN_SIZE, "bytes", "bytes in one regular expression"),
    FIXED(MAX_PAYLOAD_SIZE, "bytes", "bytes in one OTLP payload given to the native decoder"),
    FIXED(MAX_DECODE_THREADS, "threads", "threads one native decode may use"),
    FIXED(DECODE_PART_MIN_BYTES, "bytes", "bytes of input each thread of a decode takes at least"),
    FIXED(VM_BLOCK_SIZE, "rows", "rows the VM runs each instruction over at once"),
    FIXED(VM_MAX_REGISTERS, "registers", "value (and mask) registers of one compiled program"),
    FIXED(VM_MAX_CODE, "words", "int32 words of bytecode in one compiled program"),
};

const size_t ottl_limits_count = sizeof ottl_limits / sizeof ottl_limits[0];
