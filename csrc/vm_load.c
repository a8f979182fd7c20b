/*
 * Loading a program: copy it, then verify it once, so the interpreter (vm.c) can trust every
 * operand. The checks: each opcode exists and its operands fit in the code; registers, masks,
 * constants, strings and fields are in range and of the right kind; jumps go forward to an
 * instruction boundary (so every program ends); every register and mask is written before it
 * is read on every path; every path that reaches HALT has passed RESULT.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm.h"

static int fail(ottl_vm_error *err, int64_t pc, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(ottl_vm_error *err, int64_t pc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->pc = pc;
    return -1;
}

void ottl_vm_free(ottl_vm_program *p) {
    if (!p) return;
    free(p->code);
    free(p->const_tag);
    free(p->const_val);
    free(p->str_bytes);
    free(p->str_off);
    free(p->attr_field);
    free(p->attr_key);
    free(p->load_slot);
    free(p);
}

static int is_attrs_field(int32_t f) {
    return f == F_SPAN_ATTRS || f == F_LOG_ATTRS || f == F_RESOURCE_ATTRS || f == F_SCOPE_ATTRS ||
           f == F_SPAN_CACHE || f == F_LOG_CACHE;
}

/* Definite assignment: one bit per value register, per mask, and one for "RESULT passed". */
#define BITS (2 * OTTL_VM_MAX_REGISTERS + 1)
#define WORDS ((BITS + 63) / 64)
#define RESULT_BIT (2 * OTTL_VM_MAX_REGISTERS)

typedef struct {
    uint64_t w[WORDS];
    int reached;
} dstate;

static int has(const dstate *s, int bit) { return (int)((s->w[bit / 64] >> (bit % 64)) & 1); }
static void put(dstate *s, int bit) { s->w[bit / 64] |= (uint64_t)1 << (bit % 64); }

/* Flows `from` into `to`: the set assigned on every path is the intersection. */
static void meet(dstate *to, const dstate *from) {
    if (!to->reached) {
        *to = *from;
        to->reached = 1;
        return;
    }
    for (int i = 0; i < WORDS; i++) to->w[i] &= from->w[i];
}

static int verify(ottl_vm_program *p, ottl_vm_error *err) {
    size_t n = p->ncode;
    uint8_t *start = calloc(n + 1, 1); /* instruction boundaries */
    dstate *st = calloc(n + 1, sizeof *st);
    int rc = -1;
    if (!start || !st) {
        fail(err, -1, "out of memory while verifying the program");
        goto out;
    }
    /* Pass 1: boundaries, operand ranges, attribute loads. */
    size_t nattr = 0, last = 0;
    for (size_t pc = 0; pc < n;) {
        last = pc;
        int32_t op = p->code[pc];
        if (op < 0 || op >= OP_COUNT) {
            fail(err, (int64_t)pc, "unknown opcode %d", op);
            goto out;
        }
        const char *kinds = ottl_op_operands[op];
        size_t nops = strlen(kinds);
        if (pc + 1 + nops > n) {
            fail(err, (int64_t)pc, "%s runs past the end of the code", ottl_op_names[op]);
            goto out;
        }
        start[pc] = 1;
        for (size_t k = 0; k < nops; k++) {
            int32_t v = p->code[pc + 1 + k];
            int ok = 1;
            switch (kinds[k]) {
            case 'r': ok = v >= 0 && v < p->nregs; break;
            case 'm': ok = v >= 0 && v < p->nmasks; break;
            case 'k': ok = v >= 0 && (size_t)v < p->nconsts; break;
            case 's': ok = v >= 0 && (size_t)v < p->nstrings; break;
            case 'o': ok = v >= 0 && v < CMP_COUNT; break;
            case 'a': ok = v >= 0 && v < MATH_COUNT; break;
            /* A slot past the code's length is no program's (and v + 1 must not overflow). */
            case 'd':
                ok = v >= 0 && (size_t)v < n;
                if (ok && v + 1 > p->nderived) p->nderived = v + 1;
                break;
            case 'f': ok = v >= 0 && v < F_COUNT; break;
            case 'j': ok = v > (int32_t)pc && (size_t)v < n; break;
            default: ok = 0;
            }
            if (!ok && kinds[k] == 'j') {
                fail(err, (int64_t)pc, "%s: jump to %d goes %s", ottl_op_names[op], v,
                     v <= (int32_t)pc ? "backwards (jumps only go forward)"
                                      : "past the end of the code");
                goto out;
            }
            if (!ok) {
                fail(err, (int64_t)pc, "%s: operand %zu ('%c') out of range: %d",
                     ottl_op_names[op], k + 1, kinds[k], v);
                goto out;
            }
        }
        if (op == OP_LOAD_FIELD || op == OP_LOAD_ATTR) {
            int32_t f = p->code[pc + 2];
            if ((op == OP_LOAD_ATTR) != is_attrs_field(f)) {
                fail(err, (int64_t)pc, "%s cannot load field %d", ottl_op_names[op], f);
                goto out;
            }
            int sig = ottl_field_signal[f];
            if (sig) {
                if (p->signal && p->signal != sig) {
                    fail(err, (int64_t)pc, "the program reads fields of both spans and logs");
                    goto out;
                }
                p->signal = sig;
            }
            if (op == OP_LOAD_ATTR) nattr++;
        }
        if (op == OP_SET_FIELD || op == OP_SET_ATTR || op == OP_DELETE_ATTR) {
            int32_t f = p->code[pc + 1];
            int ok = op == OP_SET_FIELD ? ottl_field_settable[f]
                                        : (f == F_SPAN_ATTRS || f == F_LOG_ATTRS ||
                                           f == F_SPAN_CACHE || f == F_LOG_CACHE);
            if (!ok) {
                fail(err, (int64_t)pc, "%s cannot write field %d", ottl_op_names[op], f);
                goto out;
            }
            int sig = ottl_field_signal[f];
            if (p->signal && p->signal != sig) {
                fail(err, (int64_t)pc, "the program reads fields of both spans and logs");
                goto out;
            }
            p->signal = sig;
            p->writes = 1;
        }
        if (op == OP_MASK_CONST && p->const_tag[p->code[pc + 2]] != OTTL_V_BOOL) {
            fail(err, (int64_t)pc, "MASK_CONST of a constant that is not a bool");
            goto out;
        }
        pc += 1 + nops;
    }
    if (n == 0 || p->code[last] != OP_HALT) {
        fail(err, -1, "the program does not end with HALT");
        goto out;
    }
    /* MATH reads only registers that hold ints in every row on every path: registers that
     * nothing writes with anything else. */
    {
        uint8_t not_int[OTTL_VM_MAX_REGISTERS] = {0};
        for (size_t pc = 0; pc < n; pc += 1 + strlen(ottl_op_operands[p->code[pc]])) {
            const int32_t *in = p->code + pc;
            if ((in[0] == OP_LOAD_FIELD && !ottl_field_is_int[in[2]]) || in[0] == OP_LOAD_ATTR ||
                in[0] == OP_LOAD_DERIVED ||
                (in[0] == OP_LOAD_CONST && p->const_tag[in[2]] != OTTL_V_INT))
                not_int[in[1]] = 1;
        }
        for (size_t pc = 0; pc < n; pc += 1 + strlen(ottl_op_operands[p->code[pc]])) {
            const int32_t *in = p->code + pc;
            if (in[0] == OP_MATH && (not_int[in[3]] || not_int[in[4]])) {
                fail(err, (int64_t)pc, "MATH reads a register that may not hold an int");
                goto out;
            }
        }
    }
    /* Jumps land on instructions. */
    for (size_t pc = 0; pc < n; pc += 1 + strlen(ottl_op_operands[p->code[pc]])) {
        int32_t op = p->code[pc];
        if ((op == OP_JUMP_IF_NONE || op == OP_JUMP_IF_ALL) && !start[p->code[pc + 2]]) {
            fail(err, (int64_t)pc, "jump into the middle of an instruction");
            goto out;
        }
    }
    /* Pass 2: definite assignment along every path (jumps only go forward, so one pass in
     * order sees every predecessor of an instruction before the instruction). */
    st[0].reached = 1;
    for (size_t pc = 0; pc < n;) {
        int32_t op = p->code[pc];
        size_t next = pc + 1 + strlen(ottl_op_operands[op]);
        if (!st[pc].reached) { /* unreachable code: nothing to check */
            pc = next;
            continue;
        }
        dstate s = st[pc];
        const char *kinds = ottl_op_operands[op];
        /* Which operands are written: the first register or mask of loads, compares and mask
         * operations; the rest are read. */
        int writes_first = op == OP_LOAD_FIELD || op == OP_LOAD_ATTR || op == OP_LOAD_CONST ||
                           op == OP_MATH || op == OP_LOAD_DERIVED ||
                           op == OP_CMP || op == OP_CMP_CONST || op == OP_AND || op == OP_OR ||
                           op == OP_NOT || op == OP_MASK_CONST || op == OP_GATE;
        for (size_t k = writes_first ? 1 : 0; kinds[k]; k++) {
            int32_t v = p->code[pc + 1 + k];
            int bit = kinds[k] == 'r' ? v : kinds[k] == 'm' ? OTTL_VM_MAX_REGISTERS + v : -1;
            if (bit >= 0 && !has(&s, bit)) {
                fail(err, (int64_t)pc, "%s reads %s %d before it is written on some path",
                     ottl_op_names[op], kinds[k] == 'r' ? "register" : "mask", v);
                goto out;
            }
        }
        if (writes_first) {
            int32_t v = p->code[pc + 1];
            put(&s, kinds[0] == 'r' ? v : OTTL_VM_MAX_REGISTERS + v);
        }
        if (op == OP_RESULT) put(&s, RESULT_BIT);
        if (op == OP_HALT) {
            if (!has(&s, RESULT_BIT)) {
                fail(err, (int64_t)pc, "a path reaches HALT without RESULT");
                goto out;
            }
        } else {
            meet(&st[next], &s);
        }
        if (op == OP_JUMP_IF_NONE || op == OP_JUMP_IF_ALL) meet(&st[p->code[pc + 2]], &s);
        pc = next;
    }
    /* The attribute loads, gathered once per batch by the interpreter. */
    p->attr_field = malloc((nattr ? nattr : 1) * sizeof *p->attr_field);
    p->attr_key = malloc((nattr ? nattr : 1) * sizeof *p->attr_key);
    p->load_slot = malloc(n * sizeof *p->load_slot);
    if (!p->attr_field || !p->attr_key || !p->load_slot) {
        fail(err, -1, "out of memory while loading the program");
        goto out;
    }
    p->nattr = 0;
    for (size_t pc = 0; pc < n; pc += 1 + strlen(ottl_op_operands[p->code[pc]])) {
        p->load_slot[pc] = -1;
        if (p->code[pc] != OP_LOAD_ATTR) continue;
        int32_t f = p->code[pc + 2], key = p->code[pc + 3];
        size_t slot = 0;
        while (slot < p->nattr && !(p->attr_field[slot] == f && p->attr_key[slot] == key)) slot++;
        if (slot == p->nattr) {
            p->attr_field[slot] = f;
            p->attr_key[slot] = key;
            p->nattr++;
        }
        p->load_slot[pc] = (int32_t)slot;
    }
    rc = 0;
out:
    free(start);
    free(st);
    return rc;
}

int ottl_vm_load(const int32_t *code, size_t ncode, const uint8_t *const_tag,
                 const int64_t *const_val, size_t nconsts, const uint8_t *str_bytes,
                 const int64_t *str_off, size_t nstrings, int nregs, int nmasks,
                 ottl_vm_program **out, ottl_vm_error *err) {
    err->pc = -1;
    err->message[0] = 0;
    *out = NULL;
    if (ncode > OTTL_VM_MAX_CODE)
        return fail(err, -1, "%zu words of code is over the limit of %d", ncode,
                    OTTL_VM_MAX_CODE);
    if (nregs < 0 || nregs > OTTL_VM_MAX_REGISTERS || nmasks < 0 ||
        nmasks > OTTL_VM_MAX_REGISTERS)
        return fail(err, -1, "%d registers and %d masks: the limit is %d each", nregs, nmasks,
                    OTTL_VM_MAX_REGISTERS);
    if (nstrings && (str_off[0] != 0))
        return fail(err, -1, "the string table does not start at offset 0");
    for (size_t i = 0; i < nstrings; i++)
        if (str_off[i + 1] < str_off[i])
            return fail(err, -1, "string %zu has a negative length", i);
    for (size_t i = 0; i < nconsts; i++) {
        uint8_t t = const_tag[i];
        if (t == OTTL_V_STRING || t == OTTL_V_BYTES || t == OTTL_V_TRACE_ID ||
            t == OTTL_V_SPAN_ID) {
            if (const_val[i] < 0 || (size_t)const_val[i] >= nstrings)
                return fail(err, -1, "constant %zu names string %lld of %zu", i,
                            (long long)const_val[i], nstrings);
            size_t len = (size_t)(str_off[const_val[i] + 1] - str_off[const_val[i]]);
            if ((t == OTTL_V_TRACE_ID && len != 16) || (t == OTTL_V_SPAN_ID && len != 8))
                return fail(err, -1, "constant %zu is an id of %zu bytes", i, len);
        } else if (t != OTTL_V_NONE && t != OTTL_V_BOOL && t != OTTL_V_INT &&
                   t != OTTL_V_DOUBLE) {
            return fail(err, -1, "constant %zu has an unknown type tag %d", i, t);
        }
    }
    ottl_vm_program *p = calloc(1, sizeof *p);
    if (!p) return fail(err, -1, "out of memory while loading the program");
    size_t nbytes = nstrings ? (size_t)str_off[nstrings] : 0;
    p->code = malloc((ncode ? ncode : 1) * sizeof *p->code);
    p->const_tag = malloc(nconsts ? nconsts : 1);
    p->const_val = malloc((nconsts ? nconsts : 1) * sizeof *p->const_val);
    p->str_bytes = malloc(nbytes ? nbytes : 1);
    p->str_off = malloc((nstrings + 1) * sizeof *p->str_off);
    if (!p->code || !p->const_tag || !p->const_val || !p->str_bytes || !p->str_off) {
        ottl_vm_free(p);
        return fail(err, -1, "out of memory while loading the program");
    }
    if (ncode) memcpy(p->code, code, ncode * sizeof *code);
    if (nconsts) {
        memcpy(p->const_tag, const_tag, nconsts);
        memcpy(p->const_val, const_val, nconsts * sizeof *const_val);
    }
    if (nbytes) memcpy(p->str_bytes, str_bytes, nbytes);
    if (nstrings) memcpy(p->str_off, str_off, (nstrings + 1) * sizeof *str_off);
    else p->str_off[0] = 0;
    p->ncode = ncode;
    p->nconsts = nconsts;
    p->nstrings = nstrings;
    p->nregs = nregs;
    p->nmasks = nmasks;
    if (verify(p, err)) {
        ottl_vm_free(p);
        return -1;
    }
    *out = p;
    return 0;
}
