"""A record statement's write to its resource or scope, on the fast engine.

The reference runs a span (or log) group record by record, so a statement that sets
``resource.attributes["k"]`` leaves each resource the value its last record wrote (a nil value
writing nothing, as ``set`` of nil does), and another editor with constant arguments
(``delete_key(resource.attributes, "k")``) edits each parent once per record it ran on. When
nothing else in the group reads what is written (``ottl.pipeline`` checks its other statements
and its conditions; the compiler checks the statement itself), that is all there is to it: the
program says where the statement ran (``Program.parent_write``) and ``ParentWriter`` writes
each parent once (``ottl._vm.set_parent``): a set with the value of its last record that wrote
one (a derived column), an edit applied by the reference as many times as records ran it,
stopping once the parent no longer changes.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ottl import _vm
from ottl._batch import TAG_NONE, SpanBatch
from ottl.compiler.program import ParentWrite
from ottl.derive import NeedsReference, to_python
from ottl.eval.batch_model import attributes_from_otlp
from ottl.eval.interpreter import compile_statement as reference_statement
from ottl.eval.model import LogRecord, Span, TransformContext
from ottl.eval.paths import UNSTORABLE, store_value
from ottl.lang.errors import OttlError
from ottl.parents import ParentRows


class ParentWriter:
    """One statement's parent write (``Program.parent_write``)."""

    def __init__(self, write: ParentWrite, gates: frozenset[str] = frozenset()) -> None:
        self.write = write
        self._edit = None if write.edit is None else reference_statement(write.edit, gates)

    def run(self, batch: Any, ran: np.ndarray, derived: Sequence[Any],
            errors: Optional[list[tuple[int, Exception]]] = None
            ) -> tuple[np.ndarray, np.ndarray]:
        """Writes the parents of the records where the statement ran. Returns (where it ran
        without failing, a mask over the parents' table of those written). An edit failing on
        a parent fails on its records from there on: counted into ``errors``, or, without it,
        ``NeedsReference``."""
        if self._edit is not None:
            return self._apply_edit(batch, ran, errors)
        return ran, self._set(batch, ran, derived)

    def _set(self, batch: Any, ran: np.ndarray, derived: Sequence[Any]) -> np.ndarray:
        """Each parent gets the value of the last of its records (in batch order, which is the
        reference's) where the statement ran with a value that is not nil."""
        w = self.write
        tags, vals = derived[w.slot]
        owners = batch.column(w.context).astype(np.int64)
        # the parents' table size from a column: building every group only to count them
        # would cost each batch what the writes themselves cost
        written = np.zeros(len(batch.column(f"{w.context}s.present")), dtype=np.bool_)
        rows = np.flatnonzero(ran & (tags != TAG_NONE))
        if not len(rows):
            return written
        # the last row of each parent: the first of each in reversed order
        backwards = rows[::-1]
        parents, first = np.unique(owners[backwards], return_index=True)
        groups = batch.resources() if w.context == "resource" else batch.scopes()
        for parent, row in zip(parents.tolist(), backwards[first].tolist()):
            group = groups[parent]
            held = group.get(w.context) or {}
            attributes = attributes_from_otlp(held.get("attributes", []))
            value = store_value(to_python(batch, int(tags[row]), int(vals[row])))
            if value is UNSTORABLE:
                continue  # the reference's setter leaves the attribute as it is
            attributes[w.key] = value
            names = {"name": held.get("name", ""), "version": held.get("version", "")} \
                if w.context == "scope" else {}
            try:
                _vm.set_parent(batch, w.context, parent, attributes,
                               held.get("dropped_attributes_count", 0), group["schema_url"],
                               **names)
            except (TypeError, OverflowError) as exc:
                raise NeedsReference(f"a {w.context} attribute set to {exc}") from None
            written[parent] = True
        return written

    def _apply_edit(self, batch: Any, ran: np.ndarray,
                    errors: Optional[list[tuple[int, Exception]]]
                    ) -> tuple[np.ndarray, np.ndarray]:
        w = self.write
        assert self._edit is not None
        rows = ParentRows(batch, scopes=w.context == "scope")
        owners = batch.column(w.context).astype(np.int64)
        wrappers = rows.resources if w.context == "resource" else rows.scopes
        counts = np.bincount(owners[ran], minlength=len(wrappers))
        record = Span() if isinstance(batch, SpanBatch) else LogRecord()
        ran = ran.copy()
        for parent in np.flatnonzero(counts).tolist():
            wrapper = wrappers[parent]
            resource = wrapper if w.context == "resource" else \
                rows.resources[int(rows.scope_owner[parent])]
            scope = wrapper if w.context == "scope" else None
            ctx = TransformContext(self._edit.source.context, resource, scope,
                                   **{"span" if isinstance(batch, SpanBatch) else "log": record})
            state = ParentRows.state(w.context, wrapper)
            for done in range(int(counts[parent])):
                try:
                    self._edit.execute(ctx)
                except OttlError as exc:  # the same state fails every record left
                    failed = int(counts[parent]) - done
                    if errors is None:
                        raise NeedsReference(f"'{self._edit.text}' fails on {failed} "
                                             f"record(s) of this batch: {exc}") from None
                    errors.append((failed, exc))
                    ran[np.flatnonzero(ran & (owners == parent))[done:]] = False
                    break
                after = ParentRows.state(w.context, wrapper)
                if after == state:  # a fixed point: the records left change nothing
                    break
                state = after
        rows.write_back()
        return ran, rows.written[w.context]
