"""Bytecode as text: one instruction per line, operands named, constants and fields shown.

    0000  LOAD_ATTR     r0, SPAN_ATTRS, "http.method"        ; span.attributes["http.method"]
    0004  CMP_CONST     m0, ==, r0, k0 "POST"
"""

from __future__ import annotations

from ottl.compiler.opcodes import COMPARE_OPS, FIELDS, MATH_OPS, OPCODES
from ottl.compiler.program import (
    TAG_BYTES,
    TAG_NAMES,
    TAG_NONE,
    TAG_SPAN_ID,
    TAG_STRING,
    TAG_TRACE_ID,
    Program,
)


def disassemble(p: Program) -> str:
    lines = [f"; {p.context}: {p.source}",
             f"; {p.nregs} registers, {p.nmasks} masks, {len(p.consts)} constants, "
             f"{len(p.strings)} strings"]
    pc = 0
    while pc < len(p.code):
        op = OPCODES[p.code[pc]]
        words = p.code[pc + 1: pc + 1 + len(op.operands)]
        shown = [_operand(p, kind, v) for kind, v in zip(op.operands, words)]
        line = f"{pc:04d}  {op.name:<13} {', '.join(shown)}"
        span = p.spans.get(pc)
        if span is not None:
            snippet = p.source[span.start:span.end]
            if len(snippet) > 40:
                snippet = snippet[:37] + "..."
            line = f"{line:<60} ; {snippet}"
        lines.append(line.rstrip())
        pc += 1 + len(op.operands)
    return "\n".join(lines) + "\n"


def _operand(p: Program, kind: str, v: int) -> str:
    if kind == "r":
        return f"r{v}"
    if kind == "m":
        return f"m{v}"
    if kind == "o":
        return COMPARE_OPS[v]
    if kind == "a":
        return MATH_OPS[v]
    if kind == "f":
        return FIELDS[v].name
    if kind == "s":
        return _quote(p.strings[v])
    if kind == "j":
        return f"-> {v:04d}"
    if kind == "k":
        tag, value = p.consts[v]
        if tag in (TAG_STRING, TAG_BYTES, TAG_TRACE_ID, TAG_SPAN_ID):
            shown = _quote(p.strings[value]) if tag == TAG_STRING else f"0x{p.strings[value].hex()}"
        elif tag == TAG_NONE:
            shown = "nil"
        else:
            shown = repr(value)
        return f"k{v} {TAG_NAMES[tag]} {shown}"
    return str(v)


def _quote(raw: bytes) -> str:
    text = raw.decode("utf-8", "backslashreplace")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
