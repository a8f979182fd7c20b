"""Derived columns: converters run once per distinct value of a batch, not once per record.

A program's ``derived`` list (``ottl.compiler.program.Derived``) names converter calls with one
argument that varies by record. Before the VM runs, ``DerivedColumns.compute(batch)`` reads that
argument's column, finds its distinct values (``numpy.unique``), applies the reference
implementation of the converter to each distinct value once, and spreads the results back over
the records as a (tags, values) column the program's ``LOAD_DERIVED`` reads. So a regular
expression, a case conversion or a hash runs once per distinct string of the batch. An
expression the VM has no instruction for (``Derived.expression``: arithmetic that may fail or
meet doubles, keys into a nested value) is computed the same way, over its paths and calls.

A map or list result (``Split``, ``ParseJSON``, ``ParseKeyValue``, ...) that a ``set`` stores
(``Derived.stored``) is stored once per distinct value as the setter stores it, as a run of the
batch's value pool (the layout of a decoded array or kvlist), and every record with that value
points at it; one that only another converter reads (``Len(Split(...))``) is handed to it as
the object itself (``TAG_OBJECT``). A whole attributes map as an argument is built per record,
or per resource or scope (``map_column``). A result the VM cannot hold (a map or list the VM
would read, a time, a duration, an id), or a converter that fails on some value raises
``NeedsReference``: the caller then runs the
configuration through the reference evaluator, which gives the exact result, errors and error
modes included.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, NamedTuple, Optional

import numpy as np

from ottl import _vm
from ottl._batch import (
    TAG_ABSENT,
    TAG_ARRAY,
    TAG_BOOL,
    TAG_BYTES,
    TAG_DOUBLE,
    TAG_EMPTY,
    TAG_INT,
    TAG_KVLIST,
    TAG_NONE,
    TAG_STRING,
)
from ottl.compiler.opcodes import FIELDS
from ottl.compiler.program import TAG_SPAN_ID, TAG_TRACE_ID, Derived, Program
from ottl.derive_vector import (
    TAG_LOCAL_TIME,
    TAG_TIME,
    count_plan,
    floor_times,
    time_units,
    vector_plan,
)
from ottl.eval.batch_model import attributes_from_otlp, span_from_batch, value_from_otlp
from ottl.eval.errors import OttlRuntimeError
from ottl.eval.otlp_json import OtlpFormatError
from ottl.eval.funcs.time import local_zone, now
from ottl.eval.gotext import pvalue_as_string
from ottl.eval.interpreter import (
    ABSENT,
    compile_call_of,
    compile_edit_of,
    compile_expression_of,
)
from ottl.eval.paths import store_value
from ottl.eval.values import PMap, PSlice, SpanID, Time, TraceID
from ottl.lang.errors import OttlError

_INT64 = (-(2**63), 2**63 - 1)

_PAIR = np.dtype([("tag", np.uint8), ("val", np.int64)])

# Parts that are a whole attributes map, which no column holds: the payload says whose map it
# is, and the reference gets the map built from the batch. (Past the batch's tags, which end
# at 15; below 32: see _codes.)
TAG_RECORD_MAP = 16  # payload: the record's row
TAG_PARENT_MAP = 17  # payload: the resource's row, or the scope's row | _SCOPE_BIT
# A result no column holds (a list, a map, a time) of a converter whose column is only another
# derived column's part (``Len(Split(...))``): the payload indexes the run's objects, and the
# outer call gets the very value the reference would pass it. The VM reads nil there.
TAG_OBJECT = 18
# A span's events or links as a part: the payload is the span's row.
TAG_EVENTS = 20
TAG_LINKS = 21
_SCOPE_BIT = 1 << 32


class NeedsReference(Exception):
    """This batch needs the reference evaluator (the reason says why)."""


class Failure(NamedTuple):
    """A converter (or one-value editor) whose result a set stores failed: on the records
    ``rows`` (a bool mask), with ``error``, the reference's own exception."""

    rows: np.ndarray
    error: Exception


class DerivedColumns:
    """The derived columns of one program, computed per batch."""

    def __init__(self, program: Program, gates: frozenset[str] = frozenset()) -> None:
        self.program = program
        self._fns: list[Callable[..., Any]] = [
            pvalue_as_string if d.body_string
            else compile_edit_of(d.call, program.source, gates, d.leaves[1:], d.target_keys)
            if d.editor
            else compile_expression_of(d.call, len(d.sources), program.source, gates)
            if d.expression else compile_call_of(d.call, d.leaves, program.source, gates)
            for d in program.derived
        ]
        # per column, per part: the unit its times may be floored to (1: none)
        self._units = [time_units(d.call, len(d.sources)) if d.expression
                       else [1] * len(d.sources) for d in program.derived]
        self._plans = [vector_plan(d.call) if d.expression and not d.as_time
                       else _strings_as_they_are if d.body_string
                       else count_plan(d) for d in program.derived]
        # Columns whose failures a set judges: those a set stores, and the parts of those
        # (a part that fails makes the value fail). Parts come before their call.
        self._set_only = [False] * len(program.derived)
        for slot in reversed(range(len(program.derived))):
            spec = program.derived[slot]
            if spec.stored or spec.editor or spec.set_failures or self._set_only[slot]:
                self._set_only[slot] = True
                for source in spec.sources:
                    if source[0] == "derived":
                        self._set_only[source[1]] = True
        # Columns only other columns read (an inner converter: each call is its own column).
        self._part_only = [False] * len(program.derived)
        for spec in program.derived:
            for source in spec.sources:
                if source[0] == "derived":
                    self._part_only[source[1]] = True

    def __len__(self) -> int:
        return len(self._fns)

    def compute(self, batch: Any, failures: Optional[list[Failure]] = None,
                every: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
        """The derived columns over the batch's records. With ``failures`` (a list), where the
        value a set stores fails (its call, or a call among its parts: the first in argument
        order, as the reference evaluates them), the column holds nil (a set of nil writes
        nothing, as a failed statement does) and the failure is appended; otherwise, and for
        any other column, a failure raises ``NeedsReference``. With ``every``, any column's
        failure is handled so (a condition's caller then decides those records another way)."""
        columns: list[tuple[np.ndarray, np.ndarray]] = []
        objects: list[Any] = []  # the TAG_OBJECT values of part-only columns
        errors: list[Exception] = []
        row_errors: list[Optional[np.ndarray]] = []  # per column: error index per row, -1 none
        for slot, (spec, fn) in enumerate(zip(self.program.derived, self._fns)):
            tolerant = failures is not None and (every or self._set_only[slot])
            parts = []
            inherited: Optional[np.ndarray] = None
            for source in spec.sources:
                if source[0] == "derived":
                    parts.append(columns[source[1]])
                    part_errors = row_errors[source[1]]
                    if part_errors is not None:
                        if inherited is None:
                            inherited = part_errors.copy()
                        else:
                            first = inherited < 0
                            inherited[first] = part_errors[first]
                elif source[0] == "list":  # a span's events or links, built per span
                    tag = TAG_EVENTS if source[1] == "events" else TAG_LINKS
                    parts.append((np.full(len(batch), tag, np.uint8),
                                  np.arange(len(batch), dtype=np.int64)))
                elif source[0] == "now":  # Now(): one instant for the whole batch
                    instant = now()
                    n = len(batch)
                    parts.append((np.full(n, TAG_TIME if instant.tz is None else TAG_LOCAL_TIME,
                                          np.uint8), np.full(n, instant.ns, np.int64)))
                elif source[3:] == ("time",):  # a record's time: its nanoseconds' column
                    _, nanos = _vm.column(batch, source[1])
                    time = (np.full(len(nanos), TAG_TIME, np.uint8), nanos)
                    unit = self._units[slot][len(parts)]
                    parts.append(time if unit == 1 else floor_times(time, unit))
                elif source[2] is None and FIELDS[source[1]].tag == "MAP":  # a whole map
                    parts.append(map_column(batch, source[1]))
                else:
                    _, field, key = source
                    # an expression follows keys into an attribute's value: where the key is
                    # missing it reads nil, where it has no value it fails (TAG_ABSENT tells)
                    absent = (spec.expression or bool(spec.target_keys)) and key is not None
                    parts.append(_vm.column(batch, field, key, absent))
            plan = self._plans[slot]
            keep = objects if self._part_only[slot] else None
            if plan is None:
                result_pairs, row_error = _per_distinct(batch, spec, fn, parts, tolerant, errors,
                                                        objects, keep)
            else:  # over whole columns (derive_vector); the rows it leaves, as above
                tags, vals, left = plan(batch, parts)
                result_pairs = np.empty(len(tags), dtype=_PAIR)
                result_pairs["tag"], result_pairs["val"] = tags, vals
                row_error = None
                if left.any():
                    pairs, errs = _per_distinct(batch, spec, fn, [(t[left], v[left])
                                                                  for t, v in parts],
                                                tolerant, errors, objects, keep)
                    result_pairs[left] = pairs
                    if errs is not None:
                        row_error = np.full(len(tags), -1, dtype=np.int64)
                        row_error[left] = errs
            if spec.strings_only:  # anything but a string writes nothing there
                result_pairs["tag"][result_pairs["tag"] != TAG_STRING] = TAG_NONE
            if inherited is not None:  # a part failed first: its error is the value's
                row_error = inherited if row_error is None else np.where(
                    inherited >= 0, inherited, row_error)
                result_pairs["tag"][inherited >= 0] = TAG_NONE
            row_errors.append(row_error)
            if row_error is not None and failures is not None and \
                    (spec.stored or spec.editor or spec.set_failures or every):
                for index in np.unique(row_error[row_error >= 0]).tolist():
                    failures.append(Failure(row_error == index, errors[index]))
            columns.append((np.ascontiguousarray(result_pairs["tag"]),
                            np.ascontiguousarray(result_pairs["val"])))
        if not objects:
            return columns
        return [(np.where(tags == TAG_OBJECT, TAG_NONE, tags).astype(np.uint8), vals)
                if only else (tags, vals) for (tags, vals), only in zip(columns, self._part_only)]


def _per_distinct(batch: Any, spec: Derived, fn: Callable[..., Any],
                  parts: list[tuple[np.ndarray, np.ndarray]], tolerant: bool,
                  errors: list[Exception], objects: list[Any],
                  keep: Optional[list[Any]] = None) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """A column computed by the reference once per distinct combination of its parts' values:
    (tag, val) pairs per row, and per row the index in ``errors`` of its failure (-1: none;
    None when nothing failed). A failure appends to ``errors`` where ``tolerant``, and raises
    ``NeedsReference`` otherwise. Parts tagged TAG_OBJECT are ``objects``; given ``keep`` (that
    list), a result no column holds is appended to it instead of raising."""
    if spec.per_record:  # a new value per call (UUID): one call per record
        firsts = inverse = np.arange(len(batch), dtype=np.int64)
    else:
        firsts, inverse = _distinct_rows(parts, len(parts[0][0]) if parts else len(batch))
    out = np.empty(len(firsts), dtype=_PAIR)
    own = np.full(len(firsts), -1, dtype=np.int64)
    name = spec.name
    for i, row in enumerate(firsts.tolist()):
        args = [ABSENT if tags[row] == TAG_ABSENT
                else Time(int(vals[row]) % 2**64) if tags[row] == TAG_TIME
                else Time(int(vals[row]), local_zone()) if tags[row] == TAG_LOCAL_TIME
                else objects[int(vals[row])] if tags[row] == TAG_OBJECT
                else to_python(batch, int(tags[row]), int(vals[row]))
                for tags, vals in parts]
        try:
            result = fn(*args)
        except (OttlRuntimeError, OttlError) as exc:
            if not tolerant:
                raise NeedsReference(
                    f"{name} fails on a value of this batch: "
                    f"{exc.message if isinstance(exc, OttlError) else exc}") from None
            own[i] = len(errors)
            errors.append(exc)
            out[i] = (TAG_NONE, 0)
            continue
        if spec.boolean and not isinstance(result, bool):
            raise NeedsReference(f"{name} gave a {type(result).__name__} where a bool "
                                 "is needed")
        if spec.as_time:  # set into a time: its nanoseconds, as the setter writes them
            ns = result.ns % 2**64 if isinstance(result, Time) else None
            out[i] = (TAG_NONE, 0) if ns is None else (TAG_INT, ns - (ns >> 63 << 64))
            continue
        # an editor's result is what it sets: stored as its target's setter stores it
        try:
            out[i] = from_python(batch, name, result, spec.stored or spec.editor, spec.editor)
        except NeedsReference:
            if keep is None:
                raise
            out[i] = (TAG_OBJECT, len(keep))
            keep.append(result)
    return out[inverse], (own[inverse] if (own >= 0).any() else None)


def _strings_as_they_are(batch: Any, parts: list[tuple[np.ndarray, np.ndarray]]
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``log.body.string`` over whole columns: a string body is its own rendering; the other
    rows are left to the reference's rendering."""
    tags, vals = parts[0]
    left = tags != TAG_STRING
    return tags, np.where(left, 0, vals), left


def map_column(batch: Any, field: int) -> tuple[np.ndarray, np.ndarray]:
    """A whole attributes map as a part's column: whose map each record reads (its own, or
    its resource's or scope's, so that records of one parent share a value)."""
    n = len(batch)
    owner = FIELDS[field].context
    if FIELDS[field].signal != "*":
        return np.full(n, TAG_RECORD_MAP, np.uint8), np.arange(n, dtype=np.int64)
    rows = batch.column(owner).astype(np.int64)
    if owner == "scope":
        rows |= _SCOPE_BIT
    return np.full(n, TAG_PARENT_MAP, np.uint8), rows


def _codes(tags: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """Each row's value as a small int: equal (tag, payload) pairs get equal codes. (Payloads
    numbered first, then with the tag, which is below 32: two int sorts, where sorting the
    pairs as records takes numpy's slow generic comparison, ten times as long.)"""
    payload = np.unique(vals, return_inverse=True)[1].reshape(-1).astype(np.int64)
    return np.unique(payload * 32 + tags, return_inverse=True)[1].reshape(-1).astype(np.int64)


def _distinct_rows(parts: list[tuple[np.ndarray, np.ndarray]], n: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(the first row of each distinct combination of the parts' values, each row's index
    into those): the combinations are numbered one part at a time, so codes stay below the
    row count. No parts (a constant): one value for all ``n`` rows."""
    if not parts:
        return np.zeros(min(n, 1), np.int64), np.zeros(n, np.int64)
    code = _codes(*parts[0])
    for tags, vals in parts[1:]:
        nxt = _codes(tags, vals)
        code = np.unique(code * (int(nxt.max(initial=0)) + 1) + nxt, return_inverse=True)[1]
        code = code.reshape(-1).astype(np.int64)
    distinct, firsts, inverse = np.unique(code, return_index=True, return_inverse=True)
    return firsts, inverse.reshape(-1)


def to_python(batch: Any, tag: int, val: int) -> Any:
    """A batch value (tag, payload) as the reference evaluator holds it."""
    if tag == TAG_STRING:
        return batch.string(val)
    if tag == TAG_INT:
        return val
    if tag == TAG_DOUBLE:
        return struct.unpack("<d", struct.pack("<q", val))[0]
    if tag == TAG_BOOL:
        return bool(val)
    if tag == TAG_BYTES:
        return batch.string_bytes(val)
    if tag in (TAG_NONE, TAG_EMPTY):
        return None
    if tag in (TAG_ARRAY, TAG_KVLIST):
        return value_from_otlp(batch.value(tag, val))
    if tag == TAG_TRACE_ID:
        return TraceID(batch.string_bytes(val))
    if tag == TAG_SPAN_ID:
        return SpanID(batch.string_bytes(val))
    if tag in (TAG_EVENTS, TAG_LINKS):
        try:
            span = span_from_batch(batch, val, whole=tag == TAG_LINKS)
        except OtlpFormatError as exc:  # an id the evaluator's model cannot hold
            raise NeedsReference(str(exc)) from None
        return span.events if tag == TAG_EVENTS else span.links
    if tag == TAG_RECORD_MAP:
        return attributes_from_otlp(batch._attributes(val))
    if tag == TAG_PARENT_MAP:
        owner = "scope" if val & _SCOPE_BIT else "resource"
        return attributes_from_otlp(batch._parent_attributes(owner, val & (_SCOPE_BIT - 1)))
    raise NeedsReference(f"a converter argument with value tag {tag}")


def from_python(batch: Any, name: str, value: Any, stored: bool = False,
                written: bool = False) -> tuple[int, int]:
    """A reference value as a (tag, payload) pair of the batch (strings interned; with
    ``stored``, a map or list as the setter stores it, in the value pool; ``written``: the
    value is what an editor wrote, a map or list already in the setter's form); raises
    ``NeedsReference`` (naming ``name``) for a value the VM cannot hold."""
    if stored and isinstance(value, (list, dict, PMap, PSlice)):
        # Only a set stores this column: the setter's copy, in the batch's value pool.
        pvalue = value if written and isinstance(value, (PMap, PSlice)) else store_value(value)
        if not isinstance(pvalue, (PMap, PSlice)):
            raise NeedsReference(f"{name} gave a {type(value).__name__} the setter cannot store")
        try:
            return _vm.store_value(batch, pvalue)
        except TypeError as exc:
            raise NeedsReference(f"{name} gave {exc}") from None
    if value is None:
        return TAG_NONE, 0
    if isinstance(value, bool):
        return TAG_BOOL, int(value)
    if type(value) is int:
        if not _INT64[0] <= value <= _INT64[1]:
            raise NeedsReference(f"{name} gave an int outside int64")
        return TAG_INT, value
    if type(value) is float:
        return TAG_DOUBLE, struct.unpack("<q", struct.pack("<d", value))[0]
    if type(value) is str:
        return TAG_STRING, _vm.intern(batch, value.encode("utf-8", "surrogatepass"))
    if type(value) is bytes:
        return TAG_BYTES, _vm.intern(batch, value)
    if type(value) in (TraceID, SpanID):  # stored as its bytes, as the setter stores it
        tag = TAG_BYTES if stored else TAG_TRACE_ID if type(value) is TraceID else TAG_SPAN_ID
        return tag, _vm.intern(batch, bytes(value))
    raise NeedsReference(f"{name} gave a {type(value).__name__}, which the VM cannot hold")

