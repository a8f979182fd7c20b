"""A compiled program: what the compiler hands the C interpreter (``ottl._vm.VMProgram``).

``code`` is the instruction stream (opcode, then operands, all int32; see ``opcodes.py``);
``consts`` the constant pool as (tag, value) pairs, where strings, bytes and ids name an entry of
``strings``, the program's deduplicated string table; ``spans`` maps the pc of each
instruction to the piece of OTTL text it came from, so a run-time error can point at it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from ottl.compiler.opcodes import CACHE_FIELDS, FIELD_INDEX, OPCODE_INDEX, OPCODES
from ottl.lang.ast import Span

# Value tags shared with the batches (csrc/otlp_batch.h): the AnyValue oneof numbers.
TAG_STRING, TAG_BOOL, TAG_INT, TAG_DOUBLE, TAG_BYTES, TAG_NONE = 1, 2, 3, 4, 7, 15
# Tags of values only the VM holds (registers, constants): ids, as the string id of their bytes.
TAG_TRACE_ID, TAG_SPAN_ID = 9, 10
TAG_NAMES = {TAG_STRING: "string", TAG_BOOL: "bool", TAG_INT: "int", TAG_DOUBLE: "double",
             TAG_BYTES: "bytes", TAG_NONE: "nil", TAG_TRACE_ID: "TraceID", TAG_SPAN_ID: "SpanID"}


@dataclass
class Derived:
    """A column the engine computes per batch before the run: ``call`` (a converter) applied
    once per distinct combination of its record-dependent parts. ``leaves`` names each part
    (argument position, and item position when it is an item of a list argument, else None);
    ``sources`` says where each part's column comes from: ("field", field id, attribute key or
    None) or ("derived", slot). ``boolean``: used as a condition, so every result must be a
    bool."""

    call: Any
    leaves: tuple[tuple[int, Optional[int]], ...]
    sources: tuple[tuple, ...]
    boolean: bool = False
    # ``call`` is an editor: the column is what it writes into its target (the first leaf),
    # or nil where it writes nothing.
    editor: bool = False
    # An editor's target goes on into its value by these literal keys (``set(attributes["a"]
    # ["b"], 1)``): the column is the whole value with the write made inside it.
    target_keys: tuple = ()
    # The column is only ever the value a ``set`` stores: a map or list result is stored as
    # the setter stores it (a copy in pdata form, in the batch's value pool); anywhere else
    # such a result goes to the reference, whose converters and comparisons see it raw.
    stored: bool = False
    # ``call`` is not a call but a value expression (arithmetic, keys into a nested value)
    # whose parts are ``row_param``s, one per source, in order (leaves unused): what the VM
    # has no instruction for, evaluated by the reference once per distinct combination.
    expression: bool = False
    text: str = ""  # an expression's OTTL text, for messages
    # The column is set into a record's time: a time result is its nanoseconds since the
    # epoch (as an int64's bits), anything else nil (the reference's setter ignores it).
    as_time: bool = False
    # ``call`` is the path ``log.body.string``, whose one part is the body: the column is the
    # body rendered as a string, as that path reads it.
    body_string: bool = False
    # The column is set into ``log.body.string``: a value that is not a string is nil there
    # (which writes nothing, as that path's setter ignores it).
    strings_only: bool = False
    # ``call`` takes no argument and gives a new value at each call (``UUID()``): applied once
    # per record, as the reference calls it once per record.
    per_record: bool = False
    # What the column fails on is the failure of the set that takes it (as with ``stored``),
    # which its group's error mode judges; the value keeps its type (an id set into an id).
    set_failures: bool = False

    @property
    def name(self) -> str:
        """What the column computes, for messages."""
        return self.text if self.expression else self.call.spec.name


@dataclass
class MapEdit:
    """A statement's editor of a whole attribute map (``field``), applied after the program
    has computed where it runs (``ottl.mapedit``)."""

    call: Any
    field: int
    # merge_maps: where each record's source map comes from (a Derived source tuple, or
    # ("const", the resolved node of a constant source))
    source: Optional[tuple] = None


@dataclass
class ParentWrite:
    """A record statement's write to its resource or scope: ``set`` of the attribute ``key``
    (derived column ``slot`` holds the value per record: each parent gets its last record's),
    or another editor of constant arguments (``edit``: the statement without its where clause,
    applied to each parent once per record it ran on). The program says where it runs;
    ``ottl.parent_writes`` writes, as the reference's record-by-record run leaves the parent."""

    context: str  # "resource" or "scope"
    field: int
    key: Optional[str]  # None: the editor edits the whole attributes map (or a scalar field)
    slot: int = -1
    edit: Any = None


@dataclass
class IdWrite:
    """A statement's ``set`` of its record's id (``field``: a trace, span or parent span id,
    or its ``.string`` path): the value per record is a path's (``source``), derived column
    ``slot``'s, or ``const`` for every record. ``ottl.id_writes`` takes it as the reference's setter does (an id of the
    path's type, or hex text parsed, which fails at ``span``: the target path's) and writes it."""

    field: int
    span: Any
    slot: int = -1
    const: Any = None
    # a path the value is read from as it is: (field, attribute key or None), read as a column
    source: Optional[tuple[int, Optional[str]]] = None


@dataclass
class Program:
    context: str
    source: str
    code: list[int] = field(default_factory=list)
    consts: list[tuple[int, Any]] = field(default_factory=list)
    strings: list[bytes] = field(default_factory=list)
    nregs: int = 0
    nmasks: int = 0
    spans: dict[int, Span] = field(default_factory=dict)
    derived: list[Derived] = field(default_factory=list)
    map_edit: Optional[MapEdit] = None
    parent_write: Optional[ParentWrite] = None
    id_write: Optional[IdWrite] = None

    def const_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The constant pool as the C side takes it: tags (uint8) and int64 payloads."""
        tags = np.array([t for t, _ in self.consts], dtype=np.uint8)
        vals = np.array([_payload(t, v) for t, v in self.consts], dtype=np.int64)
        return tags, vals

    def span_at(self, pc: int) -> Optional[Span]:
        """The source span of the instruction at ``pc`` (or of the nearest one before it)."""
        best = None
        for at, span in self.spans.items():
            if at <= pc and (best is None or at > best[0]):
                best = (at, span)
        return best[1] if best else None


def _payload(tag: int, value: Any) -> int:
    if tag == TAG_DOUBLE:
        return struct.unpack("<q", struct.pack("<d", value))[0]
    if tag == TAG_NONE:
        return 0
    return int(value)


def program_reads(p: Program) -> list[tuple[int, Optional[str]]]:
    """The (field id, attribute key or None) pairs a program loads, directly or as the inputs
    of its derived columns."""
    out: list[tuple[int, Optional[str]]] = []
    pc = 0
    load_field, load_attr = OPCODE_INDEX["LOAD_FIELD"], OPCODE_INDEX["LOAD_ATTR"]
    while pc < len(p.code):
        op = p.code[pc]
        if op == load_field:
            out.append((p.code[pc + 2], None))
        elif op == load_attr:
            out.append((p.code[pc + 2], p.strings[p.code[pc + 3]].decode("utf-8", "surrogatepass")))
        pc += 1 + len(OPCODES[op].operands)
    for d in p.derived:
        for source in d.sources:
            if source[0] == "field":
                out.append((source[1], source[2]))
    if p.id_write is not None and p.id_write.source is not None:
        out.append(p.id_write.source)
    return out


def program_writes(p: Program) -> list[tuple[int, Optional[str]]]:
    """The (field id, attribute key or None) pairs a program writes: the keys its SET_ATTR and
    DELETE_ATTR set or remove, (key None) the map its map edit rewrites whole, the id an id
    write sets, and the parent's attribute a parent write sets."""
    out: list[tuple[int, Optional[str]]] = []
    if p.map_edit is not None:
        out.append((p.map_edit.field, None))
    if p.id_write is not None:
        out.append((p.id_write.field, None))
    if p.parent_write is not None:
        out.append((p.parent_write.field, p.parent_write.key))
    pc = 0
    writes = {OPCODE_INDEX["SET_ATTR"], OPCODE_INDEX["DELETE_ATTR"]}
    while pc < len(p.code):
        op = p.code[pc]
        if op in writes:
            key = p.strings[p.code[pc + 2]].decode("utf-8", "surrogatepass")
            out.append((p.code[pc + 1], key))
        pc += 1 + len(OPCODES[op].operands)
    return out


def uses_cache(p: Program) -> bool:
    """Whether a program reads or writes the records' ``cache`` map (the pipeline then empties
    it where the reference starts a fresh one)."""
    cache = {FIELD_INDEX[name] for name in CACHE_FIELDS}
    return any(field in cache for field, _ in program_reads(p) + program_writes(p))

