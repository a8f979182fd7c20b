"""A statement's ``set`` of its record's trace, span or parent span id, on the fast engine.

``set(log.trace_id.string, log.attributes["trace_id"])`` is how logs are tied to their traces.
The program gives where the statement runs (``Program.id_write``); ``IdWriter`` takes each
record's value (read from a path as a column, from a derived column, or a constant) as that
path's setter does:

- an id path (``span.trace_id``) takes an id of its own type (a ``TraceID`` for a trace id, a
  ``SpanID`` for a span id, as Go's setter checks the type) and leaves the field as it is for
  anything else;
- a ``.string`` path takes a string, parsed as hex of exactly the id's width, which fails on
  anything else (the reference's error, at the target path: the error mode judges the record,
  which keeps its id); any other type leaves the field as it is;
- nil writes nothing (``set`` of nil), and an all-zero id clears the field (the reference's
  empty id, which OTLP leaves out).

Ids and well-formed hex are taken over whole columns (the strings' bytes gathered from the
batch's string table, hex digits decoded with a table); a string that is not exactly an id's
hex goes through the reference's parser, once per distinct string, for its error. Then
``ottl._vm.set_ids`` writes the ids in one call and marks the records whose id changed, so
only those are re-encoded. A record's id is its own: the statement's order over the records
does not matter, unlike a write to a parent (``ottl.parent_writes``).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ottl import _vm
from ottl._batch import TAG_STRING
from ottl.compiler.opcodes import FIELDS
from ottl.compiler.program import TAG_SPAN_ID, TAG_TRACE_ID, IdWrite
from ottl.derive import NeedsReference, from_python, to_python
from ottl.eval.errors import EvalError, OttlRuntimeError
from ottl.eval.paths import parse_hex_id
from ottl.eval.values import SpanID, TraceID

# The `present` bits of ids of an unusual length (kept aside by the decoder).
IRREGULAR = 16 | 32 | 64

# Byte -> its hex digit's value, 255 for a byte that is not a hex digit.
_NIBBLE = np.full(256, 255, dtype=np.uint8)
for _digit in b"0123456789":
    _NIBBLE[_digit] = _digit - ord("0")
for _digit in b"abcdef":
    _NIBBLE[_digit] = _digit - ord("a") + 10
    _NIBBLE[_digit - 32] = _digit - ord("a") + 10  # A-F


class IdWriter:
    """One statement's id write (``Program.id_write``); ``text`` is the statement's."""

    def __init__(self, write: IdWrite, text: str) -> None:
        self.write = write
        self.text = text
        spec = FIELDS[write.field]
        self._hex = spec.ctype == "hex"
        self._width = 16 if "TRACE_ID" in spec.name else 8
        self._type = TraceID if self._width == 16 else SpanID
        # the tag of a value the setter may take
        self._tag = TAG_STRING if self._hex else TAG_TRACE_ID if self._width == 16 else TAG_SPAN_ID

    def id_of(self, value: Any) -> Optional[bytes]:
        """What the path's setter makes of ``value``: the id's bytes, or None where it leaves
        the field as it is. Raises ``OttlRuntimeError`` where it fails (hex that is not an id)."""
        if self._hex:
            if not isinstance(value, str):
                return None
            try:
                return parse_hex_id(value, self._width)
            except EvalError as exc:
                raise OttlRuntimeError(str(exc), self.text, self.write.span) from None
        return bytes(value) if type(value) is self._type else None

    def run(self, batch: Any, ran: np.ndarray, derived: Sequence[Any],
            errors: Optional[list[tuple[int, Exception]]] = None) -> np.ndarray:
        """Writes the ids of the records where the statement ran; returns where it ran without
        failing. A value that fails counts its records into ``errors`` (they keep their ids),
        or, without that list, raises ``NeedsReference``."""
        w = self.write
        rows = np.flatnonzero(ran)
        if not len(rows):
            return ran
        if (batch.column("present") & IRREGULAR).any():
            # an id of an unusual length, which the reference's model refuses with the batch
            raise NeedsReference("a record of this batch has an id of an unusual length")
        if w.source is not None:
            tags, vals = _vm.column(batch, *w.source)
        elif w.slot >= 0:
            tags, vals = derived[w.slot]
        else:  # a constant: the same value in every row
            tag, val = from_python(batch, "set", w.const, False)
            tags, vals = np.full(len(ran), tag, np.uint8), np.full(len(ran), val, np.int64)
        tags, vals = tags[rows], vals[rows]
        ids, good, failed = self._ids(batch, tags == self._tag, vals, errors)
        if good.any():
            _vm.set_ids(batch, w.field, rows[good], ids[good].tobytes())
        if failed.any():
            ran = ran.copy()
            ran[rows[failed]] = False
        return ran

    def _ids(self, batch: Any, taken: np.ndarray, sids: np.ndarray,
             errors: Optional[list[tuple[int, Exception]]]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For the rows whose value the setter takes (``taken``: strings, or ids of the path's
        type; ``sids`` their string ids): (each row's id bytes, where one is written, where
        the value failed)."""
        n, width = len(taken), self._width
        ids = np.zeros((n, width), dtype=np.uint8)
        good = np.zeros(n, dtype=np.bool_)
        failed = np.zeros(n, dtype=np.bool_)
        if not taken.any():
            return ids, good, failed
        distinct, which = np.unique(sids[taken], return_inverse=True)
        which = which.reshape(-1)
        offsets = batch.column("strings.offsets")
        data = batch.column("strings.bytes")
        starts = offsets[distinct].astype(np.int64)
        lengths = offsets[distinct + 1].astype(np.int64) - starts
        need = 2 * width if self._hex else width
        parsed = np.zeros((len(distinct), width), dtype=np.uint8)
        ok = lengths == need
        raw = data[starts[ok, None] + np.arange(need)]
        if self._hex:  # exactly 2 * width hex digits, either case: decoded here
            nibbles = _NIBBLE[raw]
            digits = (nibbles != 255).all(axis=1)
            decoded = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
            index = np.flatnonzero(ok)
            ok[index[~digits]] = False
            parsed[index[digits]] = decoded[digits]
        else:  # an id value holds its bytes
            parsed[ok] = raw
        value_failed = np.zeros(len(distinct), dtype=np.bool_)
        for k in np.flatnonzero(~ok).tolist():  # the reference's parser, for its error
            try:
                parsed_id = self.id_of(to_python(batch, int(self._tag), int(distinct[k])))
            except OttlRuntimeError as exc:
                count = int((which == k).sum())
                if errors is None:
                    raise NeedsReference(f"'{self.text}' fails on {count} record(s) of this "
                                         f"batch: {exc.message}") from None
                errors.append((count, exc))
                value_failed[k] = True
                continue
            if parsed_id is not None:
                parsed[k] = np.frombuffer(parsed_id, dtype=np.uint8)
                ok[k] = True
        rows = np.flatnonzero(taken)
        ids[rows] = parsed[which]
        good[rows] = ok[which]
        failed[rows] = value_failed[which]
        return ids, good, failed
