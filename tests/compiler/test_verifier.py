"""The C verifier (csrc/vm_load.c): hand-built malformed programs are refused with a VMError
that names the problem and the instruction; valid ones load and run.

Programs are written here word by word with the opcode table, so each test says exactly which
rule it breaks, independent of what the compiler would emit.
"""

from __future__ import annotations

import numpy as np
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from ottl import limits
from ottl._batch import decode_logs, decode_traces
from ottl._vm import VMError, VMProgram
from ottl.compiler.opcodes import COMPARE_OPS, FIELD_INDEX, MATH_OPS, OPCODE_INDEX
from ottl.compiler.program import (
    TAG_BOOL,
    TAG_BYTES,
    TAG_DOUBLE,
    TAG_INT,
    TAG_NONE,
    TAG_SPAN_ID,
    TAG_STRING,
    TAG_TRACE_ID,
)

OP = OPCODE_INDEX
F = FIELD_INDEX
EQ, GT = COMPARE_OPS.index("=="), COMPARE_OPS.index(">")
ADD = MATH_OPS.index("+")
TRUE = (TAG_BOOL, 1)
FALSE = (TAG_BOOL, 0)


def load(code, consts=(TRUE,), strings=(), nregs=4, nmasks=4) -> VMProgram:
    tags = np.array([t for t, _ in consts], dtype=np.uint8)
    vals = np.array([v for _, v in consts], dtype=np.int64)
    return VMProgram(list(code), tags, vals, list(strings), nregs, nmasks)


def refused(code, match: str, pc: int, **kw) -> VMError:
    with pytest.raises(VMError, match=match) as info:
        load(code, **kw)
    assert info.value.pc == pc, str(info.value)
    if pc >= 0:
        assert f"(at pc {pc})" in str(info.value)
    return info.value


# A tail that makes any prefix that leaves m0 written a complete program.
END = [OP["RESULT"], 0, OP["HALT"]]
TRUE_M0 = [OP["MASK_CONST"], 0, 0]  # m0 = constant 0 (true)


@pytest.fixture(scope="module")
def spans():
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for i in range(5):
        s = ss.spans.add(name=f"s{i % 2}", kind=i)
        s.attributes.add(key="n").value.int_value = i
    return decode_traces(req.SerializeToString())


@pytest.fixture(scope="module")
def logs():
    req = ExportLogsServiceRequest()
    sl = req.resource_logs.add().scope_logs.add()
    for i in range(3):
        sl.log_records.add(severity_number=i)
    return decode_logs(req.SerializeToString())


# ---- valid programs ----


def test_smallest_program_runs(spans):
    p = load(TRUE_M0 + END)
    assert p.filter(spans).tolist() == [1] * 5
    assert p.signal == ""


@pytest.mark.parametrize("threshold, expected", [(1, [0, 0, 1, 1, 1]), (10, [0] * 5)])
def test_loads_compares_and_jumps_run(spans, threshold, expected):
    code = [OP["LOAD_FIELD"], 0, F["SPAN_KIND"],           # 0
            OP["LOAD_ATTR"], 1, F["SPAN_ATTRS"], 0,        # 3: r1 = attributes["n"]
            OP["CMP_CONST"], 0, GT, 0, 1,                  # 7: m0 = kind > threshold
            OP["JUMP_IF_NONE"], 0, 29,                     # 12
            OP["MATH"], 2, ADD, 0, 0,                      # 15: r2 = kind + kind
            OP["CMP"], 1, GT, 2, 1,                        # 20: m1 = r2 > attributes["n"]
            OP["AND"], 0, 0, 1,                            # 25
            OP["RESULT"], 0,                               # 29
            OP["HALT"]]                                    # 31
    p = load(code, consts=[TRUE, (TAG_INT, threshold)], strings=[b"n"])
    assert p.signal == "traces"
    assert p.filter(spans).tolist() == expected


def test_a_jump_may_land_on_the_final_halt_after_result():
    # 0 MASK_CONST m0; 3 RESULT m0; 5 JUMP_IF_ALL m0 -> 11; 8 NOT m1, m0; 11 HALT
    load(TRUE_M0 + [OP["RESULT"], 0, OP["JUMP_IF_ALL"], 0, 11, OP["NOT"], 1, 0, OP["HALT"]])


def test_code_after_a_halt_reached_only_by_a_jump_is_checked_on_that_path():
    # 0 MASK_CONST m0; 3 RESULT m0; 5 JUMP_IF_ALL m0 -> 9; 8 HALT; 9 RESULT m1 (never written)
    code = TRUE_M0 + [OP["RESULT"], 0, OP["JUMP_IF_ALL"], 0, 9, OP["HALT"],
                      OP["RESULT"], 1, OP["HALT"]]
    refused(code, "RESULT reads mask 1 before it is written", 9)


def test_unreachable_code_is_not_checked_for_assignment():
    code = TRUE_M0 + END + [OP["RESULT"], 3, OP["HALT"]]
    load(code)


def test_parent_fields_run_on_either_signal(spans, logs):
    code = [OP["LOAD_FIELD"], 0, F["SCOPE_NAME"], OP["CMP_CONST"], 0, EQ, 0, 0] + END
    p = load(code, consts=[(TAG_STRING, 0)], strings=[b""])
    assert p.signal == ""
    assert p.filter(spans).tolist() == [1] * 5
    assert p.filter(logs).tolist() == [1] * 3


def test_a_program_of_one_signal_refuses_the_other_batch(logs):
    code = [OP["LOAD_FIELD"], 0, F["SPAN_NAME"], OP["CMP_CONST"], 0, EQ, 0, 0] + END
    p = load(code, consts=[(TAG_STRING, 0)], strings=[b""])
    with pytest.raises(VMError, match="spans but the batch holds logs"):
        p.filter(logs)


# ---- malformed programs ----


@pytest.mark.parametrize("opcode", [len(OPCODE_INDEX), 99, -1, 2**31 - 1])
def test_unknown_opcode(opcode):
    refused(TRUE_M0 + [opcode] + END, f"unknown opcode {opcode}", 3)


@pytest.mark.parametrize("name", [n for n in OPCODE_INDEX if n != "HALT"])
def test_operands_past_the_end(name):
    refused(TRUE_M0 + [OP[name]], f"{name} runs past the end of the code", 3)


def test_empty_program():
    refused([], "does not end with HALT", -1)


def test_last_instruction_not_halt():
    refused(TRUE_M0 + [OP["RESULT"], 0], "does not end with HALT", -1)


@pytest.mark.parametrize("code, message", [
    ([OP["LOAD_FIELD"], 4, F["SPAN_KIND"]], r"LOAD_FIELD: operand 1 \('r'\) out of range: 4"),
    ([OP["LOAD_FIELD"], -1, F["SPAN_KIND"]], r"operand 1 \('r'\) out of range: -1"),
    ([OP["NOT"], 0, 4], r"NOT: operand 2 \('m'\) out of range: 4"),
    ([OP["MASK_CONST"], 0, 1], r"MASK_CONST: operand 2 \('k'\) out of range: 1"),
    ([OP["MASK_CONST"], 0, -1], r"operand 2 \('k'\) out of range: -1"),
    ([OP["LOAD_ATTR"], 0, F["SPAN_ATTRS"], 0], r"LOAD_ATTR: operand 3 \('s'\) out of range: 0"),
    ([OP["LOAD_FIELD"], 0, len(F)], r"LOAD_FIELD: operand 2 \('f'\) out of range"),
    ([OP["LOAD_FIELD"], 0, -1], r"LOAD_FIELD: operand 2 \('f'\) out of range"),
    ([OP["CMP_CONST"], 0, len(COMPARE_OPS), 0, 0], r"CMP_CONST: operand 2 \('o'\) out of range"),
    ([OP["CMP"], 0, -1, 0, 0], r"CMP: operand 2 \('o'\) out of range"),
    ([OP["MATH"], 0, len(MATH_OPS), 0, 0], r"MATH: operand 2 \('a'\) out of range"),
])
def test_operand_out_of_range(code, message):
    refused(TRUE_M0 + code + END, message, 3)


@pytest.mark.parametrize("field", ["SPAN_NAME", "LOG_BODY", "SCOPE_NAME", "RESOURCE_SCHEMA_URL"])
def test_load_attr_of_a_field_that_is_not_attributes(field):
    code = [OP["LOAD_ATTR"], 0, F[field], 0] + TRUE_M0 + END
    refused(code, f"LOAD_ATTR cannot load field {F[field]}", 0, strings=[b"k"])


@pytest.mark.parametrize("field", ["SPAN_ATTRS", "LOG_ATTRS", "RESOURCE_ATTRS", "SCOPE_ATTRS"])
def test_load_field_of_attributes(field):
    refused([OP["LOAD_FIELD"], 0, F[field]] + TRUE_M0 + END,
            f"LOAD_FIELD cannot load field {F[field]}", 0)


def test_jump_backwards():
    refused(TRUE_M0 + [OP["JUMP_IF_NONE"], 0, 0] + END, "jump to 0 goes backwards", 3)


def test_jump_to_itself():
    refused(TRUE_M0 + [OP["JUMP_IF_ALL"], 0, 3] + END, "jump to 3 goes backwards", 3)


@pytest.mark.parametrize("target", [9, 10, 1000, 2**31 - 1])
def test_jump_past_the_end(target):
    # code: 0 MASK_CONST, 3 JUMP, 6 RESULT, 8 HALT: 9 words
    refused(TRUE_M0 + [OP["JUMP_IF_NONE"], 0, target] + END,
            f"jump to {target} goes past the end", 3)


@pytest.mark.parametrize("target", [7])
def test_jump_into_the_middle_of_an_instruction(target):
    refused(TRUE_M0 + [OP["JUMP_IF_NONE"], 0, target] + END,
            "jump into the middle of an instruction", 3)


def test_mask_written_only_on_the_skipped_side_of_a_jump():
    # 0 MASK_CONST m0; 3 JUMP_IF_NONE m0 -> 9; 6 MASK_CONST m1; 9 RESULT m1; 11 HALT
    code = TRUE_M0 + [OP["JUMP_IF_NONE"], 0, 9, OP["MASK_CONST"], 1, 0, OP["RESULT"], 1,
                      OP["HALT"]]
    refused(code, "RESULT reads mask 1 before it is written on some path", 9)


def test_register_written_only_on_the_skipped_side_of_a_jump():
    # 0 MASK_CONST m0; 3 JUMP_IF_ALL m0 -> 9; 6 LOAD_FIELD r0; 9 CMP_CONST m1 = r0 == k0
    code = TRUE_M0 + [OP["JUMP_IF_ALL"], 0, 9, OP["LOAD_FIELD"], 0, F["SPAN_KIND"],
                      OP["CMP_CONST"], 1, EQ, 0, 1, OP["RESULT"], 1, OP["HALT"]]
    refused(code, "CMP_CONST reads register 0 before it is written on some path", 9,
            consts=[TRUE, (TAG_INT, 1)])


def test_written_before_the_jump_is_fine():
    # 0 MASK_CONST m0; 3 MASK_CONST m1; 6 JUMP_IF_ALL m0 -> 12; 9 NOT m1, m0; 12 RESULT m1:
    # both paths into 12 have written m1.
    code = TRUE_M0 + [OP["MASK_CONST"], 1, 0, OP["JUMP_IF_ALL"], 0, 12, OP["NOT"], 1, 0,
                      OP["RESULT"], 1, OP["HALT"]]
    load(code)


@pytest.mark.parametrize("code, match, pc", [
    ([OP["RESULT"], 0, OP["HALT"]], "RESULT reads mask 0 before it is written", 0),
    ([OP["NOT"], 0, 1] + END, "NOT reads mask 1 before it is written", 0),
    (TRUE_M0 + [OP["AND"], 0, 0, 2] + END, "AND reads mask 2", 3),
    (TRUE_M0 + [OP["OR"], 1, 2, 0] + END, "OR reads mask 2", 3),
    (TRUE_M0 + [OP["JUMP_IF_NONE"], 1, 6] + END, "JUMP_IF_NONE reads mask 1", 3),
    ([OP["CMP"], 0, EQ, 0, 0] + END, "CMP reads register 0", 0),
    ([OP["LOAD_CONST"], 0, 1, OP["MATH"], 1, ADD, 0, 2] + TRUE_M0 + END,
     "MATH reads register 2", 3),
])
def test_read_before_write(code, match, pc):
    refused(code, match, pc, consts=[TRUE, (TAG_INT, 1)])


def test_a_path_reaching_halt_without_result():
    # 0 MASK_CONST m0; 3 JUMP_IF_NONE m0 -> 8; 6 RESULT m0; 8 HALT
    code = TRUE_M0 + [OP["JUMP_IF_NONE"], 0, 8, OP["RESULT"], 0, OP["HALT"]]
    refused(code, "a path reaches HALT without RESULT", 8)


def test_halt_without_any_result():
    refused(TRUE_M0 + [OP["HALT"]], "a path reaches HALT without RESULT", 3)
    refused([OP["HALT"]], "a path reaches HALT without RESULT", 0)


@pytest.mark.parametrize("load_code, consts, strings", [
    ([OP["LOAD_ATTR"], 0, F["SPAN_ATTRS"], 0], [TRUE], [b"n"]),
    ([OP["LOAD_FIELD"], 0, F["SPAN_NAME"]], [TRUE], []),
    ([OP["LOAD_FIELD"], 0, F["LOG_BODY"]], [TRUE], []),
    ([OP["LOAD_FIELD"], 0, F["SCOPE_VERSION"]], [TRUE], []),
    ([OP["LOAD_CONST"], 0, 1], [TRUE, (TAG_DOUBLE, 0)], []),
    ([OP["LOAD_CONST"], 0, 1], [TRUE, (TAG_NONE, 0)], []),
    ([OP["LOAD_CONST"], 0, 1], [TRUE, (TAG_STRING, 0)], [b"1"]),
], ids=["attribute", "string field", "body", "parent string", "double", "nil", "string"])
def test_math_on_a_register_that_may_not_hold_an_int(load_code, consts, strings):
    code = load_code + [OP["LOAD_FIELD"], 1, F["RESOURCE_DROPPED_ATTRS"],
                        OP["MATH"], 2, ADD, 1, 0] + TRUE_M0 + END
    refused(code, "MATH reads a register that may not hold an int", len(load_code) + 3,
            consts=consts, strings=strings)


def test_math_register_rewritten_with_a_non_int_elsewhere():
    # r0 is an int at the MATH, but another instruction writes it with a string: refused, as
    # the verifier's rule is per register, not per path.
    code = [OP["LOAD_FIELD"], 0, F["SPAN_KIND"], OP["MATH"], 1, ADD, 0, 0,
            OP["LOAD_FIELD"], 0, F["SPAN_NAME"]] + TRUE_M0 + END
    refused(code, "MATH reads a register that may not hold an int", 3)


def test_math_on_int_fields_and_int_constants_is_accepted():
    code = [OP["LOAD_FIELD"], 0, F["SPAN_START"], OP["LOAD_CONST"], 1, 1,
            OP["MATH"], 2, ADD, 0, 1, OP["MATH"], 3, ADD, 2, 2] + TRUE_M0 + END
    load(code, consts=[TRUE, (TAG_INT, 7)])


@pytest.mark.parametrize("nregs, nmasks", [
    (limits.VM_MAX_REGISTERS + 1, 1), (1, limits.VM_MAX_REGISTERS + 1), (-1, 1), (1, -1)])
def test_too_many_registers(nregs, nmasks):
    with pytest.raises(VMError, match=f"the limit is {limits.VM_MAX_REGISTERS} each") as info:
        load(TRUE_M0 + END, nregs=nregs, nmasks=nmasks)
    assert info.value.pc == -1


def test_the_register_limit_itself_is_allowed():
    n = limits.VM_MAX_REGISTERS
    code = [OP["LOAD_FIELD"], n - 1, F["SPAN_KIND"], OP["MASK_CONST"], n - 1, 0,
            OP["RESULT"], n - 1, OP["HALT"]]
    load(code, nregs=n, nmasks=n)


def test_code_over_the_limit():
    code = np.zeros(limits.VM_MAX_CODE + 1, dtype=np.int32)
    with pytest.raises(VMError, match="over the limit"):
        load(code)


@pytest.mark.parametrize("const", [(TAG_INT, 1), (TAG_NONE, 0), (TAG_DOUBLE, 0),
                                   (TAG_STRING, 0), (TAG_BYTES, 0)])
def test_mask_const_of_a_non_bool(const):
    refused([OP["MASK_CONST"], 0, 0] + END, "MASK_CONST of a constant that is not a bool", 0,
            consts=[const], strings=[b"x"])


@pytest.mark.parametrize("tag", [0, 5, 6, 8, 11, 14, 16, 255])
def test_constant_with_an_unknown_type_tag(tag):
    with pytest.raises(VMError, match=f"constant 1 has an unknown type tag {tag}"):
        load(TRUE_M0 + END, consts=[TRUE, (tag, 0)])


@pytest.mark.parametrize("tag", [TAG_STRING, TAG_BYTES, TAG_TRACE_ID, TAG_SPAN_ID])
@pytest.mark.parametrize("index", [1, -1, 2**40])
def test_string_constant_naming_a_missing_string(tag, index):
    with pytest.raises(VMError, match=f"constant 1 names string {index} of 1"):
        load(TRUE_M0 + END, consts=[TRUE, (tag, index)], strings=[b"x"])


@pytest.mark.parametrize("tag, width", [(TAG_TRACE_ID, 16), (TAG_SPAN_ID, 8)])
@pytest.mark.parametrize("length", [0, 7, 9, 15, 17])
def test_id_constant_of_the_wrong_width(tag, width, length):
    with pytest.raises(VMError, match=f"constant 1 is an id of {length} bytes"):
        load(TRUE_M0 + END, consts=[TRUE, (tag, 0)], strings=[b"x" * length])
    load(TRUE_M0 + END, consts=[TRUE, (tag, 0)], strings=[b"x" * width])  # the right width loads


@pytest.mark.parametrize("slot", [-1, 2**31 - 1, 13])
def test_derived_slot_out_of_range(slot):
    # 13 words of code: a slot number past them is no program's; INT32_MAX once overflowed
    # the slot count (signed overflow, found by the sanitizer driver).
    code = [OP["LOAD_DERIVED"], 0, slot, OP["CMP_CONST"], 0, EQ, 0, 0] + END + [OP["HALT"]] * 2
    refused(code, r"LOAD_DERIVED: operand 2 \('d'\) out of range", 0)


def test_derived_slots_set_how_many_columns_a_run_needs(spans):
    code = [OP["LOAD_DERIVED"], 0, 2, OP["CMP_CONST"], 0, EQ, 0, 0] + END
    p = load(code)
    assert p.nderived == 3
    with pytest.raises(VMError, match="reads 3 derived columns; 0 were given"):
        p.filter(spans)
    tags = np.full(5, TAG_BOOL, np.uint8)
    vals = np.array([1, 0, 1, 0, 0], np.int64)
    assert p.filter(spans, [(tags, vals)] * 3).tolist() == [1, 0, 1, 0, 0]


def test_fields_of_both_signals():
    code = [OP["LOAD_FIELD"], 0, F["SPAN_NAME"], OP["LOAD_FIELD"], 1, F["LOG_BODY"]] + \
        TRUE_M0 + END
    refused(code, "reads fields of both spans and logs", 3)
    code = [OP["LOAD_ATTR"], 0, F["LOG_ATTRS"], 0, OP["LOAD_FIELD"], 1, F["SPAN_KIND"]] + \
        TRUE_M0 + END
    refused(code, "reads fields of both spans and logs", 4, strings=[b"k"])


def test_constant_arrays_of_different_lengths():
    with pytest.raises(ValueError, match="differ in length"):
        VMProgram(TRUE_M0 + END, np.array([TAG_BOOL], np.uint8), np.array([1, 2], np.int64),
                  [], 1, 1)
