"""Resolved conditions to bytecode (docs/engine.md).

``compile_condition(expr, context, text)`` turns a resolved boolean expression (a condition,
or a statement's ``where`` clause) into a ``Program`` whose RESULT is the expression's mask.
What the VM has no instruction for raises ``NotNative`` (with the reason); the engine then
runs that condition through the reference evaluator, so the language stays whole.

The compiler folds what is constant (literals, enums, arithmetic and comparisons of them, and
``and``/``or``/``not`` over a constant side), emits every load once at the top (loads are
views of columns, so hoisting them costs nothing and keeps short-circuit jumps honest), and
turns ``and``/``or`` into block-level short-circuits: the right side runs only for blocks
where the left side did not already decide every row.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Optional, Union

from ottl.compiler.opcodes import (
    CACHE_FIELDS,
    COMPARE_OPS,
    FIELD_INDEX,
    FIELDS,
    FLIPPED_OPS,
    ID_TAGS,
    MATH_OPS,
    OPCODE_INDEX,
    OPCODES,
)
from ottl.compiler.program import (
    Derived,
    IdWrite,
    MapEdit,
    ParentWrite,
    program_reads,
    TAG_BOOL,
    TAG_BYTES,
    TAG_DOUBLE,
    TAG_INT,
    TAG_NONE,
    TAG_SPAN_ID,
    TAG_STRING,
    TAG_TRACE_ID,
    Program,
)
from ottl.contexts import CONTEXTS
from ottl.eval.arith import arithmetic, negate
from ottl.eval.compare import compare
from ottl.eval.errors import EvalError, OttlRuntimeError
from ottl.eval.interpreter import compile_call_of, row_param
from ottl.eval.paths import SPAN_KIND_SYMBOLS, SPAN_KIND_WORDS
from ottl.eval.values import SpanID, TraceID
from ottl.lang.ast import Span
from ottl.lang.errors import OttlError
from ottl.resolved import (
    RAnd,
    RArg,
    RFunctionRef,
    RList,
    RMap,
    RStatement,
    RBoolConst,
    RCompare,
    REnum,
    RLiteral,
    RMath,
    RNeg,
    RNot,
    ROr,
    RCall,
    RPath,
)

# Converters whose result depends on something other than their arguments (the clock, chance,
# the record itself) or that take lambdas: never computed once per distinct value.
NOT_MEMOIZABLE = frozenset({"UUID", "UUIDv7", "Now", "IsRootSpan", "All", "Any", "Filter",
                            "Find", "MapEach", "MapKeys", "Reduce", "When"})
# Of those, converters of no argument whose every call gives a new value: called once per
# record (``Derived.per_record``).
PER_RECORD = frozenset({"UUID", "UUIDv7"})

# Editors applied to a record's whole attribute map by ottl.mapedit's kernels.
MAP_EDITORS = frozenset({"keep_keys", "keep_matching_keys", "delete_matching_keys", "limit",
                         "replace_all_patterns", "replace_all_matches", "truncate_all"})
# Editors of a whole attribute map with no kernel: ottl.mapedit runs the reference editor over
# each selected record's map and writes back the maps it changed.
ROW_EDITORS = frozenset({"flatten", "stringify_all"})
# A derived column's distinct combinations are found over this many columns at most.
MAX_DERIVED_PARTS = 8

# The contexts whose records are a batch's rows, and the signal of each.
ROW_CONTEXTS = {"span": "traces", "log": "logs"}

_FIELD_BY_PATH = {(f.context, f.path, f.signal): i for i, f in enumerate(FIELDS)}


class NotNative(Exception):
    """The VM cannot run this (yet): the reason names what."""


class _Const:
    """A value known at compile time."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Builder:
    def __init__(self, context: str, source: str) -> None:
        self.program = Program(context, source)
        self._strings: dict[bytes, int] = {}
        self._consts: dict[tuple, int] = {}
        self._loads: dict[tuple[int, Optional[int]], tuple[int, Span]] = {}
        self._body: list[tuple[list[int], Span]] = []
        self.int_regs: set[int] = set()  # registers that hold an int in every row

    # -- pools --

    def string(self, raw: bytes) -> int:
        if raw not in self._strings:
            self._strings[raw] = len(self.program.strings)
            self.program.strings.append(raw)
        return self._strings[raw]

    def const(self, value: Any) -> int:
        if value is None:
            key: tuple = (TAG_NONE, 0)
        elif isinstance(value, bool):
            key = (TAG_BOOL, int(value))
        elif isinstance(value, int):
            key = (TAG_INT, value)
        elif isinstance(value, float):
            key = (TAG_DOUBLE, math.copysign(1.0, value), repr(value))
        elif isinstance(value, str):
            key = (TAG_STRING, self.string(value.encode("utf-8", "surrogatepass")))
        elif isinstance(value, bytes) and type(value) is bytes:
            key = (TAG_BYTES, self.string(value))
        elif type(value) is TraceID:  # not a ProfileID, which only looks like one
            key = (TAG_TRACE_ID, self.string(bytes(value)))
        elif type(value) is SpanID:
            key = (TAG_SPAN_ID, self.string(bytes(value)))
        else:
            raise NotNative(f"a constant of type {type(value).__name__}")
        if key not in self._consts:
            self._consts[key] = len(self.program.consts)
            tag = key[0]
            self.program.consts.append((tag, value if tag == TAG_DOUBLE else key[1]))
        return self._consts[key]

    # -- registers --

    def load(self, field: int, key: Optional[str], span: Span) -> int:
        slot = (field, None if key is None else self.string(key.encode("utf-8", "surrogatepass")))
        if slot not in self._loads:
            self._loads[slot] = (self.program.nregs, span)
            self.program.nregs += 1
        return self._loads[slot][0]

    def derived(self, spec: Derived, span: Span) -> int:
        """A register holding derived column ``spec`` (hoisted like the other loads)."""
        self.program.derived.append(spec)
        slot = len(self.program.derived) - 1
        self._loads[(-1 - slot, None)] = (self.program.nregs, span)
        self.program.nregs += 1
        return self._loads[(-1 - slot, None)][0]

    def derived_in(self, reg: int) -> Optional[Derived]:
        """The derived column register ``reg`` holds, if it holds one."""
        for (field, key), (held, _) in self._loads.items():
            if held == reg and key is None and field < 0:
                return self.program.derived[-1 - field]
        return None

    def mark_stored(self, reg: int) -> None:
        """Notes that the derived column in ``reg`` (if any) is only the value a set stores: a
        map or list result is stored as the setter stores it, and a failure is the set's,
        which its group's error mode judges."""
        spec = self.derived_in(reg)
        if spec is not None:
            spec.stored = True

    def register(self) -> int:
        self.program.nregs += 1
        return self.program.nregs - 1

    def mask(self) -> int:
        self.program.nmasks += 1
        return self.program.nmasks - 1

    # -- code --

    def emit(self, span: Span, op: str, *operands: int) -> int:
        """Appends an instruction to the body; returns its index there (for patching)."""
        assert len(operands) == len(OPCODES[OPCODE_INDEX[op]].operands), op
        self._body.append(([OPCODE_INDEX[op], *operands], span))
        return len(self._body) - 1

    def here(self) -> int:
        return len(self._body)

    def finish(self, result: Union[int, _Const], span: Span) -> Program:
        if isinstance(result, _Const):
            m = self.mask()
            self.emit(span, "MASK_CONST", m, self.const(bool(result.value)))
            result = m
        self.emit(span, "RESULT", result)
        self.emit(span, "HALT")
        prologue = []
        for (field, key), (reg, span_) in self._loads.items():
            if field < 0:
                prologue.append(([OPCODE_INDEX["LOAD_DERIVED"], reg, -1 - field], span_))
            elif key is None:
                prologue.append(([OPCODE_INDEX["LOAD_FIELD"], reg, field], span_))
            else:
                prologue.append(([OPCODE_INDEX["LOAD_ATTR"], reg, field, key], span_))
        # Body indexes become pcs: every jump operand holds a body index until now.
        pcs, pc = [], sum(len(w) for w, _ in prologue)
        for words, _ in self._body:
            pcs.append(pc)
            pc += len(words)
        pcs.append(pc)
        p = self.program
        for words, span_ in prologue:
            p.spans[len(p.code)] = span_
            p.code.extend(words)
        for words, span_ in self._body:
            if OPCODES[words[0]].name.startswith("JUMP"):
                words = [words[0], words[1], pcs[words[2]]]
            p.spans[len(p.code)] = span_
            p.code.extend(words)
        return p


def compile_condition(expr: Any, context: str, text: str) -> Program:
    """A resolved boolean expression of ``context`` as a VM program; NotNative if it cannot be."""
    if context not in ROW_CONTEXTS:
        raise NotNative(f"conditions in the {context} context")
    b = _Builder(context, text)
    result = _bool(b, expr)
    return b.finish(result, expr.span)


ALLOW_NIL_GATE = "ottl.set.allowNil"


def compile_statement(r: RStatement, gates: frozenset[str] = frozenset()) -> Program:
    """A resolved statement as a VM program: GATE (the rows its group lets it touch) and its
    ``where`` select rows, the editor writes them, RESULT is where it ran."""
    if r.context not in ROW_CONTEXTS:
        raise NotNative(f"statements in the {r.context} context")
    b = _Builder(r.context, r.text)
    editor = r.editor
    name = editor.spec.name
    if editor.keys:
        raise NotNative(f"{name} with keys")
    if name in ("set", "delete_key") and any(a is None for a in editor.args):
        raise NotNative(f"{name} with omitted arguments")
    if not editor.args or editor.args[0] is None:
        raise NotNative(f"{name} without a target")
    target = editor.args[0].value
    if isinstance(target, RPath) and target.context in ("resource", "scope") \
            and target.context != r.context:
        if name == "set":
            return _set_parent(b, r, target, gates)
        return _edit_parent(b, r, target)
    if not isinstance(target, RPath) or target.context != r.context:
        raise NotNative(f"{name} of something other than the record's own path")
    if name == "set" and _is_body_string(b, target):
        return _set_body_string(b, r, gates)
    id_field = _field(b, target)
    if name == "set" and id_field is not None and FIELDS[id_field].ctype in ("hex", "id"):
        return _set_id(b, r, target, id_field, gates)
    if name == "set" and id_field is not None and FIELDS[id_field].ctype == "word":
        return _set_kind_name(b, r, target, gates)
    time_target = _time_field(b, target)
    if time_target is not None and name != "set":
        raise NotNative(f"{name} of {target.text()}")
    inner: tuple = ()  # literal keys past the target's attribute, or into a log body
    if time_target is not None:
        field, target_key = time_target, None
    elif _nested(b, target):
        field = _field(b, target)  # type: ignore[assignment]
        keys = tuple(k.value for k in target.keys)
        target_key, inner = (keys[0], keys[1:]) if FIELDS[field].tag == "MAP" else (None, keys)
    else:
        field, target_key = _locate(b, target, f"{name} of ", whole_map=True)
    is_map = FIELDS[field].tag == "MAP"
    whole_map = is_map and target_key is None
    if FIELDS[field].name in CACHE_FIELDS and name in MAP_EDITORS | ROW_EDITORS and whole_map:
        raise NotNative(f"{name} of the cache")  # their tables are by the attributes' keys
    # An editor of one value (an attribute, a nested value, a log body): what it writes is
    # computed once per distinct value (and argument), then set.
    one_value = bool(inner) or (not whole_map and name in ("merge_maps", "delete_key")) or (
        name not in ("set", "delete_key", "merge_maps") and not whole_map)
    if one_value:
        leaves, sources = _editor_parts(b, editor, field, target_key)
    elif name == "merge_maps":
        source = _merge_source(b, editor)
    elif name not in ("set", "delete_key"):
        if any(a is not None and not _constant(a.value) for a in editor.args[1:]):
            raise NotNative(f"{name} with arguments that vary by record")
        if name not in MAP_EDITORS | ROW_EDITORS:
            raise NotNative(f"{name} of a whole attributes map")
    gate = _gate(b, r)
    if gate is None:
        return b.finish(_Const(False), editor.span)
    if one_value:
        written = b.derived(Derived(editor, leaves, sources, editor=True, target_keys=inner),
                            editor.span)
        _emit_set(b, editor.span, target, field, target_key, written, gate)
        return b.finish(gate, editor.span)
    if name == "merge_maps":
        # The program says where; ottl.mapedit merges each record's source map in.
        b.program.map_edit = MapEdit(editor, field, source)
        return b.finish(gate, editor.span)
    if name != "set" and name != "delete_key":
        # The editor rewrites whole maps: the program says where; ottl.mapedit edits.
        b.program.map_edit = MapEdit(editor, field)
        return b.finish(gate, editor.span)
    assert editor.args[1] is not None  # set and delete_key have no optional arguments
    if name == "delete_key":
        key = editor.args[1].value
        if not (isinstance(key, RLiteral) and isinstance(key.value, str)):
            raise NotNative("delete_key with a key that is not a string literal")
        b.emit(editor.span, "DELETE_ATTR", field, b.string(key.value.encode("utf-8", "surrogatepass")), gate)
        return b.finish(gate, editor.span)
    if ALLOW_NIL_GATE in gates:
        raise NotNative(f"set with the {ALLOW_NIL_GATE} gate on")
    if time_target is not None:
        return _set_time(b, editor, time_target, gate)
    node = editor.args[1].value
    # a map or list literal, which no constant holds: stored once per batch as a set stores it
    # (and a whole attributes map, copied as the setter copies it)
    stored_whole = (isinstance(node, (RMap, RList)) and _constant(node)) or (
        isinstance(node, RPath) and _whole_map(b, node) is not None)
    _not_into_itself(b, node, field)
    # an id is stored as its bytes, as the setter stores it (no register holds it so)
    value = _expression(b, node) if stored_whole or _is_id_path(b, node) else _value(b, node)
    if isinstance(value, _Const) and type(value.value) in (TraceID, SpanID):
        value = _Const(bytes(value.value))
    if not isinstance(value, _Const):
        b.mark_stored(value)  # a derived column: what it fails on, the set's error mode judges
    if isinstance(value, _Const):
        if value.value is None:  # set(x, nil) writes nothing, but it runs (and counts)
            return b.finish(gate, editor.span)
        reg = b.register()
        b.emit(editor.span, "LOAD_CONST", reg, b.const(value.value))
    else:
        reg = value
    _emit_set(b, editor.span, target, field, target_key, reg, gate)
    return b.finish(gate, editor.span)


def _set_parent(b: _Builder, r: RStatement, target: RPath, gates: frozenset[str]) -> Program:
    """``set`` of the record's resource's or scope's attribute from a record statement: the
    value is a derived column (stored as a set stores it), the program gives where the
    statement runs, and ``Program.parent_write`` says what to write. A statement that reads
    the attribute it writes (or the whole map) depends on the records before it, which the
    reference runs one by one: it stays with the reference."""
    field, key = _parent_target(b, r, target)
    if key is None:
        raise NotNative(f"set of {target.text()} from a {r.context} statement (only one string "
                        "key of a resource's or scope's attributes is native)")
    start = _handed_set(b, r, gates)
    if isinstance(start, Program):
        return start
    gate, node = start
    _expression(b, node)
    slot = len(b.program.derived) - 1
    b.program.derived[slot].stored = True
    program = b.finish(gate, r.editor.span)
    if any(f == field and k in (key, None) for f, k in program_reads(program)):
        raise NotNative(f"set of {target.text()} from a statement that reads it")
    program.parent_write = ParentWrite(target.context, field, key, slot)
    return program


def _handed_set(b: _Builder, r: RStatement, gates: frozenset[str]
                ) -> Union[Program, tuple[int, Any]]:
    """The start of a ``set`` the VM does not write with one SET_FIELD (a parent's, an id's,
    ``log.body.string``): its gate and its value's node; or the finished program where it writes nothing: its where
    clause is constant false, or its value nil (it still runs there, as the reference counts
    it)."""
    if ALLOW_NIL_GATE in gates:
        raise NotNative(f"set with the {ALLOW_NIL_GATE} gate on")
    gate = _gate(b, r)
    if gate is None:
        return b.finish(_Const(False), r.editor.span)
    node = r.editor.args[1].value  # type: ignore[union-attr]
    if isinstance(node, RLiteral) and node.value is None:
        return b.finish(gate, r.editor.span)
    return gate, node


# span.kind, which a set of its name becomes
_SPAN_KIND_SPEC = next(p for p in CONTEXTS["span"].paths if p.name == "kind")


def _set_kind_name(b: _Builder, r: RStatement, target: RPath, gates: frozenset[str]
                   ) -> Program:
    """``set(span.kind.string, "Server")`` (or ``kind.deprecated_string``) to a constant: the
    ``set`` of ``span.kind`` to that name's number. The setter takes strings only, so any other
    constant writes nothing; an unknown name (an error on every record) and a value that varies
    by record go to the reference."""
    start = _handed_set(b, r, gates)
    if isinstance(start, Program):
        return start
    gate, node = start
    if not (_constant(node) or _constant_call(node)):
        raise NotNative(f"set of {target.text()} to a value that varies by record")
    value = node.value if isinstance(node, RLiteral) else _fold_call(b, node).value \
        if isinstance(node, RCall) else None
    if not isinstance(value, str):
        return b.finish(gate, r.editor.span)
    words = SPAN_KIND_WORDS if target.spec.name == "kind.string" else SPAN_KIND_SYMBOLS
    if value not in words:
        raise NotNative(f"set of {target.text()} to {value!r}, which names no span kind")
    target_arg, value_arg = r.editor.args[0], r.editor.args[1]
    assert target_arg is not None and value_arg is not None  # _handed_set read them
    args = (replace(target_arg, value=replace(target, spec=_SPAN_KIND_SPEC)),
            replace(value_arg, value=RLiteral(words.index(value), node.span)))
    return compile_statement(replace(r, editor=replace(r.editor, args=args)), gates)


def _set_id(b: _Builder, r: RStatement, target: RPath, field: int,
            gates: frozenset[str]) -> Program:
    """``set`` of the record's trace, span or parent span id, or of its ``.string`` path: the
    program gives where it runs; the value per record (a derived column, or a constant) goes
    to ``ottl.id_writes``, which takes it as that path's setter does and writes the ids."""
    start = _handed_set(b, r, gates)
    if isinstance(start, Program):
        return start
    gate, node = start
    if _constant(node) or _constant_call(node):
        value = node.value if isinstance(node, RLiteral) else _fold_call(b, node).value \
            if isinstance(node, RCall) else None
        if value is None:
            raise NotNative(f"set of {target.text()} to a {type(node).__name__[1:].lower()}")
        program = b.finish(gate, r.editor.span)
        program.id_write = IdWrite(field, target.span, const=value)
        return program
    if isinstance(node, RPath) and not _nested(b, node) and not _dynamic_keys(b, node) \
            and _time_field(b, node) is None and _whole_map(b, node) is None:
        try:
            source = _locate(b, node)
        except NotNative:
            source = None  # a span's events or links: an expression's part
        if source is not None:
            program = b.finish(gate, r.editor.span)  # read as a column, as it is
            program.id_write = IdWrite(field, target.span, source=source)
            return program
    _expression(b, node)
    slot = len(b.program.derived) - 1
    if FIELDS[field].ctype == "hex":  # only a string counts: a map or list value is stored as
        b.program.derived[slot].stored = True  # any other
    else:  # an id must keep its type
        b.program.derived[slot].set_failures = True
    program = b.finish(gate, r.editor.span)
    program.id_write = IdWrite(field, target.span, slot=slot)
    return program


def _gate(b: _Builder, r: RStatement) -> Optional[int]:
    """The mask of the rows a statement runs on: GATE (the rows its group lets it touch) and
    its ``where``; None when the clause is constant false."""
    gate = b.mask()
    b.emit(r.editor.span, "GATE", gate)
    if r.where is not None:
        where = _bool(b, r.where)
        if isinstance(where, _Const):
            if not where.value:
                return None
        else:
            b.emit(r.where.span, "AND", gate, gate, where)
    return gate


def _parent_target(b: _Builder, r: RStatement, target: RPath) -> tuple[int, Optional[str]]:
    """The field of a resource's or scope's path that a record statement writes, and its one
    string key (None for a whole map or a scalar field)."""
    field = _field(b, target)
    if field is None:
        raise NotNative(f"{r.editor.spec.name} of {target.text()}")
    if not target.keys:
        return field, None
    if FIELDS[field].tag != "MAP" or len(target.keys) != 1 \
            or not isinstance(target.keys[0], RLiteral) \
            or not isinstance(target.keys[0].value, str):
        raise NotNative(f"{r.editor.spec.name} of {target.text()} from a {r.context} statement "
                        "(only one string key of a resource's or scope's attributes is native)")
    return field, target.keys[0].value


def _edit_parent(b: _Builder, r: RStatement, target: RPath) -> Program:
    """An editor other than ``set`` of the record's resource or scope (``delete_key(resource.
    attributes, "k")``, ``replace_pattern(scope.attributes["a"], ...)``) with constant
    arguments: each record it runs on applies the same edit to its parent, so the program
    gives where it runs and ``ottl.parent_writes`` applies it to each parent as many times
    (``Program.parent_write`` with ``edit``). One that reads what it edits is refused."""
    name = r.editor.spec.name
    field, key = _parent_target(b, r, target)
    if any(a is not None and not (_constant(a.value) or _constant_call(a.value))
           for a in r.editor.args[1:]):
        raise NotNative(f"{name} of {target.text()} with arguments that vary by record")
    gate = _gate(b, r)
    if gate is None:
        return b.finish(_Const(False), r.editor.span)
    program = b.finish(gate, r.editor.span)
    if any(f == field and (k is None or key is None or k == key)
           for f, k in program_reads(program)):
        raise NotNative(f"{name} of {target.text()} from a statement that reads it")
    program.parent_write = ParentWrite(target.context, field, key,
                                       edit=RStatement(r.context, r.editor, None, r.text))
    return program


def _set_body_string(b: _Builder, r: RStatement, gates: frozenset[str]) -> Program:
    """``set(log.body.string, value)``: the body becomes the value where it is a string, and
    stays as it is elsewhere, as the reference's setter of that path does. A string field is
    written as it is; anything else is a derived column that holds nil (which writes nothing)
    where the value is not a string (``Derived.strings_only``)."""
    start = _handed_set(b, r, gates)
    if isinstance(start, Program):
        return start
    gate, node = start
    body = FIELD_INDEX["LOG_BODY"]
    if isinstance(node, RLiteral):
        if isinstance(node.value, str):
            reg = b.register()
            b.emit(r.editor.span, "LOAD_CONST", reg, b.const(node.value))
            b.emit(r.editor.span, "SET_FIELD", body, reg, gate)
        return b.finish(gate, r.editor.span)  # any other constant: the body stays
    field = _field(b, node) if isinstance(node, RPath) and not node.keys else None
    if field is not None and FIELDS[field].tag == "STRING":
        value = b.load(field, None, node.span)
    else:
        value = _expression(b, node)
        spec = b.program.derived[-1]
        spec.stored = spec.strings_only = True
    b.emit(r.editor.span, "SET_FIELD", body, value, gate)
    return b.finish(gate, r.editor.span)


def _set_time(b: _Builder, editor: RCall, field: int, gate: int) -> Program:
    """``set`` of a record's time: its nanoseconds field written with another time's, or with
    a converter's time (a derived column marked ``Derived.as_time``: a value that is not a time
    writes nothing, as the reference's setter ignores it)."""
    node = editor.args[1].value  # type: ignore[union-attr]
    source = _time_field(b, node)
    if source is not None:
        value = b.load(source, None, node.span)
    else:
        value = _expression(b, node) if _is_now(node) else _value(b, node)
        spec = None if isinstance(value, _Const) else b.derived_in(value)
        if spec is None:
            target = editor.args[0].value  # type: ignore[union-attr]
            raise NotNative(f"set of {target.text()} to something other than a time or a "
                            "converter's result")
        spec.stored = spec.as_time = True
    b.emit(editor.span, "SET_FIELD", field, value, gate)
    return b.finish(gate, editor.span)


def _editor_parts(b: _Builder, editor: RCall, field: int, key: Optional[str]
                  ) -> tuple[tuple, tuple]:
    """The leaves and sources of an editor of one value: its target, and the value a ``set``
    writes or the map ``merge_maps`` merges in when they vary by record (every other argument
    must be constant)."""
    leaves: list[tuple[int, Optional[int]]] = [(0, None)]
    sources: list[tuple] = [("field", field, key)]
    name = editor.spec.name
    for i, a in enumerate(editor.args[1:], 1):
        if a is None or _constant(a.value) or _constant_call(a.value):
            continue
        if i != 1 or name not in ("set", "merge_maps"):
            raise NotNative(f"{name} with arguments that vary by record")
        _not_into_itself(b, a.value, field)
        leaves.append((i, None))
        sources.append(_source(b, a.value))
    return tuple(leaves), tuple(sources)


def _not_into_itself(b: _Builder, node: Any, field: int) -> None:
    """Refuses to write a map into one of its own entries: the reference's setter makes the
    entry first and then reads the map with it, which a value computed before the write does
    not see."""
    if _whole_map(b, node) == field:
        raise NotNative(f"{node.text()} written into one of its own entries")


def _merge_source(b: _Builder, editor: RCall) -> tuple:
    """Where merge_maps' source map comes from, per record: an attribute, a converter's result
    (a derived column only the merge reads, stored as a set stores it), or a constant (a map
    literal, or a converter of constants: ("const", its node), evaluated per batch by
    ottl.mapedit)."""
    source, strategy = editor.args[1], editor.args[2]
    if strategy is None or not _constant(strategy.value):
        raise NotNative("merge_maps with a strategy that varies by record")
    if source is None:
        raise NotNative("merge_maps without a source")
    node = source.value
    if _constant(node) or (isinstance(node, RCall) and not node.keys
                           and node.spec.name not in NOT_MEMOIZABLE
                           and all(a is None or _constant(a.value) for a in node.args)):
        return ("const", node)
    where = _source(b, source.value)
    if where[0] == "field" and where[2] is None and FIELDS[where[1]].signal != "*":
        raise NotNative("merge_maps of the record's own whole map")
    if where[0] == "derived":
        b.program.derived[where[1]].stored = True
    return where


def _emit_set(b: _Builder, span: Span, target: RPath, field: int, key: Optional[str],
              value: int, gate: int) -> None:
    """Writes register ``value`` into a scalar field or one attribute where ``gate`` holds."""
    if FIELDS[field].tag != "MAP":
        if not FIELDS[field].settable:
            raise NotNative(f"set of {target.text()}")
        b.emit(span, "SET_FIELD", field, value, gate)
        return
    if key is None:
        raise NotNative(f"set of {target.text()} (only one string key is native)")
    b.emit(span, "SET_ATTR", field, b.string(key.encode("utf-8", "surrogatepass")), value, gate)


def _bool(b: _Builder, node: Any) -> Union[int, _Const]:
    if isinstance(node, RBoolConst):
        return _Const(node.value)
    if isinstance(node, RNot):
        inner = _bool(b, node.operand)
        if isinstance(inner, _Const):
            return _Const(not inner.value)
        m = b.mask()
        b.emit(node.span, "NOT", m, inner)
        return m
    if isinstance(node, (RAnd, ROr)):
        is_and = isinstance(node, RAnd)
        left = _bool(b, node.left)
        if isinstance(left, _Const):
            if bool(left.value) != is_and:  # false and x / true or x: decided
                return left
            return _bool(b, node.right)
        jump = b.emit(node.span, "JUMP_IF_NONE" if is_and else "JUMP_IF_ALL", left, -1)
        right = _bool(b, node.right)
        if isinstance(right, _Const):
            if bool(right.value) == is_and:  # x and true / x or false: x
                b._body[jump][0][2] = b.here()
                return left
            right_mask = b.mask()
            b.emit(node.span, "MASK_CONST", right_mask, b.const(bool(right.value)))
            right = right_mask
        b.emit(node.span, "AND" if is_and else "OR", left, left, right)
        b._body[jump][0][2] = b.here()
        return left
    if isinstance(node, RCompare):
        return _compare(b, node)
    if isinstance(node, RCall) and node.spec.name == "IsRootSpan" and b.program.context == "span":
        # the reference's IsRootSpan: the span's parent id is empty (all zero or absent)
        m = b.mask()
        parent = b.load(FIELD_INDEX["SPAN_PARENT_SPAN_ID"], None, node.span)
        b.emit(node.span, "CMP_CONST", m, COMPARE_OPS.index("=="), parent,
               b.const(SpanID(bytes(8))))
        return m
    if isinstance(node, RCall):
        reg = _call(b, node, boolean=True)
        if isinstance(reg, _Const):
            if not isinstance(reg.value, bool):
                raise NotNative(f"{node.spec.name} of constants gives a "
                                f"{type(reg.value).__name__} where a bool is needed")
            return reg
        m = b.mask()
        b.emit(node.span, "CMP_CONST", m, COMPARE_OPS.index("=="), reg, b.const(True))
        return m
    raise NotNative(f"{type(node).__name__[1:].lower()} as a condition")


def _compare(b: _Builder, node: RCompare) -> Union[int, _Const]:
    if _time_valued(b, node.left) or _time_valued(b, node.right):
        # times and durations, which no register holds: the comparison is a derived column
        m = b.mask()
        b.emit(node.span, "CMP_CONST", m, COMPARE_OPS.index("=="), _expression(b, node),
               b.const(True))
        return m
    left, right = _value(b, node.left), _value(b, node.right)
    op = node.op
    if isinstance(left, _Const) and isinstance(right, _Const):
        return _Const(compare(op, left.value, right.value))
    m = b.mask()
    if isinstance(left, _Const):
        left, right, op = right, left, FLIPPED_OPS[op]
    assert not isinstance(left, _Const)
    if isinstance(right, _Const):
        b.emit(node.span, "CMP_CONST", m, COMPARE_OPS.index(op), left, b.const(right.value))
    else:
        b.emit(node.span, "CMP", m, COMPARE_OPS.index(op), left, right)
    return m


def _value(b: _Builder, node: Any) -> Union[int, _Const]:
    if isinstance(node, RLiteral):
        return _Const(node.value)
    if isinstance(node, REnum):
        return _Const(node.value)
    if isinstance(node, RNeg):
        if _constant(node.operand):
            inner = _value(b, node.operand)
            return _fold(lambda: negate(inner.value))
        return _expression(b, node)
    if isinstance(node, RMath):
        if _constant(node):
            left, right = _value(b, node.left), _value(b, node.right)
            return _fold(lambda: arithmetic(node.op, left.value, right.value))
        if _time_valued(b, node):
            raise NotNative(f"{node.op} of times, which gives a time or a duration")
        if not _int_math(b, node):
            return _expression(b, node)
        return _math(b, node, _value(b, node.left), _value(b, node.right))
    if isinstance(node, RPath):
        if _is_body_string(b, node):
            return _body_string(b, node)
        if _nested(b, node) or _dynamic_keys(b, node):
            return _expression(b, node)
        return _path(b, node)
    if _is_root_span(b, node):
        return _root_span(b, node)
    if isinstance(node, RCall):
        return _call(b, node)
    raise NotNative(f"{type(node).__name__[1:].lower()} values")


def _is_root_span(b: _Builder, node: Any) -> bool:
    return isinstance(node, RCall) and node.spec.name == "IsRootSpan" and not node.keys \
        and b.program.context == "span"


def _root_span(b: _Builder, node: RCall) -> int:
    """``IsRootSpan()`` as a value: the parent id compared with the empty one, as the
    reference's IsRootSpan compares it (a derived column of bools, over whole columns)."""
    root = RCompare("==", row_param(0, (), node.span), RLiteral(SpanID(bytes(8)), node.span),
                    node.span)
    return b.derived(Derived(root, (), (("field", FIELD_INDEX["SPAN_PARENT_SPAN_ID"], None),),
                             expression=True, text="IsRootSpan()"), node.span)


def _is_body_string(b: _Builder, node: Any) -> bool:
    return isinstance(node, RPath) and not node.keys and node.context == "log" \
        and node.spec.name == "body.string" and b.program.context == "log"


def _body_string(b: _Builder, node: RPath) -> int:
    """``log.body.string``: the body rendered as a string, a derived column of the body."""
    return b.derived(Derived(node, ((0, None),), (("field", FIELD_INDEX["LOG_BODY"], None),),
                             body_string=True), node.span)


def _call(b: _Builder, node: RCall, boolean: bool = False) -> Union[int, _Const]:
    """A converter whose record-dependent parts (arguments, or items of a list argument, the
    rest constant) are paths or other such calls, as a derived column."""
    if node.spec.name in PER_RECORD and not node.keys and all(a is None for a in node.args):
        return b.derived(Derived(node, (), (), boolean, per_record=True), node.span)
    if node.spec.name in NOT_MEMOIZABLE:
        raise NotNative(f"the converter {node.spec.name}")
    if not all(_literal_key(k) for k in node.keys):
        raise NotNative(f"keys that are not literals on the result of {node.spec.name}")
    if _holds_time(b, node):  # a time or duration is no column: the call is one expression
        return _expression(b, node, boolean)
    leaves: list[tuple[int, Optional[int]]] = []
    parts: list[Any] = []
    for i, a in enumerate(node.args):
        if a is None or _constant(a.value) or _constant_call(a.value):
            continue
        if isinstance(a.value, RList):
            for j, item in enumerate(a.value.items):
                if not _constant(item):
                    leaves.append((i, j))
                    parts.append(item)
        else:
            leaves.append((i, None))
            parts.append(a.value)
    if not leaves:
        return _fold_call(b, node)
    if len(leaves) > MAX_DERIVED_PARTS:
        raise NotNative(f"{node.spec.name} with {len(leaves)} parts that vary by record "
                        f"(at most {MAX_DERIVED_PARTS} are native)")
    sources = tuple(_source(b, part) for part in parts)
    return b.derived(Derived(node, tuple(leaves), sources, boolean), node.span)


def _fold_call(b: _Builder, node: RCall) -> _Const:
    """A converter of constants, computed now by the reference implementation (left to the
    evaluator when it fails, so the failure happens per record as the reference's does)."""
    try:
        value = compile_call_of(node, (), b.program.source)()
    except (EvalError, OttlError, OttlRuntimeError, ArithmeticError, ValueError) as exc:
        raise NotNative(f"{node.spec.name} of constants fails: {exc}") from None
    if value is not None and type(value) not in (bool, int, float, str, bytes, TraceID, SpanID):
        raise NotNative(f"{node.spec.name} of constants gives a {type(value).__name__}")
    if type(value) is int and not -(2**63) <= value < 2**63:
        raise NotNative(f"{node.spec.name} of constants gives an int outside int64")
    return _Const(value)


def _constant(node: Any) -> bool:
    """Whether a value node is known at compile time (literals, enums, lists and maps of them,
    function references)."""
    if isinstance(node, (RLiteral, REnum, RFunctionRef)):
        return True
    if isinstance(node, RList):
        return all(_constant(i) for i in node.items)
    if isinstance(node, RMap):
        return all(_constant(v) for _, v in node.items)
    if isinstance(node, (RNeg, RMath)):
        return _constant(node.operand) if isinstance(node, RNeg) else \
            _constant(node.left) and _constant(node.right)
    return False


def _holds_time(b: _Builder, node: Any) -> bool:
    """Whether an expression reads one of the record's times, or the current time."""
    if _time_field(b, node) is not None or _is_now(node):
        return True
    if isinstance(node, (RMath, RCompare)):
        return _holds_time(b, node.left) or _holds_time(b, node.right)
    if isinstance(node, RNeg):
        return _holds_time(b, node.operand)
    if isinstance(node, RCall):
        return any(a is not None and _holds_time(b, a.value) for a in node.args)
    if isinstance(node, RList):
        return any(_holds_time(b, item) for item in node.items)
    return False


# Converters whose result is a time or a duration (the others give numbers and strings).
_TIME_CONVERTERS = frozenset({"Time", "Now", "Unix", "Duration", "TruncateTime"})


def _time_valued(b: _Builder, node: Any) -> bool:
    """Whether a value is a time or a duration, which no column holds: a record's time, a
    converter giving one, or arithmetic over them."""
    if isinstance(node, RMath):
        return _time_valued(b, node.left) or _time_valued(b, node.right)
    if isinstance(node, RNeg):
        return _time_valued(b, node.operand)
    return _time_field(b, node) is not None or (
        isinstance(node, RCall) and node.spec.name in _TIME_CONVERTERS and not node.keys)


def _is_now(node: Any) -> bool:
    """``Now()``: a part read once per batch (``("now",)``), as if the batch's records were
    judged at one instant."""
    return isinstance(node, RCall) and node.spec.name == "Now" and not node.keys


def _constant_call(node: Any) -> bool:
    """A converter of constants (``Duration("1h")``), left inside the call or expression that
    takes it: the reference computes it with them, whatever its type."""
    return isinstance(node, RCall) and node.spec.name not in NOT_MEMOIZABLE and \
        all(a is None or _constant(a.value) or _constant_call(a.value) for a in node.args)


def _source(b: _Builder, node: Any) -> tuple:
    """Where a derived column's input comes from: a field, an attribute, or another one."""
    if _is_root_span(b, node):
        _root_span(b, node)
        return ("derived", len(b.program.derived) - 1)
    if isinstance(node, RCall):
        if isinstance(_call(b, node), _Const):
            raise NotNative(f"{node.spec.name} of constants inside another converter")
        return ("derived", len(b.program.derived) - 1)
    if isinstance(node, (RMath, RNeg)) or (isinstance(node, RPath) and (
            _nested(b, node) or _dynamic_keys(b, node))):
        _expression(b, node)
        return ("derived", len(b.program.derived) - 1)
    if _is_body_string(b, node):
        _body_string(b, node)
        return ("derived", len(b.program.derived) - 1)

    time = _time_field(b, node)
    if time is not None:
        return ("field", time, None, "time")
    if not isinstance(node, RPath):
        raise NotNative(f"a converter argument of kind {type(node).__name__[1:].lower()}")
    whole = _whole_map(b, node)
    if whole is not None:
        return ("field", whole, None)
    if _record_list(b, node) is not None:
        return ("list", _record_list(b, node))
    field, key = _locate(b, node)
    return ("field", field, key)


def _is_id_path(b: _Builder, node: Any) -> bool:
    """Whether a value is a path to a TraceID or SpanID (which the VM compares but does not
    store)."""
    return isinstance(node, RPath) and not node.keys and (field := _field(b, node)) is not None \
        and FIELDS[field].tag in ID_TAGS


def _int_math(b: _Builder, node: RMath) -> bool:
    """Whether the VM's MATH computes this, which it does where the reference cannot fail:
    ints that are never nil (int fields, int constants, such math), and division by a nonzero
    constant."""
    if node.op == "/":
        right = _folded(b, node.right)
        if right is None or type(right.value) is not int or right.value == 0:
            return False
    return all(_int_operand(b, side) for side in (node.left, node.right))


def _int_operand(b: _Builder, node: Any) -> bool:
    if _constant(node):
        value = _folded(b, node)
        return value is not None and type(value.value) is int
    if isinstance(node, RMath):
        return _int_math(b, node)
    if isinstance(node, RPath) and not node.keys:
        field = _field(b, node)
        return field is not None and FIELDS[field].tag == "INT"
    return False


def _folded(b: _Builder, node: Any) -> Optional[_Const]:
    """A constant expression's value; None when it fails (it then fails per record)."""
    if not _constant(node):
        return None
    try:
        value = _value(b, node)
    except NotNative:
        return None
    return value if isinstance(value, _Const) else None


def _math(b: _Builder, node: RMath, left: Union[int, _Const], right: Union[int, _Const]) -> int:
    """The VM's int arithmetic, for what ``_int_math`` accepts."""
    regs = []
    for side in (left, right):
        if isinstance(side, _Const):
            r = b.register()
            b.emit(node.span, "LOAD_CONST", r, b.const(side.value))
            b.int_regs.add(r)
            regs.append(r)
        else:
            assert side in b.int_regs
            regs.append(side)
    out = b.register()
    b.emit(node.span, "MATH", out, MATH_OPS.index(node.op), regs[0], regs[1])
    b.int_regs.add(out)
    return out


def _fold(thunk: Any) -> _Const:
    try:
        return _Const(thunk())
    except (EvalError, OttlError, ArithmeticError, ValueError, OverflowError) as exc:
        # An error at run time (division by zero, overflow) must happen per record, as the
        # reference raises it: leave it to the evaluator.
        raise NotNative(f"a constant expression that fails: {exc}") from None


def _field(b: _Builder, node: RPath) -> Optional[int]:
    """The field a path names in the program's context (None: not one the VM loads)."""
    context = b.program.context
    own = node.context == context
    return _FIELD_BY_PATH.get((node.context, node.spec.name, ROW_CONTEXTS[context] if own else "*"))


def _literal_key(key: Any) -> bool:
    return isinstance(key, RLiteral) and (isinstance(key.value, str) or type(key.value) is int)


def _whole_map(b: _Builder, node: Any) -> Optional[int]:
    """For a path to a whole attributes map (the record's own, its resource's or its scope's;
    not the cache), its field: a derived column's part, the map built per record or parent."""
    if not isinstance(node, RPath) or node.keys:
        return None
    field = _field(b, node)
    if field is None or FIELDS[field].tag != "MAP" or FIELDS[field].name in CACHE_FIELDS:
        return None
    return field


def _record_list(b: _Builder, node: Any) -> Optional[str]:
    """"events" or "links" for a span's whole ``span.events`` or ``span.links`` in the span
    context (a derived column's part: ``Len(span.events)``); None for anything else."""
    if isinstance(node, RPath) and not node.keys and node.context == "span" \
            and b.program.context == "span" and node.spec.name in ("events", "links"):
        return node.spec.name
    return None


def _dynamic_keys(b: _Builder, node: Any) -> bool:
    """Whether a path into the record's attributes (its own, or its resource's or scope's) or
    log body has a key read from the record (``span.attributes[span.name]``): the map (built
    per record or parent) and the keys' values are then an expression's parts."""
    if not isinstance(node, RPath) or not node.keys or all(_literal_key(k) for k in node.keys):
        return False
    field = _field(b, node)
    if field is None or FIELDS[field].name in CACHE_FIELDS:
        return False
    return FIELDS[field].tag == "MAP" or FIELDS[field].tag == "ANY"


def _nested(b: _Builder, node: RPath) -> bool:
    """Whether a path reads into a nested value: keys past an attribute's, or keys into a
    log body. Literal keys only (a key read from the record is left to the reference)."""
    field = _field(b, node)
    if field is None or not node.keys or not all(_literal_key(k) for k in node.keys):
        return False
    tag = FIELDS[field].tag
    if tag == "MAP":
        return len(node.keys) > 1 and isinstance(node.keys[0].value, str)
    return tag == "ANY"


def _expression(b: _Builder, node: Any, boolean: bool = False) -> int:
    """An expression the VM has no instruction for (arithmetic that may fail or meet doubles,
    keys into a nested value) as a derived column (``Derived.expression``): the reference
    evaluates it once per distinct combination of its parts, the paths and converters in it,
    each loaded as the VM loads it (a nested path's attribute, its remaining keys followed by
    the reference)."""
    sources: list[tuple] = []

    def part(n: Any) -> Any:
        if _constant(n) or _constant_call(n):
            return n
        if isinstance(n, RMath):
            return RMath(n.op, part(n.left), part(n.right), n.span)
        if isinstance(n, RNeg):
            return RNeg(part(n.operand), n.span)
        if isinstance(n, RCompare):
            return RCompare(n.op, part(n.left), part(n.right), n.span)
        keys: tuple = ()
        time = _time_field(b, n)
        if _is_now(n):
            sources.append(("now",))
        elif time is not None:
            sources.append(("field", time, None, "time"))
        elif isinstance(n, RPath) and _whole_map(b, n) is not None:
            sources.append(("field", _whole_map(b, n), None))
        elif _record_list(b, n) is not None:
            sources.append(("list", _record_list(b, n)))
        elif _is_body_string(b, n) or _is_root_span(b, n):
            (_body_string if isinstance(n, RPath) else _root_span)(b, n)
            sources.append(("derived", len(b.program.derived) - 1))
        elif _dynamic_keys(b, n):  # the whole map or body, then keys that are parts too
            sources.append(("field", _field(b, n), None))
            index = len(sources) - 1
            return row_param(index, tuple(k if _literal_key(k) else part(k) for k in n.keys),
                             n.span)
        elif isinstance(n, RPath):
            field = _field(b, n)
            if field is not None and _nested(b, n):
                first = FIELDS[field].tag == "MAP"
                key = n.keys[0].value if first else None
                keys = n.keys[1:] if first else n.keys
            else:
                field, key = _locate(b, n)
            sources.append(("field", field, key))
        elif isinstance(n, RCall) and _holds_time(b, n):
            if n.spec.name in NOT_MEMOIZABLE:
                raise NotNative(f"the converter {n.spec.name}")
            return RCall(n.spec, tuple(None if a is None else RArg(a.param, part(a.value), a.span)
                                       for a in n.args), n.keys, n.span)
        elif isinstance(n, RList):
            return RList(tuple(part(item) for item in n.items), n.span)
        elif isinstance(n, RCall):
            value = _call(b, n)
            if isinstance(value, _Const):
                return RLiteral(value.value, n.span)
            sources.append(("derived", len(b.program.derived) - 1))
        else:
            raise NotNative(f"{type(n).__name__[1:].lower()} in an expression")
        return row_param(len(sources) - 1, keys, n.span)

    expression = part(node)
    if len(sources) > MAX_DERIVED_PARTS:
        raise NotNative(f"an expression with {len(sources)} parts that vary by record "
                        f"(at most {MAX_DERIVED_PARTS} are native)")
    text = b.program.source[node.span.start:node.span.end]
    return b.derived(Derived(expression, (), tuple(sources),
                             boolean=boolean or isinstance(node, RCompare), expression=True,
                             text=text), node.span)


# Paths of a record's own times (time.Time values), and the fields of their nanoseconds.
_TIME_PATHS = {("span", "start_time"): "SPAN_START", ("span", "end_time"): "SPAN_END",
               ("log", "time"): "LOG_TIME", ("log", "observed_time"): "LOG_OBSERVED_TIME"}


def _time_field(b: _Builder, node: Any) -> Optional[int]:
    """For a path to one of the record's times, the field of its nanoseconds since the epoch
    (a derived column's part reads it as a time)."""
    if not isinstance(node, RPath) or node.keys or node.context != b.program.context:
        return None
    name = _TIME_PATHS.get((node.context, node.spec.name))
    return None if name is None else FIELD_INDEX[name]


def _locate(b: _Builder, node: RPath, what: str = "",
            whole_map: bool = False) -> tuple[int, Optional[str]]:
    """The field a path names in the program's context, and its attribute key (None for a
    scalar field, or for a whole attributes map when ``whole_map`` allows one)."""
    field = _field(b, node)
    if field is None:
        raise NotNative(f"{what}the path {node.text()}")
    if FIELDS[field].tag == "MAP":
        if whole_map and not node.keys:
            return field, None
        if len(node.keys) != 1 or not isinstance(node.keys[0], RLiteral) \
                or not isinstance(node.keys[0].value, str):
            raise NotNative(f"{what}the path {node.text()} (only one string key is native)")
        return field, node.keys[0].value
    if node.keys:
        raise NotNative(f"{what}keys on {node.text()}")
    return field, None


def _path(b: _Builder, node: RPath) -> int:
    field, key = _locate(b, node)
    if key is not None:
        return b.load(field, key, node.span)
    reg = b.load(field, None, node.span)
    if FIELDS[field].tag == "INT":
        b.int_regs.add(reg)
    return reg
