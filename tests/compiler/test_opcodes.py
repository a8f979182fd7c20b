"""The opcode table (ottl/compiler/opcodes.py) and the C side built from it agree.

csrc/vm_opcodes.h is generated and committed; regenerating it must change nothing, and the
compiled extension must carry the same names, operand kinds and field facts as the Python
table (ottl._vm.opcode_table() and field_table() read them from the header's arrays).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ottl import _vm
from ottl.compiler import gen_header
from ottl.compiler.opcodes import COMPARE_OPS, FIELDS, MATH_OPS, OPCODE_INDEX, OPCODES

# The checkout's header (the installed package has no csrc/ beside it).
HEADER = Path(__file__).resolve().parents[2] / "csrc" / "vm_opcodes.h"
OPERAND_KINDS = set("rmksfoajd")  # as opcodes.py lists them; vm_load.c checks each


def test_committed_header_is_what_the_table_generates():
    assert HEADER.read_text() == gen_header.render(), (
        "csrc/vm_opcodes.h is stale: run `python -m ottl.compiler.gen_header` and commit it")


def test_render_is_deterministic_and_names_every_opcode_and_field():
    text = gen_header.render()
    assert text == gen_header.render()
    for i, op in enumerate(OPCODES):
        assert f"    OP_{op.name} = {i}," in text
    for i, f in enumerate(FIELDS):
        assert f"    F_{f.name} = {i}," in text
    assert f"OP_COUNT = {len(OPCODES)}" in text and f"F_COUNT = {len(FIELDS)}" in text


def test_check_mode_reports_a_stale_header(tmp_path, monkeypatch):
    stale = tmp_path / "vm_opcodes.h"
    stale.write_text(gen_header.render().replace("OP_HALT = 0", "OP_HALT = 99"))
    monkeypatch.setattr(gen_header, "HEADER", stale)
    monkeypatch.setattr("sys.argv", ["gen_header", "--check"])
    assert gen_header.main() == 1
    stale.write_text(gen_header.render())
    assert gen_header.main() == 0


def test_c_opcode_names_and_operands_match_the_python_table():
    assert _vm.opcode_table() == [(op.name, op.operands) for op in OPCODES]


def test_c_field_signals_and_int_columns_match_the_python_table():
    signal = {"traces": 1, "logs": 2, "*": 0}
    expected = [(signal[f.signal], int(f.tag == "INT")) for f in FIELDS]
    assert _vm.field_table() == expected


def test_c_operator_counts_match():
    assert _vm.operator_counts() == (len(COMPARE_OPS), len(MATH_OPS))


def test_table_is_well_formed():
    names = [op.name for op in OPCODES]
    assert len(set(names)) == len(names)
    assert OPCODES[0].name == "HALT" and OPCODES[0].operands == ""
    for op in OPCODES:
        assert set(op.operands) <= OPERAND_KINDS, op
        assert op.doc
    assert OPCODE_INDEX == {n: i for i, n in enumerate(names)}
    field_names = [f.name for f in FIELDS]
    assert len(set(field_names)) == len(field_names)
    assert len({(f.context, f.path, f.signal) for f in FIELDS}) == len(FIELDS)
    for f in FIELDS:
        assert f.signal in ("traces", "logs", "*")
        assert f.tag in ("STRING", "INT", "ANY", "MAP", "TRACE_ID", "SPAN_ID")
        assert (f.ctype == "attrs") == (f.tag == "MAP"), f
        assert (f.ctype == "id") == (f.tag in ("TRACE_ID", "SPAN_ID")), f
        assert not (f.settable and f.ctype in ("id", "hex", "word")), f  # computed per batch


@pytest.mark.parametrize("op", [op for op in OPCODES if op.name.startswith("JUMP")],
                         ids=lambda op: op.name)
def test_jumps_have_their_target_last(op):
    # The compiler patches operand 2 of a jump (compile.py); the layout must stay so.
    assert op.operands == "mj"
