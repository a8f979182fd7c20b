"""The VM's instruction set and the record fields it reads, declared once.

``python -m ottl.compiler.gen_header`` writes ``csrc/vm_opcodes.h`` from these tables (the C
enums, operand counts and names); a test regenerates it and checks that nothing changed, so the
compiler and the C interpreter cannot disagree.

An instruction is its opcode followed by its operands, all ``int32`` in one array. Operand kinds:

    r  value register        m  mask register          k  constant-pool index
    s  program-string index  f  field id (FIELDS)      o  comparison operator (COMPARE_OPS)
    a  arithmetic operator (MATH_OPS)                  j  jump target (pc)
    d  derived-column slot (given with each run)
"""

from __future__ import annotations

from typing import NamedTuple


class Opcode(NamedTuple):
    name: str
    operands: str
    doc: str


OPCODES: tuple[Opcode, ...] = (
    Opcode("HALT", "", "end of the program for this block"),
    Opcode("LOAD_FIELD", "rf", "r = the field's column over the block (a view, no copy)"),
    Opcode("LOAD_ATTR", "rfs", "r = attribute s of the owner field f (gathered once per batch)"),
    Opcode("LOAD_CONST", "rk", "r = constant k in every row"),
    Opcode("LOAD_DERIVED", "rd", "r = derived column d, computed per batch by the caller (a "
                                 "converter, once per distinct input value)"),
    Opcode("MATH", "rarr", "r1 = r2 <op> r3 over int64 (wrapping), for operands that are never nil"),
    Opcode("CMP", "morr", "m = r1 <op> r2 per row, by the reference's comparison rules"),
    Opcode("CMP_CONST", "mork", "m = r <op> constant k per row (the SIMD kernels' case)"),
    Opcode("AND", "mmm", "m1 = m2 and m3"),
    Opcode("OR", "mmm", "m1 = m2 or m3"),
    Opcode("NOT", "mm", "m1 = not m2"),
    Opcode("MASK_CONST", "mk", "m = constant bool k in every row"),
    Opcode("JUMP_IF_NONE", "mj", "if no row of m is set, continue at j (block-level short-circuit)"),
    Opcode("JUMP_IF_ALL", "mj", "if every row of m is set, continue at j"),
    Opcode("RESULT", "m", "m is the program's result for the block: where a condition holds, "
                          "or where a statement ran"),
    Opcode("GATE", "m", "m = the rows the caller lets this program touch (a group's conditions)"),
    Opcode("SET_FIELD", "frm", "field f = r where m; rows whose value is not of the field's "
                               "type are left alone, as the reference's setter does"),
    Opcode("SET_ATTR", "fsrm", "attributes[s] of the record (owner f) = r where m; nil writes "
                               "nothing"),
    Opcode("DELETE_ATTR", "fsm", "remove key s from the record's attributes (owner f) where m"),
)

COMPARE_OPS: tuple[str, ...] = ("==", "!=", "<", "<=", ">", ">=")
# Each comparison with its sides swapped (a < b is b > a).
FLIPPED_OPS = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
MATH_OPS: tuple[str, ...] = ("+", "-", "*", "/")


class Field(NamedTuple):
    """A value the VM loads for each record of a batch.

    ``context``/``path``: the OTTL path it implements (in the record's own context, or a parent
    context reached from it); ``signal``: the batch kind; ``column``: where the C side reads it;
    ``ctype``: the column's element type; ``tag``: the value tag its rows carry.
    """

    name: str
    signal: str
    context: str
    path: str
    column: str
    ctype: str
    tag: str

    @property
    def settable(self) -> bool:
        """Whether SET_FIELD may write it: a record's own scalar field, stored as it reads (an
        id's hex string is computed from the id's bytes, and setting it parses hex, which can
        fail: that stays with the reference evaluator)."""
        return self.signal != "*" and self.tag != _MAP and self.ctype not in ("hex", "id", "word")


_STR, _INT, _ANY, _MAP = "STRING", "INT", "ANY", "MAP"
_TRACE_ID, _SPAN_ID = "TRACE_ID", "SPAN_ID"
ID_TAGS = (_TRACE_ID, _SPAN_ID)

FIELDS: tuple[Field, ...] = (
    # spans
    Field("SPAN_NAME", "traces", "span", "name", "spans.name", "i32", _STR),
    Field("SPAN_KIND", "traces", "span", "kind", "spans.kind", "i32", _INT),
    Field("SPAN_TRACE_STATE", "traces", "span", "trace_state", "spans.trace_state", "i32", _STR),
    Field("SPAN_START", "traces", "span", "start_time_unix_nano", "spans.start_time", "u64", _INT),
    Field("SPAN_END", "traces", "span", "end_time_unix_nano", "spans.end_time", "u64", _INT),
    Field("SPAN_STATUS_CODE", "traces", "span", "status.code", "spans.status_code", "i32", _INT),
    Field("SPAN_STATUS_MESSAGE", "traces", "span", "status.message", "spans.status_message",
          "i32", _STR),
    Field("SPAN_DROPPED_ATTRS", "traces", "span", "dropped_attributes_count",
          "spans.dropped_attrs", "u32", _INT),
    Field("SPAN_DROPPED_EVENTS", "traces", "span", "dropped_events_count",
          "spans.dropped_events", "u32", _INT),
    Field("SPAN_DROPPED_LINKS", "traces", "span", "dropped_links_count", "spans.dropped_links",
          "u32", _INT),
    Field("SPAN_ATTRS", "traces", "span", "attributes", "span_attrs", "attrs", _MAP),
    # logs
    Field("LOG_TIME", "logs", "log", "time_unix_nano", "logs.time", "u64", _INT),
    Field("LOG_OBSERVED_TIME", "logs", "log", "observed_time_unix_nano", "logs.observed_time",
          "u64", _INT),
    Field("LOG_SEVERITY_NUMBER", "logs", "log", "severity_number", "logs.severity_number", "i32",
          _INT),
    Field("LOG_SEVERITY_TEXT", "logs", "log", "severity_text", "logs.severity_text", "i32", _STR),
    Field("LOG_EVENT_NAME", "logs", "log", "event_name", "logs.event_name", "i32", _STR),
    Field("LOG_BODY", "logs", "log", "body", "logs.body", "tagged", _ANY),
    Field("LOG_FLAGS", "logs", "log", "flags", "logs.flags", "u32", _INT),
    Field("LOG_DROPPED_ATTRS", "logs", "log", "dropped_attributes_count", "logs.dropped", "u32",
          _INT),
    Field("LOG_ATTRS", "logs", "log", "attributes", "log_attrs", "attrs", _MAP),
    # the parents of a record, broadcast to its rows (either signal)
    Field("RESOURCE_ATTRS", "*", "resource", "attributes", "resource_attrs", "attrs", _MAP),
    Field("RESOURCE_DROPPED_ATTRS", "*", "resource", "dropped_attributes_count",
          "resources.dropped", "u32", _INT),
    Field("RESOURCE_SCHEMA_URL", "*", "resource", "schema_url", "resources.schema_url", "i32",
          _STR),
    Field("SCOPE_NAME", "*", "scope", "name", "scopes.name", "i32", _STR),
    Field("SCOPE_VERSION", "*", "scope", "version", "scopes.version", "i32", _STR),
    Field("SCOPE_DROPPED_ATTRS", "*", "scope", "dropped_attributes_count", "scopes.dropped",
          "u32", _INT),
    Field("SCOPE_SCHEMA_URL", "*", "scope", "schema_url", "scopes.schema_url", "i32", _STR),
    Field("SCOPE_ATTRS", "*", "scope", "attributes", "scope_attrs", "attrs", _MAP),
    # ids as the reference's `.string` paths give them: lowercase hex, "" for an all-zero id;
    # computed per batch from the id columns (ottl_vm_prepare), read-only
    Field("SPAN_TRACE_ID_STRING", "traces", "span", "trace_id.string", "spans.trace_id", "hex",
          _STR),
    Field("SPAN_SPAN_ID_STRING", "traces", "span", "span_id.string", "spans.span_id", "hex",
          _STR),
    Field("SPAN_PARENT_SPAN_ID_STRING", "traces", "span", "parent_span_id.string",
          "spans.parent_span_id", "hex", _STR),
    Field("LOG_TRACE_ID_STRING", "logs", "log", "trace_id.string", "logs.trace_id", "hex", _STR),
    Field("LOG_SPAN_ID_STRING", "logs", "log", "span_id.string", "logs.span_id", "hex", _STR),
    # ids as values (TraceID, SpanID: their bytes interned, zeros when absent), for comparisons
    # only; computed per batch like the hex strings, read-only
    Field("SPAN_TRACE_ID", "traces", "span", "trace_id", "spans.trace_id", "id", _TRACE_ID),
    Field("SPAN_SPAN_ID", "traces", "span", "span_id", "spans.span_id", "id", _SPAN_ID),
    Field("SPAN_PARENT_SPAN_ID", "traces", "span", "parent_span_id", "spans.parent_span_id", "id",
          _SPAN_ID),
    Field("LOG_TRACE_ID", "logs", "log", "trace_id", "logs.trace_id", "id", _TRACE_ID),
    Field("LOG_SPAN_ID", "logs", "log", "span_id", "logs.span_id", "id", _SPAN_ID),
    # the span kind's names (Server, SPAN_KIND_SERVER; "" for a kind without one), read-only
    Field("SPAN_KIND_STRING", "traces", "span", "kind.string", "spans.kind", "word", _STR),
    Field("SPAN_KIND_DEPRECATED_STRING", "traces", "span", "kind.deprecated_string",
          "spans.kind", "word", _STR),
    # the statements' per-record scratch map (the batch's cache pool: never encoded; a
    # transform group starts with it empty)
    Field("SPAN_CACHE", "traces", "span", "cache", "cache", "attrs", _MAP),
    Field("LOG_CACHE", "logs", "log", "cache", "cache", "attrs", _MAP),
)

CACHE_FIELDS = ("SPAN_CACHE", "LOG_CACHE")

OPCODE_INDEX = {op.name: i for i, op in enumerate(OPCODES)}
FIELD_INDEX = {f.name: i for i, f in enumerate(FIELDS)}
