"""A statement's ``set`` of its record's trace, span or parent span id, on the fast engine.

``set(log.trace_id.string, log.attributes["trace_id"])`` is how logs are tied to their traces.
The program gives where the statement runs (``Program.id_write``); ``IdWriter`` takes each
record's value as that path's setter does, once per distinct value of the batch:

- an id path (``span.trace_id``) takes an id of its own type (a ``TraceID`` for a trace id, a
  ``SpanID`` for a span id, as Go's setter checks the type) and leaves the field as it is for
  anything else;
- a ``.string`` path takes a string, parsed as hex of exactly the id's width, which fails on
  anything else (the reference's error, at the target path: the error mode judges the record,
  which keeps its id); any other type leaves the field as it is;
- nil writes nothing (``set`` of nil), and an all-zero id clears the field (the reference's
  empty id, which OTLP leaves out).

Then ``ottl._vm.set_ids`` writes the ids in one call and marks the records whose id changed,
so only those are re-encoded. A record's id is its own: the statement's order over the
records does not matter, unlike a write to a parent (``ottl.parent_writes``).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ottl import _vm
from ottl.compiler.opcodes import FIELDS
from ottl.compiler.program import IdWrite
from ottl.derive import NeedsReference, to_python
from ottl.eval.errors import EvalError, OttlRuntimeError
from ottl.eval.paths import parse_hex_id
from ottl.eval.values import SpanID, TraceID


# The `present` bits of ids of an unusual length (kept aside by the decoder).
IRREGULAR = 16 | 32 | 64


class IdWriter:
    """One statement's id write (``Program.id_write``); ``text`` is the statement's."""

    def __init__(self, write: IdWrite, text: str) -> None:
        self.write = write
        self.text = text
        spec = FIELDS[write.field]
        self._hex = spec.ctype == "hex"
        self._width = 16 if "TRACE_ID" in spec.name else 8
        self._type = TraceID if self._width == 16 else SpanID

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
        # each row's index into the distinct values
        if w.slot < 0:  # a constant: one value for every record
            which = np.zeros(len(rows), dtype=np.int64)
            values = [w.const]
        else:
            tags, vals = derived[w.slot]
            pairs = np.stack([tags[rows].astype(np.int64), vals[rows]], axis=1)
            distinct, which = np.unique(pairs, axis=0, return_inverse=True)
            which = which.reshape(-1)
            values = [to_python(batch, int(t), int(v)) for t, v in distinct.tolist()]
        ids: list[Optional[bytes]] = []
        failed = np.zeros(len(rows), dtype=np.bool_)
        for i, value in enumerate(values):
            try:
                ids.append(self.id_of(value))
            except OttlRuntimeError as exc:
                ids.append(None)
                hit = which == i
                if errors is None:
                    raise NeedsReference(f"'{self.text}' fails on {int(hit.sum())} record(s) "
                                         f"of this batch: {exc.message}") from None
                errors.append((int(hit.sum()), exc))
                failed |= hit
        written = [(int(row), ids[k]) for row, k in zip(rows.tolist(), which.tolist())
                   if ids[k] is not None]
        if written:
            _vm.set_ids(batch, w.field, np.array([r for r, _ in written], dtype=np.int64),
                        b"".join(i for _, i in written))  # type: ignore[misc]
        if failed.any():
            ran = ran.copy()
            ran[rows[failed]] = False
        return ran
