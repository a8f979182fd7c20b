/*
 * The VM's block kernels, written once as plain loops that compilers vectorize, and included
 * twice by vm_kernels.c: for the baseline instruction set and for AVX2 (chosen at run time).
 * Expects K_ATTR (a function attribute) and K(name) (the name with its variant suffix).
 * Every kernel writes one byte per row, 0 or 1.
 */

#define K_CMP_LOOP(EXPR)                                  \
    switch (op) {                                         \
    case CMP_EQ: for (size_t i = 0; i < n; i++) out[i] = (EXPR) == c; break; \
    case CMP_NE: for (size_t i = 0; i < n; i++) out[i] = (EXPR) != c; break; \
    case CMP_LT: for (size_t i = 0; i < n; i++) out[i] = (EXPR) < c; break;  \
    case CMP_LE: for (size_t i = 0; i < n; i++) out[i] = (EXPR) <= c; break; \
    case CMP_GT: for (size_t i = 0; i < n; i++) out[i] = (EXPR) > c; break;  \
    default:     for (size_t i = 0; i < n; i++) out[i] = (EXPR) >= c; break; \
    }

/* The same over tagged values: an int row compares, any other is unequal and unordered. */
#define K_INT_ROW(OP) ((tags[i] == OTTL_V_INT) & (vals[i] OP c))
#define K_CMP_TAGGED_INTS                                                                  \
    switch (op) {                                                                          \
    case CMP_EQ: for (size_t i = 0; i < n; i++) out[i] = K_INT_ROW(==); break;             \
    case CMP_NE: for (size_t i = 0; i < n; i++) out[i] = !K_INT_ROW(==); break;            \
    case CMP_LT: for (size_t i = 0; i < n; i++) out[i] = K_INT_ROW(<); break;              \
    case CMP_LE: for (size_t i = 0; i < n; i++) out[i] = K_INT_ROW(<=); break;             \
    case CMP_GT: for (size_t i = 0; i < n; i++) out[i] = K_INT_ROW(>); break;              \
    default:     for (size_t i = 0; i < n; i++) out[i] = K_INT_ROW(>=); break;             \
    }

K_ATTR static void K(cmp_i32)(const int32_t *restrict col, size_t n, int op, int32_t c,
                              uint8_t *restrict out) {
    K_CMP_LOOP(col[i])
}

K_ATTR static void K(cmp_u32)(const uint32_t *restrict col, size_t n, int op, uint32_t c,
                              uint8_t *restrict out) {
    K_CMP_LOOP(col[i])
}

/* uint64 columns hold OTTL int64 values (times): compared as signed, as the reference does. */
K_ATTR static void K(cmp_i64)(const uint64_t *restrict col, size_t n, int op, int64_t c,
                              uint8_t *restrict out) {
    K_CMP_LOOP((int64_t)col[i])
}

/* Tagged values against an int constant: ints compare as ints, doubles as doubles (NaN
 * orders with nothing), any other type is unequal and unordered. */
K_ATTR static void K(cmp_tagged_int)(const uint8_t *restrict tags, const int64_t *restrict vals,
                                     size_t n, int op, int64_t c, uint8_t *restrict out) {
    const double cd = (double)c;
    if (!memchr(tags, OTTL_V_DOUBLE, n)) { /* the usual block: ints and non-numbers only */
        K_CMP_TAGGED_INTS
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t v = vals[i];
        double d;
        memcpy(&d, &v, sizeof d);
        int is_int = tags[i] == OTTL_V_INT, is_dbl = tags[i] == OTTL_V_DOUBLE;
        int r;
        switch (op) {
        case CMP_EQ: r = (is_int & (v == c)) | (is_dbl & (d == cd)); break;
        case CMP_NE: r = !((is_int & (v == c)) | (is_dbl & (d == cd))); break;
        case CMP_LT: r = (is_int & (v < c)) | (is_dbl & (d < cd)); break;
        case CMP_LE: r = (is_int & (v <= c)) | (is_dbl & (d <= cd)); break;
        case CMP_GT: r = (is_int & (v > c)) | (is_dbl & (d > cd)); break;
        default:     r = (is_int & (v >= c)) | (is_dbl & (d >= cd)); break;
        }
        out[i] = (uint8_t)r;
    }
}

/* Tagged values without doubles, their ints narrowed to int32 (vm.c's narrow copies), against
 * an int32 constant: an int row compares, any other is unequal and unordered. */
K_ATTR static void K(cmp_tagged_i32)(const uint8_t *restrict tags, const int32_t *restrict vals,
                                     size_t n, int op, int32_t c, uint8_t *restrict out) {
    K_CMP_TAGGED_INTS
}

/* Tagged values equal to one string (or bytes) id of the batch: tag and id both match. */
K_ATTR static void K(eq_tagged_id)(const uint8_t *restrict tags, const int64_t *restrict vals,
                                   size_t n, uint8_t tag, int64_t id, uint8_t *restrict out) {
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)((tags[i] == tag) & (vals[i] == id));
}

K_ATTR static void K(mask_and)(uint8_t *restrict dst, const uint8_t *a, const uint8_t *b,
                               size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = a[i] & b[i];
}

K_ATTR static void K(mask_or)(uint8_t *restrict dst, const uint8_t *a, const uint8_t *b,
                              size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = a[i] | b[i];
}

K_ATTR static void K(mask_not)(uint8_t *restrict dst, const uint8_t *a, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = a[i] ^ 1;
}

/* How many rows are set (masks hold 0 or 1). */
K_ATTR static size_t K(mask_count)(const uint8_t *restrict a, size_t n) {
    size_t s = 0;
    for (size_t i = 0; i < n; i++) s += a[i];
    return s;
}

#undef K_CMP_LOOP
