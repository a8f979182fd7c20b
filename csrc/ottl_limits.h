/*
 * The engine's limits and defaults, defined once.
 *
 * C code uses the OTTL_* macros directly. Python sees the same numbers read-only as
 * `ottl.limits` (names without the OTTL_ prefix), built from this header at compile time
 * through the table in limits.c, so the two cannot drift. Every constant here is enforced
 * somewhere; add one only together with the code that enforces it.
 */
#ifndef OTTL_LIMITS_H
#define OTTL_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* Records per batch handed to the engine in one call. */
#define OTTL_DEFAULT_BATCH_SIZE 1000
#define OTTL_MIN_BATCH_SIZE 10
#define OTTL_MAX_BATCH_SIZE 10000

/* How long a batch may wait to fill before it is flushed, in milliseconds. */
#define OTTL_DEFAULT_TIMEOUT_MS 5000
#define OTTL_MIN_TIMEOUT_MS 1
#define OTTL_MAX_TIMEOUT_MS 3600000

/* Characters in one statement or condition; longer text is rejected before it is lexed. */
#define OTTL_MAX_STATEMENT_LENGTH 65536
/* Nesting of parentheses, lists, maps, calls and keys in one statement. Bounds the parser's
 * recursion so hostile text cannot exhaust the stack. */
#define OTTL_MAX_NESTING_DEPTH 64
/* Depth of one statement's tree, where each operator of an `and`/`or`/arithmetic chain adds a
 * level as well. Larger than the bracket nesting so long chains of conditions stay usable, and
 * small enough that every stage walking the tree stays well inside Python's recursion limit. */
#define OTTL_MAX_EXPRESSION_DEPTH 160
/* Statements and conditions in one program (a config group). */
#define OTTL_DEFAULT_MAX_STATEMENTS 1024
#define OTTL_MIN_MAX_STATEMENTS 1
#define OTTL_MAX_MAX_STATEMENTS 65536
/* Arguments in one function call. */
#define OTTL_MAX_ARGUMENTS 32
/* Keys after one path segment or converter (`attributes["a"]["b"][0]`). */
#define OTTL_MAX_PATH_KEYS 32

/* Bytes in one string or bytes value (literal, attribute, body). */
#define OTTL_DEFAULT_MAX_STRING_LENGTH (16 * 1024 * 1024)
#define OTTL_MIN_MAX_STRING_LENGTH 1024
#define OTTL_MAX_MAX_STRING_LENGTH (256 * 1024 * 1024)
/* Attributes (key-value pairs) on one record, resource, scope, event or link, and entries in
 * one map or list literal. */
#define OTTL_DEFAULT_MAX_ATTRIBUTES 4096
#define OTTL_MIN_MAX_ATTRIBUTES 16
#define OTTL_MAX_MAX_ATTRIBUTES 1048576
/* Bytes in one regular expression pattern, checked before RE2 compiles it. */
#define OTTL_MAX_REGEX_PATTERN_SIZE 8192
/* Bytes in one OTLP payload handed to the native decoder. Keeps every count and index derived
 * from a payload inside int32 (docs/batches.md). */
#define OTTL_MAX_PAYLOAD_SIZE (1024 * 1024 * 1024)
/* Threads one decode may use (csrc/otlp_decode_parallel.c), and the bytes of input each takes
 * at least: a smaller part would not repay starting a thread and joining its batch. */
#define OTTL_MAX_DECODE_THREADS 8
#define OTTL_DECODE_PART_MIN_BYTES (512 * 1024)

/* Rows the VM runs each instruction over at once (DESIGN.md decision 2): large enough to pay
 * the dispatch once per many rows, small enough that a block's registers stay in L1/L2. */
#define OTTL_VM_BLOCK_SIZE 1024
/* Value registers and mask registers of one program; the verifier rejects more. */
#define OTTL_VM_MAX_REGISTERS 256
/* Instructions (int32 words, operands included) in one program. */
#define OTTL_VM_MAX_CODE 1048576

/*
 * The table that Python reads. Each row: name (without the prefix), value, and, for a value
 * that users may choose, the allowed range. `configurable` rows get a validator in Python.
 */
typedef struct {
    const char *name;
    int64_t value;
    int64_t min;
    int64_t max;
    int configurable;
    const char *unit;
    const char *doc;
} ottl_limit_t;

extern const ottl_limit_t ottl_limits[];
extern const size_t ottl_limits_count;

#endif /* OTTL_LIMITS_H */
