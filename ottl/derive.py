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
points at it. A result the VM cannot hold (a map or list used otherwise, a time, a duration, an
id), or a converter that fails on some value raises ``NeedsReference``: the caller then runs the
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
from ottl.compiler.program import Derived, Program
from ottl.derive_vector import TAG_TIME, vector_plan
from ottl.eval.batch_model import value_from_otlp
from ottl.eval.errors import OttlRuntimeError
from ottl.eval.interpreter import (
    ABSENT,
    compile_call_of,
    compile_edit_of,
    compile_expression_of,
)
from ottl.eval.paths import store_value
from ottl.eval.values import PMap, PSlice, Time
from ottl.lang.errors import OttlError

_INT64 = (-(2**63), 2**63 - 1)

_PAIR = np.dtype([("tag", np.uint8), ("val", np.int64)])


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
            compile_edit_of(d.call, program.source, gates, d.leaves[1:], d.target_keys)
            if d.editor
            else compile_expression_of(d.call, len(d.sources), program.source, gates)
            if d.expression else compile_call_of(d.call, d.leaves, program.source, gates)
            for d in program.derived
        ]
        self._plans = [vector_plan(d.call) if d.expression and not d.as_time else None
                       for d in program.derived]
        # Columns whose failures a set judges: those a set stores, and the parts of those
        # (a part that fails makes the value fail). Parts come before their call.
        self._set_only = [False] * len(program.derived)
        for slot in reversed(range(len(program.derived))):
            spec = program.derived[slot]
            if spec.stored or spec.editor or self._set_only[slot]:
                self._set_only[slot] = True
                for source in spec.sources:
                    if source[0] == "derived":
                        self._set_only[source[1]] = True

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
                elif source[3:] == ("time",):  # a record's time: its nanoseconds' column
                    _, nanos = _vm.column(batch, source[1])
                    parts.append((np.full(len(nanos), TAG_TIME, np.uint8), nanos))
                else:
                    _, field, key = source
                    # an expression follows keys into an attribute's value: where the key is
                    # missing it reads nil, where it has no value it fails (TAG_ABSENT tells)
                    absent = (spec.expression or bool(spec.target_keys)) and key is not None
                    parts.append(_vm.column(batch, field, key, absent))
            plan = self._plans[slot]
            if plan is None:
                result_pairs, row_error = _per_distinct(batch, spec, fn, parts, tolerant, errors)
            else:  # over whole columns (derive_vector); the rows it leaves, as above
                tags, vals, left = plan(batch, parts)
                result_pairs = np.empty(len(tags), dtype=_PAIR)
                result_pairs["tag"], result_pairs["val"] = tags, vals
                row_error = None
                if left.any():
                    pairs, errs = _per_distinct(batch, spec, fn, [(t[left], v[left])
                                                                  for t, v in parts],
                                                tolerant, errors)
                    result_pairs[left] = pairs
                    if errs is not None:
                        row_error = np.full(len(tags), -1, dtype=np.int64)
                        row_error[left] = errs
            if inherited is not None:  # a part failed first: its error is the value's
                row_error = inherited if row_error is None else np.where(
                    inherited >= 0, inherited, row_error)
                result_pairs["tag"][inherited >= 0] = TAG_NONE
            row_errors.append(row_error)
            if row_error is not None and (spec.stored or spec.editor or every) and \
                    failures is not None:
                for index in np.unique(row_error[row_error >= 0]).tolist():
                    failures.append(Failure(row_error == index, errors[index]))
            columns.append((np.ascontiguousarray(result_pairs["tag"]),
                            np.ascontiguousarray(result_pairs["val"])))
        return columns


def _per_distinct(batch: Any, spec: Derived, fn: Callable[..., Any],
                  parts: list[tuple[np.ndarray, np.ndarray]], tolerant: bool,
                  errors: list[Exception]) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """A column computed by the reference once per distinct combination of its parts' values:
    (tag, val) pairs per row, and per row the index in ``errors`` of its failure (-1: none;
    None when nothing failed). A failure appends to ``errors`` where ``tolerant``, and raises
    ``NeedsReference`` otherwise."""
    firsts, inverse = _distinct_rows(parts, len(parts[0][0]) if parts else len(batch))
    out = np.empty(len(firsts), dtype=_PAIR)
    own = np.full(len(firsts), -1, dtype=np.int64)
    name = spec.name
    for i, row in enumerate(firsts.tolist()):
        args = [ABSENT if tags[row] == TAG_ABSENT
                else Time(int(vals[row]) % 2**64) if tags[row] == TAG_TIME
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
        out[i] = from_python(batch, name, result, spec.stored or spec.editor)
    return out[inverse], (own[inverse] if (own >= 0).any() else None)


def _codes(tags: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """Each row's value as a small int: equal (tag, payload) pairs get equal codes. (Payloads
    numbered first, then with the tag, which is below 16: two int sorts, where sorting the
    pairs as records takes numpy's slow generic comparison, ten times as long.)"""
    payload = np.unique(vals, return_inverse=True)[1].reshape(-1).astype(np.int64)
    return np.unique(payload * 16 + tags, return_inverse=True)[1].reshape(-1).astype(np.int64)


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
    raise NeedsReference(f"a converter argument with value tag {tag}")


def from_python(batch: Any, name: str, value: Any, stored: bool = False) -> tuple[int, int]:
    """A reference value as a (tag, payload) pair of the batch (strings interned; with
    ``stored``, a map or list as the setter stores it, in the value pool); raises
    ``NeedsReference`` (naming ``name``) for a value the VM cannot hold."""
    if stored and isinstance(value, (list, dict, PMap, PSlice)):
        # Only a set stores this column: the setter's copy, in the batch's value pool.
        pvalue = store_value(value)
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
    raise NeedsReference(f"{name} gave a {type(value).__name__}, which the VM cannot hold")

